/**
 * Rule-based drift risk and its explanation. Pure: no I/O.
 *
 * Rules, first match wins (thresholds configurable, defaults shown):
 *   high:   volatilityIndex > 0.25 or mean < 60
 *   medium: 0.10 < volatilityIndex ≤ 0.25 or 60 ≤ mean < 80
 *   low:    volatilityIndex ≤ 0.10 and mean ≥ 80
 * Where the volatility index is unknown (n < 2, or μ = 0) the mean alone may still decide high or medium;
 * otherwise the risk is `unknown`.
 */
import type { Summary } from "./stats.ts";
import type { RiskLevel } from "./vocabulary.ts";

export interface Thresholds {
  /** volatilityIndex above this is high risk (default 0.25). */
  highVolatilityAbove: number;
  /** volatilityIndex above this (and not high) is medium risk (default 0.10). */
  mediumVolatilityAbove: number;
  /** mean below this is high risk (default 60). */
  highMeanBelow: number;
  /** mean below this (and not high) is medium risk (default 80). */
  mediumMeanBelow: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  highVolatilityAbove: 0.25,
  mediumVolatilityAbove: 0.1,
  highMeanBelow: 60,
  mediumMeanBelow: 80,
});

export interface RiskDecision {
  level: RiskLevel;
  /** The rule as configured, e.g. `volatilityIndex > 0.25 or mean < 60`. */
  condition: string;
  /** The parts of the condition that held, with the numbers, e.g. `mean 52.1 < 60`. */
  matched: string[];
  /** One sentence: the level and why. */
  text: string;
}

export interface Boundary {
  metric: "coherenceMean" | "volatilityIndex";
  value: number;
  /** Threshold name: `high` or `medium` cut-off. */
  cutoff: "high" | "medium";
  threshold: number;
  /** |value − threshold|, unrounded. */
  distance: number;
  /** distance / threshold: how boundaries of different metrics are compared. */
  relativeDistance: number;
  side: "above" | "below" | "at";
  text: string;
}

export interface Explanation {
  formula: { mean: string; stdev: string; volatilityIndex: string };
  thresholds: Thresholds;
  rules: { high: string; medium: string; low: string };
  rule: RiskDecision;
  /** Distance from each known metric to each cut-off, nearest first. */
  boundaries: Boundary[];
  nearestBoundary: Boundary | null;
}

export const FORMULA = Object.freeze({
  mean: "μ = (1/n) Σ xᵢ",
  stdev: "σ = √(Σ (xᵢ − μ)² / (n − 1))",
  volatilityIndex: "volatilityIndex = σ / μ",
});

/**
 * The ordering rule: in each pair the first cut-off must be below the second (medium below high volatility,
 * high below medium mean), or a level could never be reached.
 */
export const THRESHOLD_ORDER = [
  ["mediumVolatilityAbove", "highVolatilityAbove"],
  ["highMeanBelow", "mediumMeanBelow"],
] as const satisfies readonly (readonly [keyof Thresholds, keyof Thresholds])[];

/** The pairs of {@linkcode THRESHOLD_ORDER} that `t` breaks (NaN breaks its pairs); empty when ordered. */
export function misorderedThresholds(t: Thresholds): (typeof THRESHOLD_ORDER)[number][] {
  return THRESHOLD_ORDER.filter(([lower, upper]) => !(t[lower] < t[upper]));
}

const CUTOFF_WORDS: Record<keyof Thresholds, { level: string; metric: string }> = {
  highVolatilityAbove: { level: "high", metric: "volatility" },
  mediumVolatilityAbove: { level: "medium", metric: "volatility" },
  highMeanBelow: { level: "high", metric: "mean" },
  mediumMeanBelow: { level: "medium", metric: "mean" },
};

/** Checks that thresholds are ordered (see {@linkcode THRESHOLD_ORDER}); one sentence per broken pair. */
export function validateThresholds(t: Thresholds): string[] {
  return misorderedThresholds(t).map(([lower, upper]) => {
    const { level, metric } = CUTOFF_WORDS[lower];
    return `the ${level} ${metric} cut-off (${t[lower]}) must be below the ${
      CUTOFF_WORDS[upper].level
    } one (${t[upper]})`;
  });
}

export function ruleTexts(t: Thresholds): Explanation["rules"] {
  return {
    high: `volatilityIndex > ${t.highVolatilityAbove} or mean < ${t.highMeanBelow}`,
    medium:
      `${t.mediumVolatilityAbove} < volatilityIndex ≤ ${t.highVolatilityAbove} or ${t.highMeanBelow} ≤ mean < ${t.mediumMeanBelow}`,
    low: `volatilityIndex ≤ ${t.mediumVolatilityAbove} and mean ≥ ${t.mediumMeanBelow}`,
  };
}

