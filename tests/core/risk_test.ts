import { deepEqual, equal, notStrictEqual, ok } from "node:assert/strict";
import {
  boundaries,
  classifyRisk,
  DEFAULT_THRESHOLDS,
  effectiveBoundaries,
  explain,
  fmt,
  FORMULA,
  misorderedThresholds,
  ruleTexts,
  THRESHOLD_ORDER,
  type Thresholds,
  validateThresholds,
} from "../../src/core/risk.ts";
import { momentsOf, summarize, type Summary } from "../../src/core/stats.ts";

/** A summary with n points (default 10) and the given mean and volatility index. */
function summaryOf(mean: number, volatilityIndex: number | null, n = 10): Summary {
  return { n, mean, stdev: volatilityIndex === null ? null : volatilityIndex * mean, volatilityIndex };
}

/** The neighbouring double of x towards +∞ (up) or −∞ (down), for x > 0. */
function nextDouble(x: number, direction: "up" | "down"): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + (direction === "up" ? 1n : -1n));
  return view.getFloat64(0);
}

const ABOVE_0_10 = nextDouble(0.1, "up");
const ABOVE_0_25 = nextDouble(0.25, "up");
const BELOW_60 = nextDouble(60, "down");
const BELOW_80 = nextDouble(80, "down");

Deno.test("nextDouble() (test helper) steps to the adjacent double", () => {
  equal(ABOVE_0_10, 0.10000000000000002);
  equal(ABOVE_0_25, 0.25000000000000006);
  equal(BELOW_60, 59.99999999999999);
  ok(BELOW_80 < 80);
  equal(nextDouble(BELOW_80, "up"), 80);
  equal(nextDouble(ABOVE_0_10, "down"), 0.1);
});

Deno.test("summarize() of 72, 80, 88 lands exactly on mean 80 and volatilityIndex 0.10", () => {
  // μ = 80, σ = √((64 + 0 + 64) / 2) = 8, σ / μ = 8 / 80, which rounds to the double 0.1.
  deepEqual(summarize(momentsOf([72, 80, 88])), { n: 3, mean: 80, stdev: 8, volatilityIndex: 0.1 });
});

Deno.test("classifyRisk() is low at volatilityIndex exactly 0.10 and mean exactly 80", () => {
  const decision = classifyRisk(summarize(momentsOf([72, 80, 88])));
  equal(decision.level, "low");
  deepEqual(decision.matched, ["volatilityIndex 0.1 ≤ 0.1", "mean 80 ≥ 80"]);
  equal(decision.condition, "volatilityIndex ≤ 0.1 and mean ≥ 80");
  equal(decision.text, "low because volatilityIndex 0.1 ≤ 0.1 and mean 80 ≥ 80");
});

Deno.test("classifyRisk() is not medium by volatility at volatilityIndex exactly 0.10", () => {
  equal(classifyRisk(summaryOf(90, 0.1)).level, "low");
  // With a medium mean it is medium, but only because of the mean.
  const decision = classifyRisk(summaryOf(70, 0.1));
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["60 ≤ mean 70 < 80"]);
});

Deno.test("classifyRisk() is medium just above volatilityIndex 0.10", () => {
  const decision = classifyRisk(summaryOf(90, ABOVE_0_10));
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["0.1 < volatilityIndex 0.1 ≤ 0.25"]);
});

Deno.test("classifyRisk() is medium, not high, at volatilityIndex exactly 0.25", () => {
  // μ = 80, σ = √((400 + 0 + 400) / 2) = 20, σ / μ = 0.25 exactly.
  const summary = summarize(momentsOf([60, 80, 100]));
  equal(summary.volatilityIndex, 0.25);
  const decision = classifyRisk(summary);
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["0.1 < volatilityIndex 0.25 ≤ 0.25"]);
  equal(classifyRisk(summaryOf(90, 0.25)).level, "medium");
});

Deno.test("classifyRisk() is high just above volatilityIndex 0.25", () => {
  const decision = classifyRisk(summaryOf(90, ABOVE_0_25));
  equal(decision.level, "high");
  deepEqual(decision.matched, ["volatilityIndex 0.25 > 0.25"]);
});

