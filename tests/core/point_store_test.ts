import { deepEqual, equal, ok } from "node:assert/strict";
import {
  dedupeBatch,
  type PointInput,
  PointStore,
  Series,
  type WindowStats,
} from "../../src/core/point_store.ts";
import { type Moments, momentsOf } from "../../src/core/stats.ts";
import { assertMomentsClose, mulberry32, relativeError, SEC, T0 } from "./support.ts";

/** Test-side model of the store: the latest score per (signal, ts), and window scores by plain filtering. */
class Reference {
  bySignal = new Map<string, Map<number, number>>();
  #sorted: Map<string, { ts: number[]; score: number[] }> | null = null;

  apply(points: readonly PointInput[]): void {
    for (const p of points) {
      let m = this.bySignal.get(p.signal);
      if (!m) this.bySignal.set(p.signal, m = new Map());
      m.set(p.ts, p.score);
    }
    this.#sorted = null;
  }

  /** Scores in (start, end], oldest first within each signal, for one signal or all of them. */
  scores(signal: string | undefined, start: number, end: number): number[] {
    this.#sorted ??= new Map(
      [...this.bySignal].map(([name, m]) => {
        const entries = [...m].sort((a, b) => a[0] - b[0]);
        return [name, { ts: entries.map(([ts]) => ts), score: entries.map(([, score]) => score) }];
      }),
    );
    const out: number[] = [];
    for (const [name, { ts, score }] of this.#sorted) {
      if (signal !== undefined && name !== signal) continue;
      // A linear scan would do; the search only keeps thousands of queries fast.
      const from = firstAbove(ts, start);
      const to = firstAbove(ts, end);
      for (let i = from; i < to; i++) out.push(score[i]);
    }
    return out;
  }

  evictBefore(cutoff: number): void {
    for (const m of this.bySignal.values()) for (const ts of [...m.keys()]) if (ts < cutoff) m.delete(ts);
    this.#sorted = null;
  }
}

/** First index with ts[i] > x (written independently of the store's upperBound). */
function firstAbove(ts: readonly number[], x: number): number {
  let lo = 0, hi = ts.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ts[mid] > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function pointsAt(signal: string, seconds: number[], scores: number[]): PointInput[] {
  return seconds.map((s, i) => ({ signal, ts: T0 + s * SEC, score: scores[i] }));
}

/** Window statistics as plain moments. */
function momentsOfWindow(w: WindowStats): Moments {
  return { n: w.n, mean: w.mean, m2: w.m2 };
}

// ---------------------------------------------------------------------------------------------------------
// Window bounds

Deno.test("PointStore.window() excludes a point exactly at end − window and includes one exactly at end", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120, 180], [10, 20, 30, 40]));
  // (T0 + 60 s, T0 + 180 s] holds the points at 120 s and 180 s only.
  const w = store.window("a", T0 + 60 * SEC, T0 + 180 * SEC);
  equal(w.n, 2);
  equal(w.mean, 35);
  equal(w.m2, 50);
  equal(w.oldestMs, T0 + 120 * SEC);
  equal(w.newestMs, T0 + 180 * SEC);
});

Deno.test("PointStore.window() moves by one point when either bound moves by 1 ms", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120, 180], [10, 20, 30, 40]));
  equal(store.window("a", T0 + 60 * SEC - 1, T0 + 180 * SEC).n, 3); // now includes 60 s
  equal(store.window("a", T0 + 60 * SEC, T0 + 180 * SEC - 1).n, 1); // now excludes 180 s
  equal(store.window("a", T0 - 1, T0).n, 1); // a 1 ms window that ends on a point
  equal(store.window("a", T0, T0 + 1).n, 0); // a 1 ms window that starts on a point
});

Deno.test("PointStore.window() of an empty range, an empty store or an unknown signal is empty", () => {
  const empty: WindowStats = {
    n: 0,
    mean: 0,
    m2: 0,
    oldestMs: null,
    newestMs: null,
    allWithinUnitScale: false,
  };
  deepEqual(new PointStore().window(undefined, 0, Number.MAX_SAFE_INTEGER), empty);
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60], [10, 20]));
  deepEqual(store.window("nope", 0, Number.MAX_SAFE_INTEGER), empty);
  deepEqual(store.window("a", T0 + 60 * SEC, T0 + 3600 * SEC), empty);
  deepEqual(store.window("a", T0 - 3600 * SEC, T0 - 1), empty);
  // An inverted range is empty rather than negative.
  deepEqual(store.window("a", T0 + 3600 * SEC, T0), empty);
});

