/**
 * The forecast's line against a naive two-pass least-squares reference (issue 14, item 2): slope, the point the
 * line passes through (t̄, x̄) and the projected mean agree within 1e-9 relative, over random series (uneven
 * timestamps, constant series, two points) and over 1M points of scores near 100 with tiny slopes — whichever
 * path answered (item 3: the prefix sums within their error bound, else the exact regression tree), and the
 * tests below check that both paths are taken where they should be.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { fitLine } from "../../src/core/forecast.ts";
import { PointStore, type RegressionPath } from "../../src/core/point_store.ts";
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

/** The line from the store (regression sums + window moments), as the predict route computes it. */
function fromStore(store: PointStore, startMs: number, endMs: number) {
  const { origin, moments, paths } = store.regression("s", startMs, endMs);
  const stats = store.window("s", startMs, endMs);
  return { fit: fitLine(moments, origin, stats.m2), origin, moments, path: paths[0] };
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

/**
 * Checks slope, (t̄, x̄) and the projected mean of window (start, end] against the reference; returns the path
 * that answered (undefined for a window of fewer than two points).
 */
function check(
  ts: number[],
  xs: number[],
  startMs: number,
  endMs: number,
  horizonSec: number,
  held?: PointStore,
): RegressionPath | undefined {
  const store = held ?? storeOf(ts, xs);
  const inWindow = ts.map((t, i) => [t, xs[i]] as const).filter(([t]) => t > startMs && t <= endMs);
  if (inWindow.length < 2) return;
  const ref = reference(inWindow.map(([t]) => t), inWindow.map(([, x]) => x));
  const { fit, origin, moments, path } = fromStore(store, startMs, endMs);
  equal(fit.n, inWindow.length);
  if (!(ref.stt > 0)) return path;
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
  return path;
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

Deno.test("fitLine() equals the reference within 1e-9 over random series of 130–20,000 points, on the direct, prefix and tree paths", () => {
  const paths = { direct: 0, prefix: 0, tree: 0 };
  const count = (path: RegressionPath | undefined) => path && paths[path]++;
  const longSeries = fc.record({
    length: fc.integer({ min: 130, max: 20_000 }),
    /** The second window's share of the series' span, e^logShare (down to 1/1100: fallbacks). */
    logShare: fc.integer({ min: -700, max: 0 }).map((k) => k / 100),
    maxGapMs: fc.integer({ min: 1, max: 600_000 }),
    base: score,
    slopePerHour: fc.oneof(fc.constant(0), fc.double({ min: -20, max: 20, noNaN: true })),
    noise: fc.oneof(fc.constant(0), fc.double({ min: 1e-9, max: 20, noNaN: true })),
    seed: fc.integer(),
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    horizonSec: fc.integer({ min: 1, max: 30 * 86400 }),
  });
  fc.assert(
    fc.property(
      longSeries,
      ({ length, logShare, maxGapMs, base, slopePerHour, noise, seed, cut, horizonSec }) => {
        const random = mulberry32(seed);
        const ts: number[] = [];
        let t = T;
        for (let i = 0; i < length; i++) ts.push(t += 1 + Math.floor(random() * maxGapMs));
        const xs = ts.map((t) => base + (slopePerHour * (t - T)) / 3_600_000 + noise * (random() - 0.5));
        const first = ts[0], last = ts[ts.length - 1];
        const store = storeOf(ts, xs);
        const widthMs = Math.max(1, Math.round(Math.exp(logShare) * (last - first)));
        const endMs = Math.ceil(first + widthMs + cut * (last - first - widthMs));
        count(check(ts, xs, first - 1, last, horizonSec, store));
        count(check(ts, xs, endMs - widthMs, endMs, horizonSec, store));
        count(check(ts, xs, last - widthMs, last, horizonSec, store));
      },
    ),
    { numRuns: 200 },
  );
  // Each path answered some of the windows: the test fails if the fast path or the fallback never ran.
  ok(paths.direct > 0 && paths.prefix > 0 && paths.tree > 0, JSON.stringify(paths));
});

Deno.test("a long window over a large series takes the prefix path; a 1h window at the end of 30 days falls back to the tree, and both equal the reference", () => {
  // 30 days, one point every 10 s (259,200 points), scores near 100 with a tiny slope and tinier noise.
  const n = 259_200;
  const random = mulberry32(3);
  const ts = Array.from({ length: n }, (_, i) => T + i * 10_000);
  const xs = ts.map((t) => 100 - 1e-6 + 1e-10 * ((t - T) / 1000) + 1e-9 * (random() - 0.5));
  const store = storeOf(ts, xs);
  const last = ts[n - 1];
  equal(check(ts, xs, T - 1, last, 86_400, store), "prefix", "all 30 days");
  equal(check(ts, xs, last - 10 * 86_400_000, last, 86_400, store), "prefix", "the last 10 days");
  equal(check(ts, xs, last - 3_600_000, last, 3600, store), "tree", "the last hour");
  equal(check(ts, xs, last - 600_000, last, 3600, store), "direct", "the last 10 minutes (60 points)");
  // Forcing the tree gives the same line as the prefix path.
  const fast = store.regression("s", T - 1, last);
  const exact = store.regression("s", T - 1, last, { exact: true });
  deepEqual(exact.paths, ["tree"]);
  const slope = (m: typeof fast.moments) => m.stx / m.stt;
  close(slope(fast.moments), slope(exact.moments), 1e-12, Math.abs(slope(exact.moments)), "slope");
});

Deno.test("the prefix path stays within 1e-9 of the reference through appends, out-of-order merges and evictions between forecasts", () => {
  const random = mulberry32(41);
  const store = new PointStore();
  const held = new Map<number, number>();
  const seen = { direct: 0, prefix: 0, tree: 0 };
  let next = T;
  for (let round = 0; round < 60; round++) {
    const ts: number[] = [], xs: number[] = [];
    const kind = round % 6;
    if (kind === 4) {
      // Out of order: points between held ones (odd ms offsets never collide with the appended times).
      for (let i = 0; i < 50; i++) ts.push(T + 1 + 2 * Math.floor(random() * (next - T) / 2));
    } else {for (let i = 0; i < 200 + Math.floor(random() * 300); i++) {
        ts.push(next += 1000 + Math.floor(random() * 2000));
      }}
    for (const t of ts) xs.push(70 + 1e-4 * ((t - T) / 1000) + 5 * (random() - 0.5));
    store.applyColumns("s", Float64Array.from(ts), Float64Array.from(xs));
    ts.forEach((t, i) => held.set(t, xs[i]));
    if (kind === 5) {
      const cutoff = T + Math.floor(random() * (next - T) / 4);
      store.evictBefore(cutoff);
      for (const t of held.keys()) if (t < cutoff) held.delete(t);
    }
    const sorted = [...held].sort((a, b) => a[0] - b[0]);
    const allTs = sorted.map(([t]) => t), allXs = sorted.map(([, x]) => x);
    const first = allTs[0], last = allTs[allTs.length - 1];
    const path = check(allTs, allXs, first - 1, last, 3600, store);
    if (path) seen[path]++;
    const mid = first + Math.floor(random() * (last - first));
    const path2 = check(allTs, allXs, mid, last, 3600, store);
    if (path2) seen[path2]++;
  }
  ok(seen.prefix > 60, JSON.stringify(seen));
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
