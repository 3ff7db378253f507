/**
 * The regression prefix sums (`src/core/regression_prefix.ts`): block-granular columns built lazily, extended
 * on append, rebuilt after anything else, and an answer only within the error bound (else null: the caller
 * falls back to the regression tree).
 */
import { equal, ok } from "node:assert/strict";
import { Series } from "../../src/core/point_store.ts";
import { PREFIX_BLOCK, RegressionPrefix } from "../../src/core/regression_prefix.ts";
import { coMomentsOf } from "../../src/core/regression_tree.ts";
import { mulberry32, relativeError, SEC, T0 } from "./support.ts";

function seriesOf(n: number, score: (i: number) => number, stepMs = SEC): Series {
  const series = new Series();
  const ts = Float64Array.from({ length: n }, (_, i) => T0 + i * stepMs);
  series.merge(ts, Float64Array.from({ length: n }, (_, i) => score(i)), n);
  return series;
}

Deno.test("RegressionPrefix.query() over a long window equals the two-pass co-moments, from columns of one entry per 16 points", () => {
  const random = mulberry32(5);
  const series = seriesOf(10_000, (i) => 50 + i * 1e-3 + 10 * (random() - 0.5));
  const prefix = new RegressionPrefix();
  equal(prefix.byteLength, 0, "nothing before the first query");
  for (const [a, b] of [[0, 10_000], [17, 9_990], [3_001, 8_000]]) {
    const fast = prefix.query(series, a, b);
    ok(fast, `[${a}, ${b}) within the bound`);
    const exact = coMomentsOf(series.ts, prefix.origin, series.score, a, b);
    ok(relativeError(fast.stt, exact.stt) < 1e-12, `Stt ${fast.stt} vs ${exact.stt}`);
    ok(relativeError(fast.stx, exact.stx) < 1e-10, `Stx ${fast.stx} vs ${exact.stx}`);
    ok(relativeError(fast.uHi + fast.uLo, exact.uHi + exact.uLo) < 1e-12, "mean time");
    ok(relativeError(fast.xHi + fast.xLo, exact.xHi + exact.xLo) < 1e-14, "mean score");
  }
  equal(prefix.byteLength, 3 * 8 * (Math.floor(series.capacity / PREFIX_BLOCK) + 1));
});

Deno.test("RegressionPrefix.query() is null when the bound exceeds the tolerance: a short window late in a long series", () => {
  // 30 days at one point a minute; the last 2 hours (120 points, past DIRECT_MAX with a margin: 121..).
  const series = seriesOf(43_200, (i) => 80 + 1e-6 * Math.sin(i), 60 * SEC);
  const prefix = new RegressionPrefix();
  equal(prefix.query(series, 43_200 - 200, 43_200), null);
  ok(prefix.query(series, 0, 43_200), "the whole series is within the bound");
});

Deno.test("RegressionPrefix extends after appends (same origin) and rebuilds after an out-of-order merge or eviction", () => {
  const random = mulberry32(8);
  const series = seriesOf(1_000, () => 60 + random());
  const prefix = new RegressionPrefix();
  const agree = (label: string) => {
    const fast = prefix.query(series, 0, series.length);
    ok(fast, label);
    const exact = coMomentsOf(series.ts, prefix.origin, series.score, 0, series.length);
    ok(relativeError(fast.stt, exact.stt) < 1e-12, `${label}: Stt`);
    ok(relativeError(fast.stx, exact.stx) < 1e-9, `${label}: Stx ${fast.stx} vs ${exact.stx}`);
  };
  agree("first build");
  const origin = prefix.origin;
  for (let k = 0; k < 20; k++) {
    const from = series.ts[series.length - 1];
    const n = 1 + Math.floor(random() * 40);
    series.merge(
      Float64Array.from({ length: n }, (_, i) => from + (i + 1) * SEC),
      Float64Array.from({ length: n }, () => 60 + random()),
      n,
    );
    agree(`append ${k}`);
  }
  equal(prefix.origin, origin, "appends keep the origin (the sums were extended, not rebuilt)");
  series.merge(Float64Array.of(T0 + 500), Float64Array.of(61), 1);
  prefix.reset(); // what Series does on a merge into the held points
  agree("after an out-of-order merge");
  ok(prefix.origin !== origin, "rebuilt with a fresh origin");
  series.evictBefore(T0 + 300 * SEC);
  prefix.reset();
  agree("after an eviction");
});

Deno.test("a series never forecast holds no regression structures", () => {
  const series = seriesOf(5_000, (i) => i % 7);
  const before = series.byteLength;
  series.moments(0, 5_000);
  equal(series.byteLength, before);
  equal(series.regression(0, 5_000).path, "prefix");
  ok(series.byteLength > before);
  ok(series.byteLength - before <= 3 * 8 * (series.capacity / PREFIX_BLOCK + 1), "only the prefix columns");
});
