import { equal, ok } from "node:assert/strict";
import { addSplitMoments, BLOCK, MomentTree } from "../../src/core/moment_tree.ts";
import { splitMomentsOf } from "../../src/core/stats.ts";
import { PointStore, Series } from "../../src/core/point_store.ts";
import { momentsOf } from "../../src/core/stats.ts";
import { assertMomentsClose, mulberry32, SEC, T0 } from "./support.ts";

/** Checks the series' block tree against momentsOf() and a plain maximum for `count` random ranges. */
function checkRanges(series: Series, random: () => number, count: number, label: string): void {
  const n = series.length;
  for (let q = 0; q < count; q++) {
    let a = Math.floor(random() * (n + 1));
    let b = Math.floor(random() * (n + 1));
    if (q % 4 === 0) a = Math.min(n, Math.floor(a / BLOCK) * BLOCK + Math.floor(random() * 3) - 1);
    if (q % 4 === 1) b = Math.min(n, Math.floor(b / BLOCK) * BLOCK + Math.floor(random() * 3) - 1);
    if (a < 0) a = 0;
    if (b < 0) b = 0;
    if (a > b) [a, b] = [b, a];
    const expected = momentsOf(series.score, a, b);
    assertMomentsClose(series.tree.moments(series.score, a, b), expected, 1e-9, `${label} [${a}, ${b})`);
    let max = -Infinity;
    for (let i = a; i < b; i++) max = Math.max(max, series.score[i]);
    equal(series.tree.max(series.score, a, b), max, `${label} max [${a}, ${b})`);
  }
}

function columns(n: number, at: (i: number) => number, firstSec = 0, stepSec = 1) {
  const ts = new Float64Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + (firstSec + i * stepSec) * SEC;
    score[i] = at(i);
  }
  return { ts, score };
}

Deno.test("splitMomentsOf() splits momentsOf()'s mean into hi + lo and has the same M2", () => {
  const random = mulberry32(1);
  const values = Float64Array.from({ length: 1000 }, () => 1e9 + random());
  for (const [from, to] of [[0, 1000], [3, 4], [10, 700], [5, 5]]) {
    const split = splitMomentsOf(values, from, to);
    const plain = momentsOf(values, from, to);
    equal(split.n, plain.n);
    equal(split.n === 0 ? 0 : split.hi + split.lo, plain.mean);
    equal(split.m2, plain.m2);
  }
});

Deno.test("addSplitMoments() of two halves equals the moments of the whole", () => {
  const random = mulberry32(2);
  const values = Float64Array.from({ length: 999 }, () => 50 + 40 * random());
  const whole = momentsOf(values);
  const sum = addSplitMoments(splitMomentsOf(values, 0, 400), splitMomentsOf(values, 400, 999));
  assertMomentsClose({ n: sum.n, mean: sum.hi + sum.lo, m2: sum.m2 }, whole, 1e-12, "halves");
  const empty = addSplitMoments({ n: 0, hi: 0, lo: 0, m2: 0 }, splitMomentsOf(values, 0, 999));
  assertMomentsClose({ n: empty.n, mean: empty.hi + empty.lo, m2: empty.m2 }, whole, 1e-15, "into empty");
});

Deno.test("MomentTree answers random ranges like momentsOf(), including ranges on block boundaries", () => {
  const random = mulberry32(3);
  const { ts, score } = columns(50_000, () => random() * 100);
  const series = new Series();
  series.merge(ts, score, ts.length);
  checkRanges(series, random, 3000, "random");
  // Small ranges, within one block and across one boundary.
  for (let a = 0; a < 3 * BLOCK; a++) {
    for (const length of [0, 1, 2, BLOCK - 1, BLOCK, BLOCK + 1]) {
      const b = Math.min(series.length, a + length);
      assertMomentsClose(
        series.tree.moments(series.score, a, b),
        momentsOf(series.score, a, b),
        1e-12,
        `${a}`,
      );
    }
  }
});