/** Formats a number for sentences: up to 4 decimals, no trailing zeros. JSON fields stay unrounded. */
export function fmt(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 1 ? 4 : 4 - Math.floor(Math.log10(abs));
  return String(Number(x.toFixed(Math.min(12, Math.max(0, digits)))));
}

/** Applies the rules, first match wins. */
export function classifyRisk(summary: Summary, t: Thresholds = DEFAULT_THRESHOLDS): RiskDecision {
  const rules = ruleTexts(t);
  const { n, mean, volatilityIndex: vi } = summary;
  if (n === 0 || mean === null) {
    return {
      level: "unknown",
      condition: "n = 0",
      matched: ["no points in the window"],
      text: "unknown: no points in the window",
    };
  }
  const high: string[] = [];
  if (vi !== null && vi > t.highVolatilityAbove) {
    high.push(`volatilityIndex ${fmt(vi)} > ${t.highVolatilityAbove}`);
  }
  if (mean < t.highMeanBelow) high.push(`mean ${fmt(mean)} < ${t.highMeanBelow}`);
  if (high.length > 0) return decision("high", rules.high, high);

  const medium: string[] = [];
  if (vi !== null && vi > t.mediumVolatilityAbove) {
    medium.push(`${t.mediumVolatilityAbove} < volatilityIndex ${fmt(vi)} ≤ ${t.highVolatilityAbove}`);
  }
  if (mean < t.mediumMeanBelow) medium.push(`${t.highMeanBelow} ≤ mean ${fmt(mean)} < ${t.mediumMeanBelow}`);
  if (medium.length > 0) return decision("medium", rules.medium, medium);

  if (vi === null) {
    const why = n === 1 ? "a single point has no volatility" : "the volatility index is undefined at mean 0";
    return {
      level: "unknown",
      condition: rules.low,
      matched: [`mean ${fmt(mean)} ≥ ${t.mediumMeanBelow}`],
      text: `unknown: mean ${
        fmt(mean)
      } ≥ ${t.mediumMeanBelow} rules out high and medium, but ${why}, so low cannot be confirmed`,
    };
  }
  return decision("low", rules.low, [
    `volatilityIndex ${fmt(vi)} ≤ ${t.mediumVolatilityAbove}`,
    `mean ${fmt(mean)} ≥ ${t.mediumMeanBelow}`,
  ]);
}

function decision(level: RiskLevel, condition: string, matched: string[]): RiskDecision {
  return { level, condition, matched, text: `${level} because ${matched.join(" and ")}` };
}

/** Distances from the mean and the volatility index to every cut-off, nearest (relative) first. */
export function boundaries(summary: Summary, t: Thresholds = DEFAULT_THRESHOLDS): Boundary[] {
  const result: Boundary[] = [];
  const { mean, volatilityIndex: vi } = summary;
  if (mean !== null) {
    result.push(
      boundary("coherenceMean", "mean", mean, "medium", t.mediumMeanBelow, "mean < cut-off is medium"),
    );
    result.push(boundary("coherenceMean", "mean", mean, "high", t.highMeanBelow, "mean < cut-off is high"));
  }
  if (vi !== null) {
    result.push(
      boundary(
        "volatilityIndex",
        "volatilityIndex",
        vi,
        "medium",
        t.mediumVolatilityAbove,
        "volatilityIndex > cut-off is medium",
      ),
    );
    result.push(
      boundary(
        "volatilityIndex",
        "volatilityIndex",
        vi,
        "high",
        t.highVolatilityAbove,
        "volatilityIndex > cut-off is high",
      ),
    );
  }
  return result.sort((a, b) => a.relativeDistance - b.relativeDistance);
}

function boundary(
  metric: Boundary["metric"],
  label: string,
  value: number,
  cutoff: Boundary["cutoff"],
  threshold: number,
  meaning: string,
): Boundary {
  const distance = Math.abs(value - threshold);
  const side = value > threshold ? "above" : value < threshold ? "below" : "at";
  const text = side === "at"
    ? `${label} ${fmt(value)} is exactly at the ${cutoff} cut-off ${threshold} (${meaning})`
    : `${label} ${fmt(value)} is ${fmt(distance)} ${side} the ${cutoff} cut-off ${threshold}`;
  const relativeDistance = threshold === 0 ? distance : distance / Math.abs(threshold);
  return { metric, value, cutoff, threshold, distance, relativeDistance, side, text };
}

/** The whole `explain` object of a metrics response. */
export function explain(summary: Summary, t: Thresholds = DEFAULT_THRESHOLDS): Explanation {
  const all = boundaries(summary, t);
  return {
    formula: { ...FORMULA },
    thresholds: { ...t },
    rules: ruleTexts(t),
    rule: classifyRisk(summary, t),
    boundaries: all,
    nearestBoundary: all[0] ?? null,
  };
}
