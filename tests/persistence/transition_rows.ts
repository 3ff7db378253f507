/** Shared test data for the transitions log tests (not a test file itself). */
import { toRfc3339 } from "../../src/core/report.ts";
import { type Transition, transitionId } from "../../src/core/alerts.ts";
import { BASE_MS, MINUTE_MS } from "./rows.ts";

/** Transition i: at i minutes after BASE_MS, for signal "alpha" (or `signal`) and a one-hour window. */
export function transition(i: number, overrides: Partial<Transition> = {}): Transition {
  const atMs = BASE_MS + i * MINUTE_MS;
  const signal = overrides.signal ?? "alpha";
  const windowSec = overrides.windowSec ?? 3600;
  const from = overrides.from ?? (i % 2 === 0 ? "low" : "medium");
  const to = overrides.to ?? (i % 2 === 0 ? "medium" : "low");
  return {
    id: transitionId({ signal, windowSec }, atMs, from, to),
    signal,
    windowSec,
    from,
    to,
    at: toRfc3339(atMs),
    pendingSince: toRfc3339(atMs - 5 * MINUTE_MS),
    n: 100 + i,
    mean: 0.5 + i / 1000,
    stdev: 0.01 * (i + 1),
    volatilityIndex: 0.02,
    rule: i % 2 === 0 ? "mean < 0.6 for 5m" : "recovered: mean ≥ 0.65",
    nearestBoundary: i % 3 === 0 ? null : {
      boundary: "medium",
      rule: "mean",
      changesAt: 0.6 + i / 100,
      direction: i % 2 === 0 ? "rise" : "fall",
      text: `rises to medium below ${0.6 + i / 100}`,
    },
    ...overrides,
  };
}