Deno.test("MomentTree keeps a tiny variance next to a large level exact (97.5 ± 1e-9 over 300k points)", () => {
  const random = mulberry32(4);
  const n = 300_000;
  const score = Float64Array.from({ length: n }, () => 97.5 + (random() - 0.5) * 2e-9);
  const tree = new MomentTree();
  tree.update(score, 0, n);
  for (const [a, b] of [[0, n], [1, n - 1], [12_345, 287_654], [n - 70_000, n]]) {
    assertMomentsClose(tree.moments(score, a, b), momentsOf(score, a, b), 1e-9, `[${a}, ${b})`);
  }
});

Deno.test("PointStore.window() answers a tiny-variance million-point window exactly through the block tree", () => {
  // 200k points spread over 0..100, then 1M points at 97.5 ± 1e-9: the prefix sums cannot resolve the
  // variance of the last million, so the store must use the block tree (and must not scan the window).
  const random = mulberry32(5);
  const wide = columns(200_000, () => random() * 100);
  const narrow = columns(1_000_000, () => 97.5 + (random() - 0.5) * 2e-9, 200_000);
  const store = new PointStore();
  store.applyColumns("drift", wide.ts, wide.score);
  store.applyColumns("drift", narrow.ts, narrow.score);
  const end = T0 + (1_200_000 - 1) * SEC;
  for (const length of [1_000_000, 999_999, 654_321, 100]) {
    const w = store.window("drift", end - length * SEC, end);
    const expected = momentsOf(narrow.score, 1_000_000 - length, 1_000_000);
    assertMomentsClose({ n: w.n, mean: w.mean, m2: w.m2 }, expected, 1e-9, `last ${length}`);
  }
});

Deno.test("MomentTree stays exact through merges into the middle, appends and growth", () => {
  const random = mulberry32(6);
  const series = new Series();
  const first = columns(10_000, () => 60 + random() * 40, 0, 2);
  series.merge(first.ts, first.score, first.ts.length);
  for (let round = 0; round < 200; round++) {
    if (round % 3 === 0) {
      // Append a batch after the newest point.
      const last = (series.ts[series.length - 1] - T0) / SEC;
      const batch = columns(1 + Math.floor(random() * 300), () => random() * 100, last + 1);
      series.merge(batch.ts, batch.score, batch.ts.length);
    } else {
      // Insert (odd seconds) or correct (even seconds) a few points in the middle.
      const at = Math.floor(random() * 20_000);
      const batch = columns(1 + Math.floor(random() * 5), () => random() * 100, at);
      series.merge(batch.ts, batch.score, batch.ts.length);
    }
  }
  checkRanges(series, random, 2000, "after merges");
});

Deno.test("MomentTree stays exact after eviction, shrinks with the series and refills", () => {
  const random = mulberry32(7);
  const series = new Series();
  const all = columns(100_000, () => 40 + random() * 60);
  series.merge(all.ts, all.score, all.ts.length);
  const before = series.tree.byteLength;
  for (const cutoffSec of [1, 63, 64, 65, 20_000, 99_000]) {
    series.evictBefore(T0 + cutoffSec * SEC);
    checkRanges(series, random, 300, `evicted before ${cutoffSec}s`);
  }
  equal(series.length, 1000);
  ok(series.tree.byteLength < before / 4, `tree ${series.tree.byteLength} bytes after ${before}`);
  series.evictBefore(T0 + 200_000 * SEC);
  equal(series.length, 0);
  const refill = columns(5000, () => random() * 100, 300_000);
  series.merge(refill.ts, refill.score, refill.ts.length);
  checkRanges(series, random, 300, "refilled");
});

Deno.test("PointStore.window() checks unit scale through the tree, for windows spanning many blocks", () => {
  const n = 10_000;
  const unit = columns(n, (i) => (i % 100) / 100);
  const store = new PointStore();
  store.applyColumns("unit", unit.ts, unit.score);
  equal(store.window("unit", 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, true);
  // One score above 1 in the middle of a whole block, then one in an edge block.
  store.applyColumns("unit", Float64Array.of(T0 + 5000 * SEC), Float64Array.of(1.5));
  equal(store.window("unit", 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, false);
  equal(store.window("unit", 0, T0 + 4999 * SEC).allWithinUnitScale, true);
  equal(store.window("unit", T0 + 5000 * SEC, Number.MAX_SAFE_INTEGER).allWithinUnitScale, true);
  equal(store.window("unit", T0 + 4998 * SEC, T0 + 5001 * SEC).allWithinUnitScale, false);
});
