/** Test helpers for alert delivery: transitions, a fake clock and sleep, a target that records, waiting. */
import { type Transition, transitionId } from "../../src/core/alerts.ts";
import type { RiskLevel } from "../../src/core/vocabulary.ts";
import type { DeliveryTarget, SendResult } from "../../src/alerts/target.ts";

export const T0 = Date.UTC(2026, 0, 1, 12);

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** The i-th transition of a key, a minute apart from `baseMs`; levels cycle low → medium → high → low… */
export function transition(i: number, overrides: Partial<Transition> = {}, baseMs = T0): Transition {
  const levels: RiskLevel[] = ["low", "medium", "high"];
  const from = overrides.from ?? levels[i % 3];
  const to = overrides.to ?? levels[(i + 1) % 3];
  const signal = overrides.signal ?? "alpha";
  const windowSec = overrides.windowSec ?? 3600;
  const atMs = overrides.at ? Date.parse(overrides.at) : baseMs + i * 60_000;
  return {
    id: transitionId({ signal, windowSec }, atMs, from, to),
    signal,
    windowSec,
    from,
    to,
    at: rfc3339(atMs),
    pendingSince: rfc3339(atMs - 120_000),
    n: 50,
    mean: to === "high" ? 55 : to === "medium" ? 70 : 90,
    stdev: 1,
    volatilityIndex: 0.01,
    rule: `mean below ${to === "high" ? 60 : 80}`,
    nearestBoundary: {
      boundary: "medium",
      rule: "mean",
      changesAt: 80,
      direction: "rise",
      text: "low when the mean rises above 80.00",
    },
    ...overrides,
  };
}

export function transitions(count: number, start = 0, baseMs = T0): Transition[] {
  return Array.from({ length: count }, (_, i) => transition(start + i, {}, baseMs));
}

/** `count` transitions a minute apart ending about now (for tests on the real clock: none is too old). */
export function recentTransitions(count: number): Transition[] {
  return transitions(count, 0, Math.floor(Date.now() / 1000) * 1000 - count * 60_000);
}

/**
 * A fake clock whose sleep records each wait, advances the clock by it and resolves on the next macrotask
 * (so nothing really waits); it rejects when the signal aborts, as `core/sleep.ts` does.
 */
export function fakeTime(startMs = T0 + 3600_000) {
  let nowMs = startMs;
  const waits: number[] = [];
  return {
    waits,
    now: () => nowMs,
    advance(ms: number) {
      nowMs += ms;
    },
    sleep(ms: number, signal?: AbortSignal): Promise<void> {
      waits.push(ms);
      nowMs += ms;
      return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }, 0);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
  };
}

/** A target that records every attempt's ids and answers with `answer` (default: acknowledged). */
export function recordingTarget(
  answer: (ids: string[], attempt: number) => SendResult | Promise<SendResult> = () => ({ ok: true }),
  { name = "webhook", url = "https://receiver.test:8443/hook", batchSize = 1 } = {},
) {
  const attempts: string[][] = [];
  const target: DeliveryTarget = {
    name,
    url,
    batchSize,
    send(batch) {
      const ids = batch.map((t) => t.id);
      attempts.push(ids);
      return Promise.resolve(answer(ids, attempts.length));
    },
  };
  return { target, attempts, ids: () => attempts.flat() };
}

/** Waits (macrotask by macrotask, at most ~10 s) until `done()` holds. */
export async function until(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