Deno.test("classifyRisk() is medium at mean exactly 60", () => {
  const decision = classifyRisk(summarize(momentsOf([60, 60, 60])));
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["60 ≤ mean 60 < 80"]);
});

Deno.test("classifyRisk() is high when the mean is below 60", () => {
  const decision = classifyRisk(summaryOf(BELOW_60, 0.01));
  equal(decision.level, "high");
  // The comparison is exact; the sentence rounds the value with fmt(), so only its shape is checked here.
  equal(decision.matched.length, 1);
  ok(decision.matched[0].startsWith("mean ") && decision.matched[0].endsWith(" < 60"), decision.matched[0]);
  equal(classifyRisk(summaryOf(52.1, 0.01)).text, "high because mean 52.1 < 60");
});

Deno.test("classifyRisk() is low at mean exactly 80 with volatilityIndex at most 0.10", () => {
  equal(classifyRisk(summarize(momentsOf([80, 80]))).level, "low");
  equal(classifyRisk(summaryOf(80, 0.05)).level, "low");
});

Deno.test("classifyRisk() is medium just below mean 80", () => {
  const decision = classifyRisk(summaryOf(BELOW_80, 0.05));
  equal(decision.level, "medium");
  equal(decision.matched.length, 1);
  ok(decision.matched[0].endsWith("< 80"));
});

Deno.test("classifyRisk() takes the first matching rule: volatilityIndex 0.3 with mean 70 is high", () => {
  const decision = classifyRisk(summaryOf(70, 0.3));
  equal(decision.level, "high");
  // Only the high rule's part is listed; the mean (a medium condition) is not.
  deepEqual(decision.matched, ["volatilityIndex 0.3 > 0.25"]);
  equal(decision.condition, "volatilityIndex > 0.25 or mean < 60");
});

Deno.test("classifyRisk() lists both high conditions when both hold", () => {
  const decision = classifyRisk(summaryOf(50, 0.3));
  equal(decision.level, "high");
  deepEqual(decision.matched, ["volatilityIndex 0.3 > 0.25", "mean 50 < 60"]);
  equal(decision.text, "high because volatilityIndex 0.3 > 0.25 and mean 50 < 60");
});

Deno.test("classifyRisk() lists both medium conditions when both hold", () => {
  const decision = classifyRisk(summaryOf(70, 0.2));
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["0.1 < volatilityIndex 0.2 ≤ 0.25", "60 ≤ mean 70 < 80"]);
  equal(decision.condition, "0.1 < volatilityIndex ≤ 0.25 or 60 ≤ mean < 80");
});

Deno.test("classifyRisk() is unknown with no points", () => {
  const decision = classifyRisk(summarize(momentsOf([])));
  deepEqual(decision, {
    level: "unknown",
    condition: "n = 0",
    matched: ["no points in the window"],
    text: "unknown: no points in the window",
  });
});

Deno.test("classifyRisk() with one point is high at mean 50", () => {
  const decision = classifyRisk(summarize(momentsOf([50])));
  equal(decision.level, "high");
  deepEqual(decision.matched, ["mean 50 < 60"]);
});

Deno.test("classifyRisk() with one point is medium at mean 70", () => {
  const decision = classifyRisk(summarize(momentsOf([70])));
  equal(decision.level, "medium");
  deepEqual(decision.matched, ["60 ≤ mean 70 < 80"]);
});

Deno.test("classifyRisk() with one point is unknown at mean 90 because low cannot be confirmed", () => {
  const decision = classifyRisk(summarize(momentsOf([90])));
  equal(decision.level, "unknown");
  equal(decision.condition, "volatilityIndex ≤ 0.1 and mean ≥ 80");
  deepEqual(decision.matched, ["mean 90 ≥ 80"]);
  equal(
    decision.text,
    "unknown: mean 90 ≥ 80 rules out high and medium, but a single point has no volatility, so low cannot be confirmed",
  );
  equal(classifyRisk(summarize(momentsOf([80]))).level, "unknown");
  equal(classifyRisk(summarize(momentsOf([60]))).level, "medium");
});

