/**
 * The boundary that matters: with σ fixed, crossing `explain().nearestBoundary` (the mean just past it)
 * changes the classified level to the one it names, and no mean between the current one and the boundary does.
 */
import { equal, notEqual, ok } from "node:assert/strict";
import fc from "fast-check";
import { classifyRisk, DEFAULT_THRESHOLDS, explain, type Thresholds } from "../../src/core/risk.ts";
import type { Summary } from "../../src/core/stats.ts";

/** The summary of a window with σ fixed and another mean (n as given; σ unknown with one point). */
function withMean(n: number, stdev: number | null, mean: number): Summary {
  const volatilityIndex = stdev === null || mean === 0 ? null : stdev / mean;
  return { n, mean, stdev, volatilityIndex };
}

const thresholds = fc.oneof(
  fc.constant<Thresholds>({ ...DEFAULT_THRESHOLDS }),
  fc.record({
    mediumVolatilityAbove: fc.double({ min: 0.01, max: 0.2, noNaN: true }),
    highMeanBelow: fc.double({ min: 10, max: 60, noNaN: true }),
  }).chain(({ mediumVolatilityAbove, highMeanBelow }) =>
    fc.record({
      mediumVolatilityAbove: fc.constant(mediumVolatilityAbove),
      highVolatilityAbove: fc.double({ min: mediumVolatilityAbove * 1.1, max: 0.6, noNaN: true }),
      highMeanBelow: fc.constant(highMeanBelow),
      mediumMeanBelow: fc.double({ min: highMeanBelow * 1.1, max: 95, noNaN: true }),
    })
  ),
);

const window = fc.record({
  n: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 100_000 })),
  mean: fc.double({ min: 0.001, max: 100, noNaN: true }),
  stdev: fc.double({ min: 0, max: 50, noNaN: true }),
});

/** Relative margin for "just past" and "strictly between" (far above the rounding of σ / μ). */
const EPS = 1e-9;

Deno.test("crossing the nearest boundary (σ fixed) changes the level to the one it names", () => {
  fc.assert(
    fc.property(window, thresholds, ({ n, mean, stdev }, t) => {
      const sigma = n >= 2 ? stdev : null;
      const summary = withMean(n, sigma, mean);
      const level = classifyRisk(summary, t).level;
      const nearest = explain(summary, t).nearestBoundary;
      ok(nearest !== null);
      equal(nearest.from, level);
      const past = nearest.direction === "rise"
        ? nearest.changesAt * (1 + EPS) + EPS
        : nearest.changesAt * (1 - EPS) - EPS;
      fc.pre(past > 0);
      const crossed = classifyRisk(withMean(n, sigma, past), t).level;
      notEqual(crossed, level, `mean ${past} past ${nearest.text}`);
      equal(crossed, nearest.to);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("a mean between the current one and the nearest boundary (σ fixed) never changes the level", () => {
  fc.assert(
    fc.property(
      window,
      thresholds,
      fc.double({ min: 0, max: 1, noNaN: true }),
      ({ n, mean, stdev }, t, f) => {
        const sigma = n >= 2 ? stdev : null;
        const summary = withMean(n, sigma, mean);
        const level = classifyRisk(summary, t).level;
        const nearest = explain(summary, t).nearestBoundary;
        ok(nearest !== null);
        const between = mean + f * (nearest.changesAt - mean);
        // Strictly on the current side of the boundary: the boundary itself belongs to the upper level.
        fc.pre(Math.abs(between - nearest.changesAt) > EPS * (1 + nearest.changesAt) && between > 0);
        equal(classifyRisk(withMean(n, sigma, between), t).level, level, `mean ${between}: ${nearest.text}`);
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("the named boundary is the nearest that changes the level: for medium, no nearer crossing exists", () => {
  fc.assert(
    fc.property(window, thresholds, ({ n, mean, stdev }, t) => {
      const sigma = n >= 2 ? stdev : null;
      const summary = withMean(n, sigma, mean);
      const e = explain(summary, t);
      fc.pre(e.rule.level === "medium" && e.effectiveBoundaries !== null);
      const { high, medium } = e.effectiveBoundaries!;
      equal(e.nearestBoundary?.distance, Math.min(mean - high.mean, medium.mean - mean));
    }),
    { numRuns: 2000 },
  );
});
