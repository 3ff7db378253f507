import { deepEqual, equal, ok } from "node:assert/strict";
import jStat from "jstat";
import { backtest, etaSeconds, forecastBoundaries, forecastWindow } from "../../src/core/forecast.ts";
import { PointStore } from "../../src/core/point_store.ts";
import { DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";
import { mulberry32 } from "./support.ts";

const END = Date.parse("2025-10-29T17:00:00Z");
const studentTInv = (p: number, dof: number) => jStat.studentt.inv(p, dof);

function near(actual: number | null | undefined, expected: number, tol = 1e-9, label = "") {
  ok(
    actual != null && Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${label} ${actual} vs ${expected}`,
  );
}

/** The forecast of signal "a" over the window (end − w, end] at horizon h, as the predict route builds it. */
function forecastOf(store: PointStore, windowSec: number, horizonSec: number, endMs = END) {
  return forecastWindow(store, {
    signal: "a",
    endMs,
    windowSec,
    horizonSec,
    maxEtaSec: 30 * 86400,
    thresholds: DEFAULT_THRESHOLDS,
    studentTInv,
  }).forecast;
}

function storeOf(xs: number[], stepMs: number, endMs = END): PointStore {
  const store = new PointStore();
  const ts = xs.map((_, i) => endMs - (xs.length - 1 - i) * stepMs);
  store.applyColumns("a", Float64Array.from(ts), Float64Array.from(xs));
  return store;
}

// The worked example of docs/METRICS.md ("Forecast"): ten points 10 minutes apart, window 100 min, h = 1 h.
const EXAMPLE = [90, 89, 87, 88, 85, 84, 84, 82, 80, 81];

Deno.test("forecast() reproduces the hand-computed worked example of docs/METRICS.md", () => {
  const f = forecastOf(storeOf(EXAMPLE, 600_000), 6000, 3600);
  // Minutes from the first point: t̄ = 45, Stt = 8250 min², Stx = −910, Sxx = 106.
  near(f.slopePerHour, (-910 / 8250) * 60, 1e-12, "slope");
  const sse = 106 - (910 * 910) / 8250;
  near(f.slopeStderrPerHour, (Math.sqrt(sse / 8) / Math.sqrt(8250)) * 60, 1e-12, "stderr");
  near(f.r2, (910 * 910) / (8250 * 106), 1e-12, "r²");
  equal(f.significant, true);
  equal(f.tMeanMs, END - 45 * 60_000);
  near(f.leverSec, 55 * 60, 1e-12, "lever"); // end + h − w/2 − t̄ = 90 + 60 − 50 − 45 minutes
  near(f.projectedMean, 85 - (910 / 8250) * 55, 1e-12, "projected mean");
  near(f.projectedMeanInterval!.quantile, 2.306004, 1e-6, "t quantile, 8 dof");
  near(
    f.projectedMeanInterval!.high - f.projectedMean!,
    f.projectedMeanInterval!.quantile * (Math.sqrt(sse / 8) / Math.sqrt(8250)) * 55,
    1e-12,
    "half-width",
  );
  equal(f.currentRisk, "low");
  equal(f.predictedDriftRisk, "medium"); // 78.93 < 80
  // p0 = 85 + (910/8250)·5 = 85.5515…; medium when it falls below 80, high below 60 (minutes → seconds).
  const p0 = 85 + (910 / 8250) * 5;
  near(f.eta.medium!.seconds, ((p0 - 80) / (910 / 8250)) * 60, 1e-9, "eta medium");
  near(f.eta.high!.seconds, ((p0 - 60) / (910 / 8250)) * 60, 1e-9, "eta high");
  deepEqual(f.eta.low, { seconds: 0, atMs: END });
  deepEqual(f.warnings, []);
});

Deno.test("forecastBoundaries() takes the higher of the mean cut-off and σ / volatility cut-off", () => {
  const low = forecastBoundaries(10, DEFAULT_THRESHOLDS);
  deepEqual([low.high.value, low.high.definedBy, low.medium.value, low.medium.definedBy], [
    60,
    "mean",
    100,
    "volatility",
  ]);
  const wide = forecastBoundaries(20, DEFAULT_THRESHOLDS);
  deepEqual([wide.high.value, wide.high.definedBy, wide.medium.value], [80, "volatility", 200]);
  const none = forecastBoundaries(null, DEFAULT_THRESHOLDS);
  deepEqual([none.high.value, none.medium.value], [60, 80]);
});

Deno.test("etaSeconds() is the closed-form crossing, 0 when already there, null when never or beyond the limit", () => {
  const b = -1 / 60; // −60 points an hour
  equal(etaSeconds("low", 90, b, 60, 80, 1e9), 0);
  equal(etaSeconds("medium", 90, b, 60, 80, 1e9), 600);
  equal(etaSeconds("high", 90, b, 60, 80, 1e9), 1800);
  equal(etaSeconds("high", 90, b, 60, 80, 1799), null);
  equal(etaSeconds("low", 90, -b, 60, 80, 1e9), 0);
  equal(etaSeconds("high", 90, -b, 60, 80, 1e9), null); // rising: never high
  equal(etaSeconds("low", 50, -b, 60, 80, 1e9), 1800);
  equal(etaSeconds("medium", 50, -b, 60, 80, 1e9), 600);
  equal(etaSeconds("medium", 70, 0, 60, 80, 1e9), 0);
  equal(etaSeconds("low", 70, 0, 60, 80, 1e9), null);
});

Deno.test("forecast() is flat with trend_too_few_points below 10 points", () => {
  const f = forecastOf(storeOf([90, 80, 70, 60, 50], 60_000), 3600, 3600);
  equal(f.significant, false);
  equal(f.projectedMean, 70);
  equal(f.predictedDriftRisk, f.currentRisk);
  deepEqual(f.warnings.map((w) => w.code), ["trend_too_few_points"]);
  equal(f.eta.high, null);
  ok(f.slopePerHour! < 0); // still reported
});

Deno.test("forecast() is flat with trend_not_significant when |t| < 2", () => {
  const xs = [85, 90, 84, 91, 86, 89, 85, 90, 86, 88, 85, 90];
  const f = forecastOf(storeOf(xs, 60_000), 3600, 3600);
  ok(Math.abs(f.t!) < 2, String(f.t));
  equal(f.significant, false);
  equal(f.projectedMean, xs.reduce((a, b) => a + b) / xs.length);
  deepEqual(f.warnings.map((w) => w.code), ["trend_not_significant"]);
});

Deno.test("forecast() of an empty window is unknown with null numbers", () => {
  const f = forecastOf(new PointStore(), 3600, 3600);
  equal(f.predictedDriftRisk, "unknown");
  equal(f.projectedMean, null);
  deepEqual(f.eta, { low: null, medium: null, high: null });
});

Deno.test("PointStore.regression() stays exact through out-of-order merges, updates and evictions", () => {
  const random = mulberry32(7);
  const store = new PointStore();
  const held = new Map<number, number>();
  for (let round = 0; round < 40; round++) {
    const n = 1 + Math.floor(random() * 400);
    const ts = new Float64Array(n), xs = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      ts[i] = END - Math.floor(random() * 20_000) * 1000;
      xs[i] = 50 + 40 * random();
    }
    store.applyColumns("a", ts, xs);
    ts.forEach((t, i) => held.set(t, xs[i]));
    if (round % 10 === 9) {
      const cutoff = END - Math.floor(random() * 15_000) * 1000;
      store.evictBefore(cutoff);
      for (const t of [...held.keys()]) if (t < cutoff) held.delete(t);
    }
    const fresh = new PointStore();
    const order = [...held.keys()].sort((a, b) => a - b);
    fresh.applyColumns("a", Float64Array.from(order), Float64Array.from(order.map((t) => held.get(t)!)));
    const start = END - Math.floor(random() * 20_000) * 1000;
    const a = store.regression("a", start, END), b = fresh.regression("a", start, END);
    equal(a.moments.n, b.moments.n);
    if (a.moments.n === 0) continue;
    const offset = (a.origin - b.origin) / 1000;
    near(a.moments.uHi + a.moments.uLo + offset, b.moments.uHi + b.moments.uLo, 1e-9, "mean time");
    near(a.moments.stt, b.moments.stt, 1e-9, "Stt");
    near(a.moments.stx, b.moments.stx, 1e-9 * Math.sqrt(b.moments.stt) * 40, "Stx");
  }
});

Deno.test("PointStore.regression() pools signals as one set of points", () => {
  const store = new PointStore();
  const xs = EXAMPLE;
  const ts = xs.map((_, i) => END - (9 - i) * 600_000);
  // Even points in "a", odd in "b" (whose first point, and so its tree origin, is 10 minutes later).
  store.applyColumns(
    "a",
    Float64Array.from(ts.filter((_, i) => i % 2 === 0)),
    Float64Array.from(xs.filter((_, i) => i % 2 === 0)),
  );
  store.applyColumns(
    "b",
    Float64Array.from(ts.filter((_, i) => i % 2 === 1)),
    Float64Array.from(xs.filter((_, i) => i % 2 === 1)),
  );
  const { origin, moments } = store.regression(undefined, END - 6_000_000, END);
  equal(moments.n, 10);
  near(origin + (moments.uHi + moments.uLo) * 1000, END - 45 * 60_000, 1e-12, "t̄");
  near(moments.stt, 8250 * 3600, 1e-12, "Stt in s²");
  near(moments.stx, -910 * 60, 1e-12, "Stx in s·points");
});

Deno.test("backtest() scores the trend and naive forecasts against the window at end + horizon", () => {
  // A steady decline from 95 by 2 points an hour over 2 days, one point a minute, small noise.
  const random = mulberry32(3);
  const count = 2 * 24 * 60;
  const xs = Array.from({ length: count }, (_, i) => 95 - (2 * i) / 60 + (random() - 0.5));
  const store = storeOf(xs, 60_000);
  const oldest = END - (count - 1) * 60_000;
  const result = backtest(store, {
    signal: "a",
    windowSec: 3600,
    horizonSec: 7200,
    oldestMs: oldest,
    newestMs: END,
    points: 50,
    maxEtaSec: 30 * 86400,
    thresholds: DEFAULT_THRESHOLDS,
    studentTInv,
  });
  equal(result.points, 50);
  equal(result.fromMs, oldest + 3_600_000);
  equal(result.toMs, END - 7_200_000);
  const total = (c: typeof result.trend.confusion) =>
    Object.values(c).reduce((sum, row) => sum + Object.values(row).reduce((a, b) => a + b, 0), 0);
  equal(total(result.trend.confusion), 50);
  equal(total(result.naive.confusion), 50);
  equal(result.significantShare, 1);
  // The naive forecast misses by the decline over 2 h (4 points); the trend by little.
  near(result.naive.meanAbsoluteError, 4, 0.05, "naive MAE");
  ok(result.trend.meanAbsoluteError! < 0.5, String(result.trend.meanAbsoluteError));
  ok(result.trend.accuracy! >= result.naive.accuracy!);
});

Deno.test("backtest() replays nothing when the held data is shorter than window + horizon", () => {
  const store = storeOf([80, 81, 82], 60_000);
  const result = backtest(store, {
    signal: "a",
    windowSec: 3600,
    horizonSec: 3600,
    oldestMs: END - 120_000,
    newestMs: END,
    points: 100,
    maxEtaSec: 30 * 86400,
    thresholds: DEFAULT_THRESHOLDS,
    studentTInv,
  });
  equal(result.points, 0);
  equal(result.trend.accuracy, null);
});