Deno.test("classifyRisk() at mean 0 is high because the mean alone decides it", () => {
  const summary = summarize(momentsOf([0, 0, 0]));
  equal(summary.volatilityIndex, null);
  const decision = classifyRisk(summary);
  equal(decision.level, "high");
  deepEqual(decision.matched, ["mean 0 < 60"]);
});

Deno.test("classifyRisk() is unknown with an undefined volatility index when the mean rules out the rest", () => {
  // Only reachable with thresholds that let mean 0 pass both mean cut-offs.
  const t: Thresholds = {
    highVolatilityAbove: 0.25,
    mediumVolatilityAbove: 0.1,
    highMeanBelow: -20,
    mediumMeanBelow: -10,
  };
  const decision = classifyRisk(summarize(momentsOf([0, 0])), t);
  equal(decision.level, "unknown");
  ok(decision.text.includes("the volatility index is undefined at mean 0"), decision.text);
});

const CUSTOM: Thresholds = {
  highVolatilityAbove: 0.5,
  mediumVolatilityAbove: 0.2,
  highMeanBelow: 50,
  mediumMeanBelow: 70,
};

Deno.test("classifyRisk() uses custom thresholds", () => {
  equal(classifyRisk(summaryOf(75, 0.15), CUSTOM).level, "low");
  equal(classifyRisk(summaryOf(75, 0.15)).level, "medium"); // default thresholds
  equal(classifyRisk(summaryOf(55, 0.15), CUSTOM).level, "medium");
  equal(classifyRisk(summaryOf(75, 0.3), CUSTOM).level, "medium");
  equal(classifyRisk(summaryOf(75, 0.3)).level, "high");
  equal(classifyRisk(summaryOf(45, 0.1), CUSTOM).level, "high");
  equal(classifyRisk(summaryOf(90, 0.6), CUSTOM).level, "high");
});

Deno.test("classifyRisk() writes custom thresholds into its condition and matched texts", () => {
  const decision = classifyRisk(summaryOf(55, 0.3), CUSTOM);
  equal(decision.level, "medium");
  equal(decision.condition, "0.2 < volatilityIndex ≤ 0.5 or 50 ≤ mean < 70");
  deepEqual(decision.matched, ["0.2 < volatilityIndex 0.3 ≤ 0.5", "50 ≤ mean 55 < 70"]);
});

Deno.test("ruleTexts() writes the three rules with the thresholds", () => {
  deepEqual(ruleTexts(DEFAULT_THRESHOLDS), {
    high: "volatilityIndex > 0.25 or mean < 60",
    medium: "0.1 < volatilityIndex ≤ 0.25 or 60 ≤ mean < 80",
    low: "volatilityIndex ≤ 0.1 and mean ≥ 80",
  });
});

Deno.test("DEFAULT_THRESHOLDS are the specified 0.25, 0.10, 60, 80 and cannot be changed", () => {
  deepEqual({ ...DEFAULT_THRESHOLDS }, {
    highVolatilityAbove: 0.25,
    mediumVolatilityAbove: 0.1,
    highMeanBelow: 60,
    mediumMeanBelow: 80,
  });
  ok(Object.isFrozen(DEFAULT_THRESHOLDS));
});

Deno.test("misorderedThresholds() names each broken pair of THRESHOLD_ORDER, lower cut-off first", () => {
  deepEqual(misorderedThresholds(DEFAULT_THRESHOLDS), []);
  deepEqual(misorderedThresholds({ ...DEFAULT_THRESHOLDS, mediumVolatilityAbove: 0.3, highMeanBelow: 80 }), [
    ["mediumVolatilityAbove", "highVolatilityAbove"],
    ["highMeanBelow", "mediumMeanBelow"],
  ]);
  deepEqual(misorderedThresholds({ ...DEFAULT_THRESHOLDS, mediumMeanBelow: Number.NaN }), [
    THRESHOLD_ORDER[1],
  ]);
});

Deno.test("validateThresholds() accepts the defaults and well-ordered custom thresholds", () => {
  deepEqual(validateThresholds(DEFAULT_THRESHOLDS), []);
  deepEqual(validateThresholds(CUSTOM), []);
});

