/**
 * PointStore benchmarks: window queries answered from prefix sums, the forecast's regression sums (prefix sums
 * against the exact regression tree), and bulk loading.
 * Run: deno bench --allow-all bench/point_store_bench.ts
 *
 * Stores are built once at module load, outside the measured functions; each query's result goes to a sink so
 * that the work cannot be optimised away.
 */
import { PointStore } from "../src/core/point_store.ts";
import { mulberry32 } from "../src/mock/darshan_server.ts";

const T0 = Date.parse("2025-10-29T00:00:00Z");
const SEC = 1000;

/** n sorted points one second apart, scores around `level` on the 0..100 scale. */
function columns(
  n: number,
  seed: number,
  level = 80,
  spread = 15,
): { ts: Float64Array; score: Float64Array } {
  const random = mulberry32(seed);
  const ts = new Float64Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * SEC;
    score[i] = Math.min(100, Math.max(0, level + (random() - 0.5) * 2 * spread));
  }
  return { ts, score };
}

let sink = 0;

// One signal with 1.2M points: windows of 100k and 1M points end at the newest point.
const SINGLE_N = 1_200_000;
const single = new PointStore();
{
  const { ts, score } = columns(SINGLE_N, 1);
  single.applyColumns("alpha", ts, score);
}
const singleEnd = T0 + (SINGLE_N - 1) * SEC;

// Four signals × 250k points over the same time span, for pooled (signal = undefined) windows.
const POOLED_N = 250_000;
const pooled = new PointStore();
for (const [i, signal] of ["alpha", "beta", "gamma", "delta"].entries()) {
  const { ts, score } = columns(POOLED_N, 10 + i, 60 + 10 * i);
  pooled.applyColumns(signal, ts, score);
}
const pooledEnd = T0 + (POOLED_N - 1) * SEC;

// A series whose last 1M points have a tiny spread next to large prefix sums: the error bound sends these
// windows to the exact block-tree fallback (two-pass edges + O(log n) nodes), so this measures the worst case.
const driftStore = new PointStore();
{
  const wide = columns(200_000, 20, 50, 50);
  driftStore.applyColumns("drift", wide.ts, wide.score);
  const narrow = columns(1_000_000, 21, 97.5, 1e-9);
  for (let i = 0; i < narrow.ts.length; i++) narrow.ts[i] += 200_000 * SEC;
  driftStore.applyColumns("drift", narrow.ts, narrow.score);
}
const driftEnd = T0 + (1_200_000 - 1) * SEC;

// 1M sorted points to load into an empty store.
const LOAD_N = 1_000_000;
const load = columns(LOAD_N, 30);

function check(n: number, expected: number): void {
  if (n !== expected) throw new Error(`benchmark setup: expected ${expected} points in the window, got ${n}`);
}
check(single.window("alpha", singleEnd - 100_000 * SEC, singleEnd).n, 100_000);
check(single.window("alpha", singleEnd - 1_000_000 * SEC, singleEnd).n, 1_000_000);
check(pooled.window(undefined, T0 - SEC, pooledEnd).n, 4 * POOLED_N);
check(driftStore.window("drift", driftEnd - 1_000_000 * SEC, driftEnd).n, 1_000_000);

Deno.bench({
  name: "window query, 100k points in window",
  group: "window",
  baseline: true,
  fn() {
    sink += single.window("alpha", singleEnd - 100_000 * SEC, singleEnd).m2;
  },
});

Deno.bench({
  name: "window query, 1M points in window",
  group: "window",
  fn() {
    sink += single.window("alpha", singleEnd - 1_000_000 * SEC, singleEnd).m2;
  },
});

Deno.bench({
  name: "pooled window query, 4 signals × 250k points",
  group: "window",
  fn() {
    sink += pooled.window(undefined, T0 - SEC, pooledEnd).m2;
  },
});

Deno.bench({
  name: "window query, 1M points, tiny variance (exact block-tree fallback)",
  group: "window",
  fn() {
    sink += driftStore.window("drift", driftEnd - 1_000_000 * SEC, driftEnd).m2;
  },
});

Deno.bench({
  // Both window edges one point inside a block: 2 × 63 points read directly, the rest from the tree.
  name: "window query, 1M − 2 points, tiny variance, unaligned edges (worst case)",
  group: "window",
  fn() {
    sink += driftStore.window("drift", driftEnd - 999_999 * SEC, driftEnd - SEC).m2;
  },
});

// Issue 14: a window's least-squares sums from the prefix sums (within their bound) against the exact
// regression tree (forced), over the 1.2M-point series; the window ends move by 1 s each call so that the edge
// blocks vary. The last-hour window falls back to the tree (its bound fails in 1.2M s ≈ 14 days).
{
  const paths = (exact: boolean, width: number) =>
    single.regression("alpha", singleEnd - width * SEC, singleEnd, { exact }).paths.join();
  const expect = (got: string, want: string) => {
    if (got !== want) throw new Error(`benchmark setup: expected the ${want} path, got ${got}`);
  };
  expect(paths(false, 1_000_000), "prefix");
  expect(paths(true, 1_000_000), "tree");
  expect(paths(false, 3_600), "tree");
}
let regressionOffset = 0;
for (
  const [name, width, exact, baseline] of [
    ["regression sums, 1M points, prefix sums", 1_000_000, false, true],
    ["regression sums, 1M points, regression tree (forced)", 1_000_000, true, false],
    ["regression sums, last 1h of 1.2M points (falls back to the tree)", 3_600, false, false],
  ] as const
) {
  Deno.bench({
    name,
    group: "regression",
    baseline,
    fn() {
      const end = singleEnd - (++regressionOffset % 1000) * SEC;
      sink += single.regression("alpha", end - width * SEC, end, { exact }).moments.stx;
    },
  });
}

Deno.bench({
  name: "PointStore.applyColumns, 1M sorted points into an empty store",
  group: "load",
  fn() {
    const store = new PointStore();
    sink += store.applyColumns("alpha", load.ts, load.score).inserted;
  },
});

globalThis.addEventListener("unload", () => {
  if (Number.isNaN(sink)) console.log("unreachable: keeps the sink alive");
});
