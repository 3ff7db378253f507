/**
 * The forecast's line against a naive two-pass least-squares reference (issue 14, item 2): slope, the point the
 * line passes through (t̄, x̄) and the projected mean agree within 1e-9 relative, over random series (uneven
 * timestamps, constant series, two points) and over 1M points of scores near 100 with tiny slopes.
 */
import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { fitLine } from "../../src/core/forecast.ts";
import { PointStore } from "../../src/core/point_store.ts";
import { mulberry32 } from "./support.ts";

const T = Date.parse("2025-10-29T00:00:00Z");

/** Neumaier-compensated sum (as Python's math.fsum is used by statistics.linear_regression). */
function fsum(values: Iterable<number>): number {
  let sum = 0, c = 0;
  for (const v of values) {
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  return sum + c;
}

/**
 * The textbook two-pass least squares (Python's `statistics.linear_regression`): means first, then
 * Σ (t − t̄)(x − x̄) / Σ (t − t̄)². Times in seconds from the first point (the slope does not depend on the origin;
 * epoch seconds would cost the reference itself seven digits).
 */
function reference(ts: number[], xs: number[]) {
  const n = ts.length;
  const u = ts.map((t) => (t - ts[0]) / 1000);
  const uBar = fsum(u) / n, xBar = fsum(xs) / n;
  const stt = fsum(u.map((v) => (v - uBar) ** 2));
  const stx = fsum(u.map((v, i) => (v - uBar) * (xs[i] - xBar)));
  const sxx = fsum(xs.map((x) => (x - xBar) ** 2));
  return { slope: stx / stt, tMeanMs: ts[0] + uBar * 1000, uBar, xBar, stt, sxx };
}

/** The line from the store (regression tree + window moments), as the predict route computes it. */
function fromStore(store: PointStore, startMs: number, endMs: number) {
  const { origin, moments } = store.regression("s", startMs, endMs);
  const stats = store.window("s", startMs, endMs);
  return { fit: fitLine(moments, origin, stats.m2), origin, moments };
}

/** |a − b| ≤ tol · scale: relative to the value, or to a stated scale where the value can be 0. */
function close(actual: number, expected: number, tol: number, scale: number, label: string): void {
  ok(Math.abs(actual - expected) <= tol * scale, `${label}: ${actual} vs ${expected} (scale ${scale})`);
}

function storeOf(ts: number[], xs: number[]): PointStore {
  const store = new PointStore();
  store.applyColumns("s", Float64Array.from(ts), Float64Array.from(xs));
  return store;
}

/** Checks slope, (t̄, x̄) and the projected mean of window (start, end] against the reference. */
function check(
  ts: number[],
  xs: number[],
  startMs: number,
  endMs: number,
  horizonSec: number,
  held?: PointStore,
) {
  const store = held ?? storeOf(ts, xs);
  const inWindow = ts.map((t, i) => [t, xs[i]] as const).filter(([t]) => t > startMs && t <= endMs);
  if (inWindow.length < 2) return;
  const ref = reference(inWindow.map(([t]) => t), inWindow.map(([, x]) => x));
  const { fit, origin, moments } = fromStore(store, startMs, endMs);
  equal(fit.n, inWindow.length);
  if (!(ref.stt > 0)) return;
  // Relative to the slope, or (for a slope near 0 in noisy data) to the noise scale √(Sxx / Stt), or (for a
  // constant series, whose reference slope is only the rounding of x̄) to that rounding's own size.
  const rounding = Math.abs(ref.xBar) * Math.sqrt(inWindow.length / ref.stt) * 1e-7;
  const slopeScale = Math.max(Math.abs(ref.slope), Math.sqrt(ref.sxx / ref.stt), rounding);
  close(fit.slope!, ref.slope, 1e-9, slopeScale || 1e-300, "slope");
  close(fit.xMean!, ref.xBar, 1e-9, Math.abs(ref.xBar) || 1, "x̄ (the intercept at t̄)");
  // t̄ in seconds from the window's first point: relative to the window's time span.
  const uBar = (origin - inWindow[0][0]) / 1000 + moments.uHi + moments.uLo;
  const span = (inWindow[inWindow.length - 1][0] - inWindow[0][0]) / 1000;
  close(uBar, ref.uBar, 1e-9, span, "t̄");
  const windowSec = (endMs - startMs) / 1000;
  const lever = (endMs - inWindow[0][0]) / 1000 + horizonSec - windowSec / 2 - ref.uBar;
  const projected = ref.xBar + ref.slope * lever;
  const ours = fit.xMean! +
    fit.slope! * ((endMs - origin) / 1000 + horizonSec - windowSec / 2 - (moments.uHi + moments.uLo));
  close(
    ours,
    projected,
    1e-9,
    Math.max(Math.abs(projected), Math.abs(ref.slope * lever), 1e-300),
    "projected mean",
  );
}

/** Scores on the 0..100 scale (subnormal doubles, which no upstream sends, would only test underflow). */
const score = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.double({ min: 1e-6, max: 100, noNaN: true }));