Deno.test("validateThresholds() reports a medium volatility cut-off not below the high one", () => {
  const problems = validateThresholds({ ...DEFAULT_THRESHOLDS, mediumVolatilityAbove: 0.3 });
  deepEqual(problems, ["the medium volatility cut-off (0.3) must be below the high one (0.25)"]);
  equal(validateThresholds({ ...DEFAULT_THRESHOLDS, mediumVolatilityAbove: 0.25 }).length, 1);
});

Deno.test("validateThresholds() reports a high mean cut-off not below the medium one", () => {
  const problems = validateThresholds({ ...DEFAULT_THRESHOLDS, highMeanBelow: 85 });
  deepEqual(problems, ["the high mean cut-off (85) must be below the medium one (80)"]);
  equal(validateThresholds({ ...DEFAULT_THRESHOLDS, highMeanBelow: 80 }).length, 1);
});

Deno.test("validateThresholds() reports both problems, and NaN as a problem", () => {
  equal(validateThresholds({ ...CUSTOM, mediumVolatilityAbove: 1, highMeanBelow: 90 }).length, 2);
  equal(validateThresholds({ ...CUSTOM, highVolatilityAbove: Number.NaN }).length, 1);
  equal(validateThresholds({ ...CUSTOM, mediumMeanBelow: Number.NaN }).length, 1);
});

Deno.test("boundaries() says mean 81.2 is 1.2 above the medium cut-off 80", () => {
  const list = boundaries(summaryOf(81.2, 0.05));
  const nearest = list[0];
  equal(nearest.metric, "coherenceMean");
  equal(nearest.cutoff, "medium");
  equal(nearest.threshold, 80);
  equal(nearest.side, "above");
  equal(nearest.text, "mean 81.2 is 1.2 above the medium cut-off 80");
  // The distance itself is not rounded.
  equal(nearest.distance, 81.2 - 80);
  equal(nearest.relativeDistance, (81.2 - 80) / 80);
});

Deno.test("boundaries() lists every cut-off, nearest in relative terms first", () => {
  const list = boundaries(summaryOf(81.2, 0.05));
  deepEqual(list.map((b) => `${b.metric}/${b.cutoff}`), [
    "coherenceMean/medium", // 1.2 / 80 = 0.015
    "coherenceMean/high", // 21.2 / 60 ≈ 0.353
    "volatilityIndex/medium", // 0.05 / 0.1 = 0.5
    "volatilityIndex/high", // 0.2 / 0.25 = 0.8
  ]);
  for (let i = 1; i < list.length; i++) ok(list[i - 1].relativeDistance <= list[i].relativeDistance);
  equal(list[1].text, "mean 81.2 is 21.2 above the high cut-off 60");
  equal(list[2].text, "volatilityIndex 0.05 is 0.05 below the medium cut-off 0.1");
  equal(list[3].text, "volatilityIndex 0.05 is 0.2 below the high cut-off 0.25");
});

Deno.test("boundaries() compares metrics by relative distance, so a near volatility cut-off comes first", () => {
  // vi 0.24 is 0.01 (4 %) below 0.25; mean 70 is 10 (12.5 %) below 80.
  const list = boundaries(summaryOf(70, 0.24));
  equal(list[0].metric, "volatilityIndex");
  equal(list[0].cutoff, "high");
  equal(list[0].text, "volatilityIndex 0.24 is 0.01 below the high cut-off 0.25");
});

Deno.test("boundaries() says when a value is exactly at a cut-off", () => {
  const list = boundaries(summarize(momentsOf([72, 80, 88])));
  const atMean = list.find((b) => b.metric === "coherenceMean" && b.cutoff === "medium");
  const atVi = list.find((b) => b.metric === "volatilityIndex" && b.cutoff === "medium");
  equal(atMean?.side, "at");
  equal(atMean?.distance, 0);
  equal(atMean?.text, "mean 80 is exactly at the medium cut-off 80 (mean < cut-off is medium)");
  equal(atVi?.side, "at");
  equal(
    atVi?.text,
    "volatilityIndex 0.1 is exactly at the medium cut-off 0.1 (volatilityIndex > cut-off is medium)",
  );
});