// ---------------------------------------------------------------------------------------------------------
// Dedup and counts

Deno.test("PointStore.apply() counts new points as inserted", () => {
  const store = new PointStore();
  deepEqual(store.apply(pointsAt("a", [0, 1, 2], [50, 60, 70])), { inserted: 3, updated: 0, duplicates: 0 });
  equal(store.size, 3);
});

Deno.test("PointStore.apply() keeps the later copy within a batch and counts it as an update", () => {
  const store = new PointStore();
  const result = store.apply([
    { signal: "a", ts: T0, score: 50 },
    { signal: "a", ts: T0 + SEC, score: 55 },
    { signal: "a", ts: T0, score: 60 },
  ]);
  deepEqual(result, { inserted: 2, updated: 1, duplicates: 0 });
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER), [
    { signal: "a", ts: T0, score: 60 },
    { signal: "a", ts: T0 + SEC, score: 55 },
  ]);
});

Deno.test("PointStore.apply() counts an equal copy within a batch as a duplicate", () => {
  const store = new PointStore();
  const result = store.apply(pointsAt("a", [0, 0, 0], [50, 50, 50]));
  deepEqual(result, { inserted: 1, updated: 0, duplicates: 2 });
  equal(store.size, 1);
});

Deno.test("PointStore.apply() counts a re-served equal copy as a duplicate, not an update", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120], [50, 60, 70]));
  deepEqual(store.apply(pointsAt("a", [60, 120], [60, 70])), { inserted: 0, updated: 0, duplicates: 2 });
  equal(store.window("a", 0, Number.MAX_SAFE_INTEGER).mean, 60);
});

Deno.test("PointStore.apply() replaces a held point when a later batch has a different score", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120], [50, 60, 70]));
  deepEqual(store.apply(pointsAt("a", [60, 180], [90, 80])), { inserted: 1, updated: 1, duplicates: 0 });
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [50, 90, 70, 80]);
  const w = store.window("a", 0, Number.MAX_SAFE_INTEGER);
  equal(w.n, 4);
  equal(w.mean, 72.5);
  equal(w.m2, momentsOf([50, 90, 70, 80]).m2);
});

Deno.test("PointStore.apply() counts every record once: inserted + updated + duplicates = records", () => {
  const random = mulberry32(99);
  const store = new PointStore();
  for (let batch = 0; batch < 50; batch++) {
    const records: PointInput[] = [];
    const size = Math.floor(random() * 40);
    for (let i = 0; i < size; i++) {
      records.push({
        signal: random() < 0.5 ? "a" : "b",
        ts: T0 + Math.floor(random() * 60) * SEC,
        score: Math.floor(random() * 3) * 10, // few distinct values, so equal copies are common
      });
    }
    const r = store.apply(records);
    equal(r.inserted + r.updated + r.duplicates, records.length, `batch ${batch}`);
  }
});

Deno.test("PointStore.apply() of an empty batch changes nothing", () => {
  const store = new PointStore();
  deepEqual(store.apply([]), { inserted: 0, updated: 0, duplicates: 0 });
  store.apply(pointsAt("a", [0], [50]));
  deepEqual(store.apply([]), { inserted: 0, updated: 0, duplicates: 0 });
  equal(store.size, 1);
});

Deno.test("PointStore.apply() keeps signals apart: the same timestamp in two signals is two points", () => {
  const store = new PointStore();
  const r = store.apply([{ signal: "a", ts: T0, score: 10 }, { signal: "b", ts: T0, score: 20 }]);
  deepEqual(r, { inserted: 2, updated: 0, duplicates: 0 });
  equal(store.window("a", T0 - 1, T0).mean, 10);
  equal(store.window("b", T0 - 1, T0).mean, 20);
  equal(store.window(undefined, T0 - 1, T0).mean, 15);
});

Deno.test("PointStore.apply() treats 0 and −0 as different scores (Object.is), so −0 replacing 0 is an update", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0], [0]));
  deepEqual(store.apply(pointsAt("a", [0], [-0])), { inserted: 0, updated: 1, duplicates: 0 });
});