const seriesArbitrary = fc.record({
  gaps: fc.array(fc.integer({ min: 1, max: 600_000 }), { minLength: 2, maxLength: 1500 }),
  base: score,
  slopePerHour: fc.oneof(fc.constant(0), fc.double({ min: -20, max: 20, noNaN: true })),
  noise: fc.oneof(fc.constant(0), fc.double({ min: 1e-9, max: 20, noNaN: true })),
  seed: fc.integer(),
  cut: fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })),
  horizonSec: fc.integer({ min: 1, max: 30 * 86400 }),
});

Deno.test("fitLine() over the store's regression sums equals the two-pass reference within 1e-9, for random uneven series and windows", () => {
  fc.assert(
    fc.property(seriesArbitrary, ({ gaps, base, slopePerHour, noise, seed, cut, horizonSec }) => {
      const random = mulberry32(seed);
      const ts: number[] = [];
      let t = T;
      for (const gap of gaps) ts.push(t += gap);
      const xs = ts.map((t) => base + (slopePerHour * (t - T)) / 3_600_000 + noise * (random() - 0.5));
      const [p, q] = cut[0] <= cut[1] ? cut : [cut[1], cut[0]];
      const first = ts[0], last = ts[ts.length - 1];
      const startMs = Math.floor(first - 1 + p * (last - first));
      const endMs = Math.max(startMs + 1, Math.ceil(first + q * (last - first)));
      check(ts, xs, startMs, endMs, horizonSec);
      check(ts, xs, first - 1, last, horizonSec);
    }),
    { numRuns: 300 },
  );
});

Deno.test("fitLine() of a constant series has slope 0 and the constant as its mean, at any length", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 3000 }), score, (n, c) => {
      const store = new PointStore();
      const ts = Float64Array.from({ length: n }, (_, i) => T + i * 1000);
      store.applyColumns("s", ts, new Float64Array(n).fill(c));
      const { fit } = fromStore(store, T - 1, T + n * 1000);
      equal(fit.slope, 0);
      equal(fit.xMean, c);
      equal(fit.t, null); // stderr 0 and slope 0: t undefined
    }),
    { numRuns: 50 },
  );
});

Deno.test("fitLine() through two points is the line through them", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000_000 }),
      score,
      score,
      (gapMs, x0, x1) => {
        check([T, T + gapMs], [x0, x1], T - 1, T + gapMs, 3600);
        const store = new PointStore();
        store.applyColumns("s", Float64Array.of(T, T + gapMs), Float64Array.of(x0, x1));
        const { fit } = fromStore(store, T - 1, T + gapMs);
        close(
          fit.slope!,
          (x1 - x0) / (gapMs / 1000),
          1e-12,
          Math.abs(x1 - x0) / (gapMs / 1000) || 1,
          "slope",
        );
        equal(fit.stderr, null); // n − 2 = 0 degrees of freedom
      },
    ),
  );
});

Deno.test("fitLine() over 1M points of scores near 100 with tiny slopes equals the reference within 1e-9", () => {
  const n = 1_000_000;
  const random = mulberry32(14);
  const ts: number[] = new Array(n);
  let t = T;
  for (let i = 0; i < n; i++) ts[i] = t += 500 + Math.floor(random() * 1000); // uneven, ~1 s apart
  for (const slopePerSec of [1e-9, -3e-12, 2e-7]) {
    const xs = ts.map((t) => 100 - 1e-6 + slopePerSec * ((t - T) / 1000) + 1e-10 * (random() - 0.5));
    const store = storeOf(ts, xs);
    check(ts, xs, T, ts[n - 1], 3600, store); // all 1M points
    check(ts, xs, ts[n - 3601], ts[n - 1], 3600, store); // the last hour's worth at the end of 11 days
    check(ts, xs, ts[123_457], ts[876_543], 86_400, store); // a window between blocks
  }
});