Deno.test("boundaries() has only the mean cut-offs for one point and none for no points", () => {
  const one = boundaries(summarize(momentsOf([70])));
  deepEqual(one.map((b) => `${b.metric}/${b.cutoff}/${b.side}`), [
    "coherenceMean/medium/below",
    "coherenceMean/high/above",
  ]);
  deepEqual(boundaries(summarize(momentsOf([]))), []);
});

Deno.test("boundaries() measures against custom thresholds", () => {
  const list = boundaries(summaryOf(72, 0.05), CUSTOM);
  equal(list[0].text, "mean 72 is 2 above the medium cut-off 70");
});

Deno.test("explain() has formula, thresholds, rules, the rule that fired and the boundaries", () => {
  const summary = summarize(momentsOf([80, 82, 84, 86]));
  const e = explain(summary);
  deepEqual(Object.keys(e).sort(), [
    "boundaries",
    "effectiveBoundaries",
    "formula",
    "nearestBoundary",
    "rule",
    "rules",
    "thresholds",
  ]);
  deepEqual(e.formula, {
    mean: "μ = (1/n) Σ xᵢ",
    stdev: "σ = √(Σ (xᵢ − μ)² / (n − 1))",
    volatilityIndex: "volatilityIndex = σ / μ",
  });
  deepEqual(e.thresholds, { ...DEFAULT_THRESHOLDS });
  deepEqual(e.rules, ruleTexts(DEFAULT_THRESHOLDS));
  deepEqual(e.rule, classifyRisk(summary));
  equal(e.rule.level, "low");
  deepEqual(e.boundaries, boundaries(summary));
  equal(e.boundaries.length, 4);
  deepEqual(e.effectiveBoundaries, effectiveBoundaries(summary));
  equal(e.nearestBoundary?.changesAt, 80, "low: a fall below M = 80 would make it medium");
});

Deno.test("explain() echoes custom thresholds and applies them", () => {
  const e = explain(summaryOf(55, 0.3), CUSTOM);
  deepEqual(e.thresholds, CUSTOM);
  deepEqual(e.rules, ruleTexts(CUSTOM));
  equal(e.rule.level, "medium");
  // σ = 16.5: H = max(50, 16.5 / 0.4 = 41.25) = 50 (mean rule), M = max(70, 16.5 / 0.2 = 82.5) = 82.5.
  equal(e.nearestBoundary?.changesAt, 50);
  equal(e.nearestBoundary?.rule, "mean");
  equal(e.nearestBoundary?.direction, "fall");
});

Deno.test("explain() returns copies, so callers cannot change FORMULA or the thresholds passed in", () => {
  const t = { ...CUSTOM };
  const e = explain(summaryOf(90, 0.05), t);
  notStrictEqual(e.thresholds, t);
  notStrictEqual(e.formula, FORMULA);
  e.thresholds.highMeanBelow = 0;
  e.formula.mean = "changed";
  equal(t.highMeanBelow, 50);
  equal(FORMULA.mean, "μ = (1/n) Σ xᵢ");
});

Deno.test("explain() with no points has no boundaries and a null nearestBoundary", () => {
  const e = explain(summarize(momentsOf([])));
  equal(e.rule.level, "unknown");
  deepEqual(e.boundaries, []);
  equal(e.effectiveBoundaries, null);
  equal(e.nearestBoundary, null);
});

Deno.test("effectiveBoundaries() is H = max(highMean, σ / highVolatility) and M = max(mediumMean, σ / mediumVolatility), naming the rule", () => {
  deepEqual(effectiveBoundaries({ n: 24, stdev: 20.7 }), {
    high: { mean: 20.7 / 0.25, rule: "volatility", threshold: 0.25 },
    medium: { mean: 20.7 / 0.1, rule: "volatility", threshold: 0.1 },
    stdev: 20.7,
  });
  deepEqual(effectiveBoundaries({ n: 24, stdev: 3 }), {
    high: { mean: 60, rule: "mean", threshold: 60 },
    medium: { mean: 80, rule: "mean", threshold: 80 },
    stdev: 3,
  });
  deepEqual(effectiveBoundaries({ n: 24, stdev: 12 }), {
    high: { mean: 60, rule: "mean", threshold: 60 },
    medium: { mean: 12 / 0.1, rule: "volatility", threshold: 0.1 },
    stdev: 12,
  });
  equal(
    effectiveBoundaries({ n: 24, stdev: 15 })?.high.rule,
    "mean",
    "a tie (15 / 0.25 = 60) names the mean rule",
  );
});