Deno.test("dedupeBatch() sorts stably and keeps the last copy of each timestamp", () => {
  const ts = Float64Array.from([30, 10, 20, 10, 30, 10]);
  const score = Float64Array.from([1, 2, 3, 4, 5, 4]);
  const r = dedupeBatch(ts, score);
  equal(r.count, 3);
  deepEqual([...r.ts.subarray(0, r.count)], [10, 20, 30]);
  deepEqual([...r.score.subarray(0, r.count)], [4, 3, 5]);
  // 10: 2 → 4 (update), 4 → 4 (duplicate); 30: 1 → 5 (update).
  equal(r.updated, 2);
  equal(r.duplicates, 1);
  // The input columns are not modified.
  deepEqual([...ts], [30, 10, 20, 10, 30, 10]);
  deepEqual([...score], [1, 2, 3, 4, 5, 4]);
});

Deno.test("dedupeBatch() of a sorted batch with duplicates keeps the last copy", () => {
  const r = dedupeBatch(Float64Array.from([1, 1, 2, 3, 3]), Float64Array.from([5, 6, 7, 8, 8]));
  deepEqual([...r.ts.subarray(0, r.count)], [1, 2, 3]);
  deepEqual([...r.score.subarray(0, r.count)], [6, 7, 8]);
  equal(r.updated, 1);
  equal(r.duplicates, 1);
});

// ---------------------------------------------------------------------------------------------------------
// Order of arrival

Deno.test("PointStore.apply() sorts a batch that arrives out of order", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [120, 0, 180, 60], [40, 10, 50, 20]));
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => (p.ts - T0) / SEC), [0, 60, 120, 180]);
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [10, 20, 40, 50]);
});

Deno.test("PointStore.apply() accepts a batch older than the held points", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [600, 660], [80, 90]));
  deepEqual(store.apply(pointsAt("a", [0, 60], [10, 20])), { inserted: 2, updated: 0, duplicates: 0 });
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [10, 20, 80, 90]);
  assertMomentsClose(
    momentsOfWindow(store.window("a", 0, Number.MAX_SAFE_INTEGER)),
    momentsOf([10, 20, 80, 90]),
    1e-12,
    "all",
  );
  assertMomentsClose(
    momentsOfWindow(store.window("a", T0, T0 + 660 * SEC)),
    momentsOf([20, 80, 90]),
    1e-12,
    "tail",
  );
});

Deno.test("PointStore.apply() merges a batch into the middle of held points", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 100, 200, 300, 400], [10, 20, 30, 40, 50]));
  const r = store.apply(pointsAt("a", [150, 250, 200, 350], [25, 35, 33, 45]));
  deepEqual(r, { inserted: 3, updated: 1, duplicates: 0 });
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [
    10,
    20,
    25,
    33,
    35,
    40,
    45,
    50,
  ]);
  // Windows ending before, inside and after the merged part all see the new data.
  assertMomentsClose(
    momentsOfWindow(store.window("a", 0, T0 + 100 * SEC)),
    momentsOf([10, 20]),
    1e-12,
    "before",
  );
  assertMomentsClose(
    momentsOfWindow(store.window("a", T0 + 100 * SEC, T0 + 300 * SEC)),
    momentsOf([25, 33, 35, 40]),
    1e-12,
    "inside",
  );
  assertMomentsClose(
    momentsOfWindow(store.window("a", T0 + 300 * SEC, T0 + 400 * SEC)),
    momentsOf([45, 50]),
    1e-12,
    "after",
  );
});

