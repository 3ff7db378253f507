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

/** Which rule sets an effective boundary: the mean cut-off, or the volatility cut-off turned into a mean. */
export type BoundaryRule = "mean" | "volatility";

/** One effective boundary on the mean (σ fixed): H (below it: high) or M (below it: at best medium). */
export interface EffectiveBoundary {
  /** The mean at which the level changes: max(mean cut-off, σ / volatility cut-off). */
  mean: number;
  /** The rule that sets it (`mean` on a tie). */
  rule: BoundaryRule;
  /** That rule's configured cut-off: a mean (60, 80) or a volatility index (0.25, 0.10). */
  threshold: number;
}

/** H and M of the SPEC ("Risk as a function of the mean"), for one window's σ. */
export interface EffectiveBoundaries {
  high: EffectiveBoundary;
  medium: EffectiveBoundary;
  /** The σ held fixed; null with one point, when only the mean cut-offs apply. */
  stdev: number | null;
}

/** The boundary the current mean would have to cross, σ fixed, for the level to change. */
export interface NearestBoundary {
  /** Which effective boundary: `high` is H (high | medium), `medium` is M (medium | low). */
  boundary: "high" | "medium";
  rule: BoundaryRule;
  /** The rule's configured cut-off (mean or volatility index). */
  threshold: number;
  stdev: number | null;
  /** The current mean. */
  value: number;
  /** The mean at which the level changes (H or M). */
  changesAt: number;
  /** `rise` to reach `changesAt`, or `fall` below it. */
  direction: "rise" | "fall";
  /** |changesAt − value|, unrounded. */
  distance: number;
  from: RiskLevel;
  /** The level once the boundary is crossed (σ fixed). */
  to: RiskLevel;
  /** False when `changesAt` is above 100: out of reach on the 0–100 score scale with this spread. */
  withinScale: boolean;
  text: string;
}

export interface Explanation {
  formula: { mean: string; stdev: string; volatilityIndex: string };
  thresholds: Thresholds;
  rules: { high: string; medium: string; low: string };
  rule: RiskDecision;
  /** Distance from each known metric to each raw cut-off, nearest first (a cut-off here may not matter). */
  boundaries: Boundary[];
  /** H and M for this σ; null with no points. */
  effectiveBoundaries: EffectiveBoundaries | null;
  /** The effective boundary that would change the level; null with no points. */
  nearestBoundary: NearestBoundary | null;
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

/**
 * H and M (SPEC, "Risk as a function of the mean"): with σ fixed, for μ > 0 the rules reduce to cut-offs on the
 * mean — high ⇔ μ < H = max(highMean, σ / highVolatility), medium ⇔ H ≤ μ < M = max(mediumMean,
 * σ / mediumVolatility), low ⇔ μ ≥ M. With one point (σ unknown) only the mean cut-offs apply; with no points
 * there is nothing to fix σ from (null).
 */
export function effectiveBoundaries(
  summary: Pick<Summary, "n" | "stdev">,
  t: Thresholds = DEFAULT_THRESHOLDS,
): EffectiveBoundaries | null {
  if (summary.n === 0) return null;
  const stdev = summary.n >= 2 ? summary.stdev : null;
  const one = (meanCutoff: number, volatilityCutoff: number): EffectiveBoundary => {
    const byVolatility = stdev === null ? -Infinity : stdev / volatilityCutoff;
    return byVolatility > meanCutoff
      ? { mean: byVolatility, rule: "volatility", threshold: volatilityCutoff }
      : { mean: meanCutoff, rule: "mean", threshold: meanCutoff };
  };
  return {
    high: one(t.highMeanBelow, t.highVolatilityAbove),
    medium: one(t.mediumMeanBelow, t.mediumVolatilityAbove),
    stdev,
  };
}

/** The level of a mean against H and M (σ fixed); `unknown` above M when σ is unknown (one point). */
function levelAt(mean: number, b: EffectiveBoundaries): RiskLevel {
  if (mean < b.high.mean) return "high";
  if (mean < b.medium.mean) return "medium";
  return b.stdev === null ? "unknown" : "low";
}

/**
 * The effective boundary the mean would cross to change level, σ fixed: H when high (rise), M when low or
 * unknown above M (fall), and the nearer of H (fall) and M (rise) when medium (a tie names the fall). Null with
 * no points.
 */
export function nearestBoundary(
  summary: Summary,
  t: Thresholds = DEFAULT_THRESHOLDS,
  decision: RiskDecision = classifyRisk(summary, t),
): NearestBoundary | null {
  const b = effectiveBoundaries(summary, t);
  const mean = summary.mean;
  if (b === null || mean === null) return null;
  // The level as classified (not re-derived from H and M), so the sentence never contradicts the rule at a tie.
  const level = decision.level;
  let boundary: "high" | "medium";
  let direction: "rise" | "fall";
  if (level === "high") [boundary, direction] = ["high", "rise"];
  else if (level !== "medium") [boundary, direction] = ["medium", "fall"];
  else if (mean - b.high.mean <= b.medium.mean - mean) [boundary, direction] = ["high", "fall"];
  else [boundary, direction] = ["medium", "rise"];
  const { mean: changesAt, rule, threshold } = b[boundary];
  const distance = Math.abs(changesAt - mean);
  const to = direction === "rise" ? levelAt(changesAt, b) : boundary === "high" ? "high" : "medium";
  const withinScale = changesAt <= 100;
  const why = decision.level === "unknown"
    ? `the level is ${decision.text}`
    : `the level is ${decision.level} because ${decision.matched.join(" and ")}`;
  const sigma = b.stdev === null
    ? "with no σ (one point: only the mean cut-offs apply)"
    : `with σ ${fmt(b.stdev)}`;
  const setBy = rule === "volatility"
    ? `the volatility rule: σ ${fmt(b.stdev ?? 0)} / ${threshold} = ${fmt(changesAt)}`
    : `the mean cut-off ${threshold}`;
  const move = direction === "rise"
    ? `the mean would have to rise ${fmt(distance)} to ${
      fmt(changesAt)
    } (${setBy}) for the level to become ${to}`
    : `a fall of ${fmt(distance)} to below ${fmt(changesAt)} (${setBy}) would make the level ${to}`;
  const reach = withinScale ? "" : " — above 100, out of reach on the 0–100 score scale with this spread";
  return {
    boundary,
    rule,
    threshold,
    stdev: b.stdev,
    value: mean,
    changesAt,
    direction,
    distance,
    from: decision.level,
    to,
    withinScale,
    text: `${why}; ${sigma} ${move}${reach}`,
  };
}

/** The whole `explain` object of a metrics response. */
export function explain(summary: Summary, t: Thresholds = DEFAULT_THRESHOLDS): Explanation {
  const rule = classifyRisk(summary, t);
  return {
    formula: { ...FORMULA },
    thresholds: { ...t },
    rules: ruleTexts(t),
    rule,
    boundaries: boundaries(summary, t),
    effectiveBoundaries: effectiveBoundaries(summary, t),
    nearestBoundary: nearestBoundary(summary, t, rule),
  };
}