Deno.test("effectiveBoundaries() keeps the mean cut-offs alone with one point, and is null with none", () => {
  deepEqual(effectiveBoundaries({ n: 1, stdev: null }), {
    high: { mean: 60, rule: "mean", threshold: 60 },
    medium: { mean: 80, rule: "mean", threshold: 80 },
    stdev: null,
  });
  equal(effectiveBoundaries({ n: 0, stdev: null }), null);
});

Deno.test("nearestBoundary for gamma names the volatility rule, not the mean cut-off 60 that cannot matter", () => {
  const summary = { n: 1440, mean: 65.8, stdev: 20.7, volatilityIndex: 20.7 / 65.8 };
  const nearest = explain(summary).nearestBoundary;
  equal(nearest?.from, "high");
  equal(nearest?.boundary, "high");
  equal(nearest?.rule, "volatility");
  equal(nearest?.direction, "rise");
  equal(nearest?.changesAt, 20.7 / 0.25);
  ok(Math.abs((nearest?.distance ?? 0) - 17) < 1e-9);
  equal(nearest?.to, "medium");
  equal(
    nearest?.text,
    "the level is high because volatilityIndex 0.31459 > 0.25; with σ 20.7 the mean would have to rise 17 to " +
      "82.8 (the volatility rule: σ 20.7 / 0.25 = 82.8) for the level to become medium",
  );
});

Deno.test("nearestBoundary when medium is the nearer of H (fall) and M (rise)", () => {
  const fall = explain({ n: 60, mean: 85, stdev: 12, volatilityIndex: 12 / 85 }).nearestBoundary;
  equal(fall?.direction, "fall");
  equal(fall?.changesAt, 60);
  equal(fall?.to, "high");
  const rise = explain({ n: 60, mean: 71, stdev: 2, volatilityIndex: 2 / 71 }).nearestBoundary;
  equal(rise?.direction, "rise");
  equal(rise?.changesAt, 80);
  equal(rise?.to, "low");
  equal(
    rise?.text,
    "the level is medium because 60 ≤ mean 71 < 80; with σ 2 the mean would have to rise 9 to 80 (the mean cut-off 80) for the level to become low",
  );
});

Deno.test("nearestBoundary says when the boundary is above 100 (out of reach), and uses mean cut-offs with one point", () => {
  const far = explain({ n: 20, mean: 70, stdev: 30, volatilityIndex: 30 / 70 }).nearestBoundary;
  equal(far?.changesAt, 120);
  equal(far?.withinScale, false);
  ok(far?.text.endsWith("above 100, out of reach on the 0–100 score scale with this spread"));
  const one = explain(summarize(momentsOf([90]))).nearestBoundary;
  equal(one?.from, "unknown");
  equal(one?.rule, "mean");
  equal(one?.changesAt, 80);
  equal(one?.to, "medium");
  ok(one?.text.includes("with no σ (one point: only the mean cut-offs apply)"));
});

Deno.test("explain() output survives JSON without NaN or Infinity", () => {
  for (const values of [[], [50], [0, 0], [72, 80, 88], [0, 100]]) {
    const text = JSON.stringify(explain(summarize(momentsOf(values))));
    ok(!/NaN|Infinity/.test(text), text);
    equal(JSON.stringify(JSON.parse(text)), text);
  }
});

Deno.test("fmt() keeps up to 4 decimals, 4 significant digits below 1, and drops trailing zeros", () => {
  equal(fmt(80), "80");
  equal(fmt(0), "0");
  equal(fmt(81.2 - 80), "1.2");
  equal(fmt(52.14159), "52.1416");
  equal(fmt(0.08318903308077029), "0.083189");
  equal(fmt(0.00012345678), "0.00012346");
  equal(fmt(-1.23456), "-1.2346");
  equal(fmt(0.1), "0.1");
  equal(fmt(ABOVE_0_10), "0.1");
});