Deno.test("PointStore.apply() appends after merging into the middle, and windows stay exact", () => {
  const store = new PointStore();
  const ref = new Reference();
  const batches = [
    pointsAt("a", [0, 10, 20, 30], [50, 51, 52, 53]),
    pointsAt("a", [15, 25], [70, 71]),
    pointsAt("a", [40, 50], [60, 61]),
    pointsAt("a", [5, 45, 50], [1, 2, 3]),
    pointsAt("a", [60], [99]),
  ];
  for (const batch of batches) {
    store.apply(batch);
    ref.apply(batch);
    for (let start = -1; start <= 60; start += 3) {
      for (let end = start; end <= 61; end += 4) {
        const a = T0 + start * SEC, b = T0 + end * SEC;
        assertMomentsClose(
          momentsOfWindow(store.window("a", a, b)),
          momentsOf(ref.scores("a", a, b)),
          1e-12,
          `(${start}, ${end}]`,
        );
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------------------
// Pooled windows

Deno.test("PointStore.window() without a signal pools every signal", () => {
  const store = new PointStore();
  store.apply(pointsAt("alpha", [0, 60, 120], [80, 90, 100]));
  store.apply(pointsAt("beta", [30, 90], [40, 50]));
  store.apply(pointsAt("gamma", [600], [70]));
  const w = store.window(undefined, T0 - 1, T0 + 120 * SEC);
  assertMomentsClose(momentsOfWindow(w), momentsOf([80, 90, 100, 40, 50]), 1e-14, "pooled");
  equal(w.oldestMs, T0);
  equal(w.newestMs, T0 + 120 * SEC);
});

Deno.test("PointStore.window() pooled over random signals equals momentsOf() over all their points", () => {
  const random = mulberry32(2024);
  const store = new PointStore();
  const ref = new Reference();
  for (const signal of ["alpha", "beta", "gamma", "delta"]) {
    const level = 40 + random() * 50;
    const batch: PointInput[] = [];
    for (let i = 0; i < 5000; i++) {
      batch.push({
        signal,
        ts: T0 + Math.floor(random() * 86_400) * SEC,
        score: level + (random() - 0.5) * 20,
      });
    }
    store.apply(batch);
    ref.apply(batch);
  }
  for (let q = 0; q < 200; q++) {
    const a = T0 + Math.floor(random() * 86_400) * SEC;
    const b = a + Math.floor(random() * 86_400 * SEC);
    const expected = momentsOf(ref.scores(undefined, a, b));
    assertMomentsClose(momentsOfWindow(store.window(undefined, a, b)), expected, 1e-9, `query ${q}`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Exactness against the two-pass reference

Deno.test("PointStore.window() equals momentsOf() for thousands of random windows over random batches", () => {
  const random = mulberry32(1);
  const store = new PointStore();
  const ref = new Reference();
  const spanSec = 7 * 86_400;
  // Forty batches: appends, late arrivals, re-served copies and corrections, like ingest cycles with overlap.
  for (let batch = 0; batch < 40; batch++) {
    const records: PointInput[] = [];
    const size = 200 + Math.floor(random() * 2000);
    const centre = random() * spanSec;
    for (let i = 0; i < size; i++) {
      const signal = random() < 0.7 ? "alpha" : "beta";
      const offset = Math.floor((random() - 0.5) * 20_000);
      const ts = T0 + Math.min(spanSec, Math.max(0, Math.floor(centre + offset))) * SEC;
      const score = random() < 0.05 ? Math.round(random()) * 100 : 60 + random() * 40;
      records.push({ signal, ts, score });
    }
    store.apply(records);
    ref.apply(records);
  }
  let queries = 0;
  for (let q = 0; q < 3000; q++) {
    const a = T0 + Math.floor((random() * 1.1 - 0.05) * spanSec) * SEC;
    const lengthSec = random() < 0.3 ? Math.floor(random() * 600) : Math.floor(random() * spanSec);
    const b = a + lengthSec * SEC;
    const signal = q % 3 === 0 ? undefined : q % 3 === 1 ? "alpha" : "beta";
    const expected = momentsOf(ref.scores(signal, a, b));
    assertMomentsClose(momentsOfWindow(store.window(signal, a, b)), expected, 1e-9, `query ${q} ${signal}`);
    queries++;
  }
  equal(queries, 3000);
});

Deno.test("PointStore.window() stays exact after hundreds of merges into the middle", () => {
  // Each middle merge restarts the prefix sums from a stored (rounded) value; errors must not pile up.
  const random = mulberry32(77);
  const store = new PointStore();
  const ref = new Reference();
  const initial: PointInput[] = [];
  for (let i = 0; i < 20_000; i++) {
    initial.push({ signal: "a", ts: T0 + i * 2 * SEC, score: 70 + random() * 30 });
  }
  store.apply(initial);
  ref.apply(initial);
  for (let merge = 0; merge < 300; merge++) {
    const at = Math.floor(random() * 20_000);
    const batch = pointsAt("a", [at * 2 + 1, at * 2 + 2], [random() * 100, random() * 100]);
    store.apply(batch);
    ref.apply(batch);
  }
  for (let q = 0; q < 1000; q++) {
    const a = T0 + Math.floor(random() * 40_000) * SEC;
    const b = a + Math.floor(random() * 40_000) * SEC;
    assertMomentsClose(
      momentsOfWindow(store.window("a", a, b)),
      momentsOf(ref.scores("a", a, b)),
      1e-9,
      `query ${q}`,
    );
  }
});

Deno.test("Series.moments() falls back to the scores when prefix sums cannot resolve a tiny variance", () => {
  // A million points spread over 0..100, then a short stretch whose values differ only in the 9th decimal.
  const random = mulberry32(8);
  const n = 1_000_000;
  const ts = new Float64Array(n + 10);
  const score = new Float64Array(n + 10);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * SEC;
    score[i] = random() * 100;
  }
  for (let k = 0; k < 10; k++) {
    ts[n + k] = T0 + (n + k) * SEC;
    score[n + k] = 97.5 + k * 1e-9;
  }
  const series = new Series();
  series.merge(ts, score, n + 10);
  const [a, b] = series.range(T0 + (n - 1) * SEC, T0 + (n + 9) * SEC);
  equal(b - a, 10);
  const exact = momentsOf(score, n, n + 10);

  // What the prefix sums alone would say: M2 = Σd² − (Σd)²/n loses the 1e-18-scale M2 next to sums of ~1e9.
  const s1 = series.p1[b] - series.p1[a];
  const s2 = series.p2[b] - series.p2[a];
  const prefixOnlyM2 = s2 - (s1 * s1) / 10;
  ok(
    relativeError(prefixOnlyM2, exact.m2) > 1e-3,
    `the prefix-only M2 ${prefixOnlyM2} should be visibly wrong next to ${exact.m2}`,
  );

  assertMomentsClose(series.moments(a, b), exact, 1e-9, "fallback");
  // And through the store.
  const store = new PointStore();
  store.applyColumns("drift", ts, score);
  assertMomentsClose(
    momentsOfWindow(store.window("drift", T0 + (n - 1) * SEC, T0 + (n + 9) * SEC)),
    exact,
    1e-9,
    "store",
  );
});

Deno.test("PointStore.window() is exact when the level drifts far from the series mean", () => {
  // The shift K is the mean at the first build (~0.5); later appends sit near 99 with very small spread.
  const random = mulberry32(12);
  const store = new PointStore();
  const ref = new Reference();
  const first: PointInput[] = [];
  for (let i = 0; i < 1000; i++) first.push({ signal: "a", ts: T0 + i * SEC, score: random() });
  store.apply(first);
  ref.apply(first);
  for (let batch = 0; batch < 20; batch++) {
    const records: PointInput[] = [];
    for (let i = 0; i < 5000; i++) {
      const t = 1000 + batch * 5000 + i;
      records.push({ signal: "a", ts: T0 + t * SEC, score: 99 + random() * 1e-6 });
    }
    store.apply(records);
    ref.apply(records);
  }
  const endSec = 1000 + 20 * 5000;
  for (const lengthSec of [2, 3, 10, 100, 1000, 50_000, 100_000, endSec + 1]) {
    for (const endOffset of [0, 7, 4999, 33_333]) {
      const b = T0 + (endSec - 1 - endOffset) * SEC;
      const a = b - lengthSec * SEC;
      assertMomentsClose(
        momentsOfWindow(store.window("a", a, b)),
        momentsOf(ref.scores("a", a, b)),
        1e-9,
        `length ${lengthSec}s ending ${endOffset}s before the newest`,
      );
    }
  }
});

Deno.test("PointStore.window() is exact for values around 1e9", () => {
  // 1e9 + (−2, −1, 0, 1, 2): every window of whole cycles has mean 1e9 and M2 = 2 per point.
  const n = 100_000;
  const ts = new Float64Array(n);
  const score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = T0 + i * SEC;
    score[i] = 1e9 + ((i % 5) - 2);
  }
  const store = new PointStore();
  store.applyColumns("big", ts, score);
  const all = store.window("big", 0, Number.MAX_SAFE_INTEGER);
  equal(all.n, n);
  equal(all.mean, 1e9);
  ok(relativeError(all.m2, 2 * n) < 1e-9, `M2 ${all.m2}`);
  const random = mulberry32(4);
  for (let q = 0; q < 500; q++) {
    const from = Math.floor(random() * n);
    const to = Math.min(n, from + 1 + Math.floor(random() * n));
    const w = store.window("big", T0 + (from - 1) * SEC, T0 + (to - 1) * SEC);
    assertMomentsClose(momentsOfWindow(w), momentsOf(score, from, to), 1e-9, `[${from}, ${to})`);
  }
});

// ---------------------------------------------------------------------------------------------------------
// Eviction

Deno.test("PointStore.evictBefore() drops points strictly older than the cutoff", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120, 180], [10, 20, 30, 40]));
  store.apply(pointsAt("b", [0, 30], [50, 60]));
  equal(store.evictBefore(T0 + 60 * SEC), 3);
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [20, 30, 40]);
  equal(store.has("b"), false);
  deepEqual(store.signals().map((s) => s.signal), ["a"]);
  equal(store.evictBefore(T0 + 60 * SEC), 0);
  equal(store.size, 3);
});

Deno.test("PointStore.evictBefore() keeps later answers exact, through further appends and merges", () => {
  const random = mulberry32(31);
  const store = new PointStore();
  const ref = new Reference();
  const check = (label: string) => {
    for (let q = 0; q < 300; q++) {
      const a = T0 + Math.floor(random() * 200_000) * SEC;
      const b = a + Math.floor(random() * 100_000) * SEC;
      assertMomentsClose(
        momentsOfWindow(store.window("a", a, b)),
        momentsOf(ref.scores("a", a, b)),
        1e-9,
        label,
      );
    }
  };
  let t = 0;
  for (let round = 0; round < 8; round++) {
    const batch: PointInput[] = [];
    const level = 40 + random() * 60;
    for (let i = 0; i < 20_000; i++) {
      batch.push({ signal: "a", ts: T0 + (t++) * SEC, score: level + random() });
    }
    store.apply(batch);
    ref.apply(batch);
    // A late correction in the middle of what is held.
    const late = pointsAt("a", [t - 10_000.5], [random() * 100]);
    store.apply(late);
    ref.apply(late);
    const cutoff = T0 + (t - 30_000) * SEC;
    store.evictBefore(cutoff);
    ref.evictBefore(cutoff);
    check(`round ${round}`);
  }
  equal(store.size, ref.scores("a", -Infinity, Infinity).length);
});

Deno.test("PointStore.evictBefore() of every point empties the store and it can be refilled", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60], [10, 20]));
  equal(store.evictBefore(T0 + 3600 * SEC), 2);
  equal(store.size, 0);
  equal(store.newestMs(), null);
  deepEqual(store.signals(), []);
  store.apply(pointsAt("a", [0, 60], [30, 50]));
  const w = store.window("a", 0, Number.MAX_SAFE_INTEGER);
  equal(w.mean, 40);
  equal(w.m2, 200);
});

