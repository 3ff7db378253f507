import { deepEqual, equal, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { buildReport } from "../../src/core/report.ts";
import { rollingSeries } from "../../src/core/series.ts";
import { testConfig } from "../helpers.ts";

const T0 = Date.parse("2025-10-29T17:00:00Z");
const thresholds = testConfig().thresholds;

/** One point a minute for two hours before T0, but none in the last 20 minutes (stale at the newest ends). */
function store(): PointStore {
  const points = Array.from({ length: 100 }, (_, i) => ({
    signal: "alpha",
    ts: T0 - 20 * 60_000 - (99 - i) * 60_000,
    score: 80 + (i % 7),
  }));
  const held = new PointStore();
  held.apply(points);
  return held;
}

Deno.test("rollingSeries() gives each point the warnings /coherence/metrics gives at that end", () => {
  const held = store();
  const coverageStartMs = T0 - 119 * 60_000;
  const options = { windowSec: 1800, minSamples: 12, staleAfterSec: 600, coverageStartMs, thresholds };
  const points = rollingSeries(held, {
    ...options,
    signal: "alpha",
    fromMs: T0 - 130 * 60_000,
    toMs: T0,
    stepMs: 10 * 60_000,
  });
  equal(points.length, 14);
  for (const point of points) {
    const report = buildReport({
      ...options,
      signal: "alpha",
      endMs: point.endMs,
      stats: held.window("alpha", point.endMs - 1_800_000, point.endMs),
      source: "mock",
      engineVersion: "test",
    });
    deepEqual(point.warnings, report.warnings, `warnings at ${new Date(point.endMs).toISOString()}`);
  }
  const codes = new Set<string>(points.flatMap((p) => p.warnings.map((w) => w.code)));
  for (const code of ["window_exceeds_history", "no_data", "too_few_samples", "stale_data"]) {
    ok(codes.has(code), `the series shows ${code} somewhere`);
  }
  deepEqual(points[8].warnings, [], "a full, fresh window has none");
});