Deno.test("Series.evictBefore() shrinks capacity once most points are gone, and answers stay right", () => {
  const series = new Series();
  const n = 100_000;
  const ts = Float64Array.from({ length: n }, (_, i) => i);
  const score = Float64Array.from({ length: n }, (_, i) => (i * 37) % 101);
  series.merge(ts, score, n);
  const before = series.capacity;
  equal(series.evictBefore(n - 1000), n - 1000);
  ok(series.capacity < before / 4, `capacity ${series.capacity} after ${before}`);
  equal(series.length, 1000);
  assertMomentsClose(series.moments(0, 1000), momentsOf(score, n - 1000, n), 1e-12, "kept");
});

// ---------------------------------------------------------------------------------------------------------
// Listing and reading points

Deno.test("PointStore.signals() lists each signal with count and time range, sorted by name", () => {
  const store = new PointStore();
  store.apply(pointsAt("gamma", [10], [1]));
  store.apply(pointsAt("alpha", [60, 0, 30], [1, 2, 3]));
  store.apply(pointsAt("beta", [5, 6], [1, 2]));
  deepEqual(store.signals(), [
    { signal: "alpha", n: 3, oldestMs: T0, newestMs: T0 + 60 * SEC },
    { signal: "beta", n: 2, oldestMs: T0 + 5 * SEC, newestMs: T0 + 6 * SEC },
    { signal: "gamma", n: 1, oldestMs: T0 + 10 * SEC, newestMs: T0 + 10 * SEC },
  ]);
  equal(store.has("alpha"), true);
  equal(store.has("delta"), false);
  equal(store.size, 6);
});

Deno.test("PointStore.newestMs() is the newest timestamp across signals, or null when empty", () => {
  const store = new PointStore();
  equal(store.newestMs(), null);
  store.apply(pointsAt("a", [100, 50], [1, 2]));
  store.apply(pointsAt("b", [300], [1]));
  store.apply(pointsAt("c", [200], [1]));
  equal(store.newestMs(), T0 + 300 * SEC);
});

Deno.test("PointStore.points() returns the window oldest first, and with a limit the newest points", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 60, 120, 180, 240], [10, 20, 30, 40, 50]));
  deepEqual(store.points("a", T0, T0 + 180 * SEC).map((p) => p.score), [20, 30, 40]);
  deepEqual(store.points("a", T0 - 1, T0 + 240 * SEC, 2), [
    { signal: "a", ts: T0 + 180 * SEC, score: 40 },
    { signal: "a", ts: T0 + 240 * SEC, score: 50 },
  ]);
  deepEqual(store.points("a", T0 - 1, T0 + 240 * SEC, 0), []);
  equal(store.points("a", T0 - 1, T0 + 240 * SEC, 99).length, 5);
  deepEqual(store.points("nope", 0, Number.MAX_SAFE_INTEGER), []);
});

Deno.test("PointStore holds scores bit-exactly as given", () => {
  const store = new PointStore();
  const scores = [0.1 + 0.2, 1 / 3, 86.2, 5e-324, 100, 0, 99.99999999999999];
  store.apply(pointsAt("a", scores.map((_, i) => i), scores));
  deepEqual(store.points("a", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), scores);
});

// ---------------------------------------------------------------------------------------------------------
// Unit-scale detection

Deno.test("PointStore.window() flags a window whose scores are all within 0..1", () => {
  const store = new PointStore();
  store.apply(pointsAt("unit", [0, 1, 2, 3], [0, 0.5, 0.86, 1]));
  equal(store.window("unit", 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, true);
  equal(store.window("unit", T0, T0 + 3 * SEC).allWithinUnitScale, true);
});

Deno.test("PointStore.window() does not flag a window with any score above 1", () => {
  const store = new PointStore();
  store.apply(pointsAt("a", [0, 1, 2, 3], [0, 0, 0, 1.5])); // mean 0.375 ≤ 1, but one score is above 1
  equal(store.window("a", 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, false);
  equal(store.window("a", 0, T0 + 2 * SEC).allWithinUnitScale, true);
  store.apply(pointsAt("b", [0, 1], [80, 90]));
  equal(store.window("b", 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, false);
});

Deno.test("PointStore.window() pooled flags unit scale only if every signal's window is within 0..1", () => {
  const store = new PointStore();
  store.apply(pointsAt("unit", [0, 1, 2], [0.2, 0.3, 0.4]));
  store.apply(pointsAt("zeros", [0, 1], [0, 0]));
  equal(store.window(undefined, 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, true);
  // A 0..100 signal with a low level: the pooled mean stays ≤ 1, but its 2 is out of range.
  store.apply(pointsAt("low", [5], [2]));
  equal(store.window(undefined, 0, Number.MAX_SAFE_INTEGER).allWithinUnitScale, false);
  equal(store.window(undefined, 0, T0 + 2 * SEC).allWithinUnitScale, true);
});

Deno.test("PointStore.window() does not flag an empty window", () => {
  equal(new PointStore().window(undefined, 0, 1).allWithinUnitScale, false);
});

// ---------------------------------------------------------------------------------------------------------
// Growth

Deno.test("PointStore.applyColumns() grows past the initial capacity in many small appends", () => {
  const store = new PointStore();
  const all: number[] = [];
  for (let batch = 0; batch < 100; batch++) {
    const ts = Float64Array.from({ length: 37 }, (_, i) => T0 + (batch * 37 + i) * SEC);
    const score = Float64Array.from({ length: 37 }, (_, i) => ((batch * 37 + i) * 7919) % 100);
    all.push(...score);
    deepEqual(store.applyColumns("a", ts, score), { inserted: 37, updated: 0, duplicates: 0 });
  }
  equal(store.size, 3700);
  assertMomentsClose(
    momentsOfWindow(store.window("a", 0, Number.MAX_SAFE_INTEGER)),
    momentsOf(all),
    1e-12,
    "all",
  );
});

// ---------------------------------------------------------------------------------------------------------
// Small series (issue 12: many signals with few points each)

Deno.test("PointStore holds a one-point signal in columns of exactly one point, without prefix sums or tree", () => {
  const store = new PointStore();
  for (let i = 0; i < 1000; i++) store.apply([{ signal: `s${i}`, ts: T0 + i * SEC, score: i % 100 }]);
  // ts and score, 8 bytes each: no preallocated capacity, no prefix sums, no block tree.
  equal(store.byteLength / 1000, 16);
  const series = new Series();
  series.merge(Float64Array.of(T0), Float64Array.of(42), 1);
  equal(series.capacity, 1);
  equal(series.tree.byteLength, 0);
  equal(series.byteLength, 16);
  deepEqual(series.moments(0, 1), { n: 1, mean: 42, m2: 0 });
});

Deno.test("Series answers exactly across the small/large boundary, growing and then evicted back", () => {
  const random = mulberry32(12);
  const series = new Series();
  const all: number[] = [];
  // One point at a time past DIRECT_MAX (128) and on to 400, then evicted back down to 100.
  for (let i = 0; i < 400; i++) {
    const score = 60 + random() * 40;
    all.push(score);
    series.merge(Float64Array.of(T0 + i * SEC), Float64Array.of(score), 1);
    if (i % 37 === 0 || i === 127 || i === 128 || i === 129) {
      const a = Math.floor(random() * (i + 1));
      assertMomentsClose(
        series.moments(a, i + 1),
        momentsOf(all.slice(a, i + 1)),
        1e-12,
        `${i}: [${a}, ${i + 1})`,
      );
      equal(series.allWithinUnitScale(a, i + 1, 0.5), false);
    }
  }
  ok(series.tree.byteLength > 0, "a 400-point series has a block tree");
  equal(series.evictBefore(T0 + 300 * SEC), 300);
  equal(series.tree.byteLength, 0);
  assertMomentsClose(series.moments(0, 100), momentsOf(all.slice(300)), 1e-12, "after eviction");
  assertMomentsClose(series.moments(10, 60), momentsOf(all.slice(310, 360)), 1e-12, "after eviction, inner");
  // An out-of-order correction in a small series, then growth past the boundary again.
  series.merge(Float64Array.of(T0 + 350 * SEC), Float64Array.of(99), 1);
  all[350] = 99;
  const more = Float64Array.from({ length: 100 }, (_, i) => T0 + (400 + i) * SEC);
  const moreScores = Float64Array.from({ length: 100 }, () => random() * 100);
  series.merge(more, moreScores, 100);
  all.push(...moreScores);
  assertMomentsClose(series.moments(0, 200), momentsOf(all.slice(300)), 1e-12, "regrown");
});

Deno.test("PointStore.settle() makes every answer independent of the order points arrived in, bit for bit", () => {
  const random = mulberry32(16);
  const points: PointInput[] = Array.from({ length: 3000 }, (_, i) => ({
    signal: i % 3 === 0 ? "beta" : "alpha",
    ts: T0 + i * SEC + Math.floor(random() * 1000),
    score: 1e6 + random() * 100,
  }));
  // Unique times. One store gets everything at once; the other in small batches, newest first, signals in the
  // other order.
  const whole = new PointStore();
  whole.apply(points);
  const pieces = new PointStore();
  const reversed = [...points].reverse();
  for (let i = 0; i < reversed.length; i += 97) pieces.apply(reversed.slice(i, i + 97));
  const before = pieces.version;
  whole.settle(["alpha", "beta"]);
  pieces.settle(["alpha", "beta", "unknown"]);
  ok(pieces.version > before, "settling changes the version (cached answers are dropped)");
  for (const signal of ["alpha", "beta", undefined]) {
    for (
      const [from, to] of [[T0 - 1, T0 + 3000 * SEC], [T0 + 100 * SEC, T0 + 2000 * SEC], [
        T0 + 5 * SEC,
        T0 + 50 * SEC,
      ]]
    ) {
      deepEqual(pieces.window(signal, from, to), whole.window(signal, from, to));
      deepEqual(pieces.regression(signal, from, to), whole.regression(signal, from, to));
    }
  }
});

Deno.test("PointStore.columns() gives read-only views of a signal's sorted columns, null when it holds nothing", () => {
  const store = new PointStore();
  store.apply([{ signal: "a", ts: 2, score: 5 }, { signal: "a", ts: 1, score: 4 }]);
  const columns = store.columns("a")!;
  deepEqual([[...columns.ts], [...columns.score]], [[1, 2], [4, 5]]);
  equal(store.columns("b"), null);
});
