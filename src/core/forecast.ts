/**
 * The drift forecast: a least-squares line through the window's points, extrapolated, with the risk rules
 * applied to the extrapolation (SPEC "Forecast"). Pure: no I/O.
 *
 * With times tᵢ in seconds and scores xᵢ over the window (end − w, end]:
 *   slope b = Stx / Stt, with Stt = Σ (tᵢ − t̄)², Stx = Σ (tᵢ − t̄)(xᵢ − x̄); the line passes through (t̄, x̄);
 *   residual σₑ = √(SSE / (n − 2)), SSE = Sxx − Stx² / Stt; stderr(b) = σₑ / √Stt; t = b / stderr(b);
 *   r² = Stx² / (Stt · Sxx).
 * The trend is used when n ≥ 10 and |t| ≥ 2 (`significant`); otherwise the projection is flat (the current
 * mean) and a warning says why. The projected mean at horizon h is the line averaged over the future window
 * (end + h − w, end + h], i.e. the line at its middle: P(h) = x̄ + b · (end + h − w/2 − t̄), with a 95 % interval
 * ± q · stderr(b) · |end + h − w/2 − t̄| (q the Student t quantile with n − 2 degrees of freedom). The projected
 * stdev is the current σ, so the rules reduce to cut-offs on the mean (SPEC "Risk as a function of the mean"):
 * high below H = max(highMean, σ / highVolatility), medium below M = max(mediumMean, σ / mediumVolatility).
 */
import type { CoMoments } from "./regression_tree.ts";
import {
  classifyRisk,
  effectiveBoundaries,
  type EffectiveBoundary,
  fmt,
  type RiskDecision,
  type Thresholds,
} from "./risk.ts";
import { summarize, type Summary } from "./stats.ts";
import type { RiskLevel, WarningCode } from "./vocabulary.ts";

export const FORECAST_METHOD = "least-squares line through the window, averaged over the future window";

/** The trend is used only with at least this many points… */
export const MIN_TREND_POINTS = 10;
/** …and |t| at least this. */
export const MIN_TREND_T = 2;
/** Coverage of the projected mean's interval. */
export const INTERVAL_LEVEL = 0.95;

/** The least-squares line of a window. Times in seconds from `originMs`. */
export interface LineFit {
  n: number;
  /** Slope in score points per second; null when n < 2 or every point has the same time. */
  slope: number | null;
  /** stderr(b) per second; null when n < 3 or the slope is null. */
  stderr: number | null;
  /** b / stderr(b); null when either is null or stderr(b) = 0 (a perfect fit). */
  t: number | null;
  /** Share of the variance the line explains; null when Sxx = 0 or the slope is null. */
  r2: number | null;
  /** Mean time (epoch ms) and mean score: the point the line passes through. */
  tMeanMs: number | null;
  xMean: number | null;
}

/** Slope, stderr, t and r² of the window's least-squares line. `sxx` = Σ (xᵢ − x̄)² (the window's M2). */
export function fitLine(moments: CoMoments, originMs: number, sxx: number): LineFit {
  const { n, stt, stx } = moments;
  const tMeanMs = n === 0 ? null : originMs + (moments.uHi + moments.uLo) * 1000;
  const xMean = n === 0 ? null : moments.xHi + moments.xLo;
  if (n < 2 || !(stt > 0)) return { n, slope: null, stderr: null, t: null, r2: null, tMeanMs, xMean };
  const slope = stx / stt;
  const r2 = sxx > 0 ? Math.min(1, (stx * stx) / (stt * sxx)) : null;
  if (n < 3) return { n, slope, stderr: null, t: null, r2, tMeanMs, xMean };
  const sse = Math.max(0, sxx - stx * (stx / stt));
  const stderr = Math.sqrt(sse / (n - 2)) / Math.sqrt(stt);
  const t = stderr > 0 ? slope / stderr : null;
  return { n, slope, stderr, t, r2, tMeanMs, xMean };
}

/** One effective boundary on the mean and the rule that defines it. */
export interface MeanBoundary {
  value: number;
  /** `mean` when the mean cut-off decides, `volatility` when σ / cut-off is higher. */
  definedBy: "mean" | "volatility";
  text: string;
}

/**
 * The effective boundaries H and M on the mean for a window of stdev σ (SPEC "Risk as a function of the
 * mean"): high ⇔ μ < H, medium ⇔ H ≤ μ < M, low ⇔ μ ≥ M. Without σ (n < 2) the mean cut-offs alone.
 */
export function forecastBoundaries(
  stdev: number | null,
  t: Thresholds,
): { high: MeanBoundary; medium: MeanBoundary } {
  // The numbers are risk.ts's effective boundaries (one definition); this adds the forecast's words.
  const b = effectiveBoundaries({ n: stdev === null ? 1 : 2, stdev }, t)!;
  const one = (
    level: "high" | "medium",
    e: EffectiveBoundary,
    mean: number,
    volatility: number,
  ): MeanBoundary => {
    if (e.rule === "volatility") {
      return {
        value: e.mean,
        definedBy: "volatility",
        text: `${level} below σ / ${volatility} = ${fmt(stdev!)} / ${volatility} = ${
          fmt(e.mean)
        } (the volatility rule; higher than the mean cut-off ${mean})`,
      };
    }
    return {
      value: e.mean,
      definedBy: "mean",
      text: `${level} below the mean cut-off ${mean}` +
        (stdev === null
          ? " (no σ with fewer than 2 points)"
          : ` (σ / ${volatility} = ${fmt(stdev / volatility)})`),
    };
  };
  return {
    high: one("high", b.high, t.highMeanBelow, t.highVolatilityAbove),
    medium: one("medium", b.medium, t.mediumMeanBelow, t.mediumVolatilityAbove),
  };
}

/** When the projected mean first reaches one risk level. */
export interface Eta {
  /** Seconds after the window end (0: already there at the window end). */
  seconds: number;
  /** The window end + seconds, epoch ms (the caller formats it). */
  atMs: number;
}

export interface ForecastInput {
  /** Co-moments of the window's (time, score) pairs, times in seconds from `originMs`. */
  moments: CoMoments;
  originMs: number;
  /** The current window: mean, σ (its M2 is `m2`). */
  summary: Summary;
  m2: number;
  endMs: number;
  windowSec: number;
  horizonSec: number;
  /** Eta beyond this many seconds is null (MAX_WINDOW). */
  maxEtaSec: number;
  thresholds: Thresholds;
  /**
   * Student's t inverse CDF: p ↦ the quantile with `dof` degrees of freedom (the HTTP side passes jStat's
   * `studentt.inv`; core imports no packages).
   */
  studentTInv: (p: number, dof: number) => number;
}

export interface ForecastWarning {
  code: WarningCode;
  message: string;
}

export interface Forecast {
  method: string;
  horizonSec: number;
  atMs: number;
  n: number;
  slopePerHour: number | null;
  slopeStderrPerHour: number | null;
  t: number | null;
  r2: number | null;
  significant: boolean;
  /** The point the line passes through: mean time (epoch ms) and mean score. */
  tMeanMs: number | null;
  xMean: number | null;
  /** Seconds from the mean time to the middle of the future window (the lever arm of the slope). */
  leverSec: number | null;
  projectedMean: number | null;
  projectedMeanInterval: { level: number; low: number; high: number; quantile: number } | null;
  projectedStdev: number | null;
  projectedVolatilityIndex: number | null;
  boundaries: { high: MeanBoundary; medium: MeanBoundary };
  eta: Record<"low" | "medium" | "high", Eta | null>;
  currentRisk: RiskLevel;
  predictedDriftRisk: RiskLevel;
  rule: RiskDecision;
  text: string;
  warnings: ForecastWarning[];
}

/** The level of a mean against the effective boundaries (the mean-only view of the rules). */
function levelOf(mean: number, h: number, m: number): "low" | "medium" | "high" {
  return mean < h ? "high" : mean < m ? "medium" : "low";
}

/**
 * The first h ≥ 0 at which the line P(h) = p0 + b·h is at `level`, in closed form; null when it never is
 * within `maxSec`.
 */
export function etaSeconds(
  level: "low" | "medium" | "high",
  p0: number,
  b: number,
  h: number,
  m: number,
  maxSec: number,
): number | null {
  if (levelOf(p0, h, m) === level) return 0;
  let seconds: number | null = null;
  if (b < 0 && level === "high") seconds = (h - p0) / b;
  else if (b < 0 && level === "medium" && p0 >= m) seconds = (m - p0) / b;
  else if (b > 0 && level === "medium" && p0 < h) seconds = (h - p0) / b;
  else if (b > 0 && level === "low") seconds = (m - p0) / b;
  return seconds !== null && seconds <= maxSec ? seconds : null;
}

/** The forecast at `end + horizon` from the window's line. */
export function forecast(input: ForecastInput): Forecast {
  const { moments, originMs, summary, endMs, windowSec, horizonSec, thresholds } = input;
  const fit = fitLine(moments, originMs, input.m2);
  const current = classifyRisk(summary, thresholds);
  const warnings: ForecastWarning[] = [];
  const n = summary.n;
  const significant = n >= MIN_TREND_POINTS && fit.slope !== null && fit.slope !== 0 &&
    (fit.stderr === 0 || (fit.t !== null && Math.abs(fit.t) >= MIN_TREND_T));
  if (n < MIN_TREND_POINTS) {
    warnings.push({
      code: "trend_too_few_points",
      message: `Only ${n} point${
        n === 1 ? "" : "s"
      } in the window: a trend needs at least ${MIN_TREND_POINTS}, so the forecast is flat (the current mean)`,
    });
  } else if (!significant) {
    warnings.push({
      code: "trend_not_significant",
      message: fit.slope === null || fit.slope === 0
        ? "The window's slope is 0: the forecast is flat (the current mean)"
        : `The slope ${fmt(fit.slope * 3600)}/h is not significant (|t| = ${
          fmt(Math.abs(fit.t ?? 0))
        } < ${MIN_TREND_T}): the forecast is flat (the current mean)`,
    });
  }
  const atMs = endMs + horizonSec * 1000;
  // Seconds from the mean time to the middle of the future window, kept relative to the origin for precision.
  const leverSec = fit.tMeanMs === null
    ? null
    : ((endMs - originMs) / 1000 + horizonSec - windowSec / 2) - (moments.uHi + moments.uLo);
  const slope = significant ? fit.slope! : 0;
  const sigma = summary.stdev;
  const projectedMean = summary.mean === null
    ? null
    : significant
    ? fit.xMean! + slope * leverSec!
    : summary.mean;
  const quantile = fit.stderr !== null ? input.studentTInv(0.5 + INTERVAL_LEVEL / 2, n - 2) : null;
  const halfWidth = quantile !== null && leverSec !== null
    ? quantile * fit.stderr! * Math.abs(leverSec)
    : null;
  const projectedMeanInterval = projectedMean !== null && halfWidth !== null && quantile !== null
    ? { level: INTERVAL_LEVEL, low: projectedMean - halfWidth, high: projectedMean + halfWidth, quantile }
    : null;
  const projectedVolatilityIndex = projectedMean !== null && sigma !== null && projectedMean > 0
    ? sigma / projectedMean
    : null;
  const boundaries = forecastBoundaries(sigma, thresholds);
  const projectedSummary: Summary = {
    n,
    mean: projectedMean,
    stdev: sigma,
    volatilityIndex: projectedVolatilityIndex,
  };
  const rule = classifyRisk(projectedSummary, thresholds);
  const H = boundaries.high.value, M = boundaries.medium.value;
  // The line's value over the window ending now (h = 0): where the eta starts from.
  const p0 = projectedMean === null ? null : projectedMean - slope * horizonSec;
  const eta = { low: null, medium: null, high: null } as Forecast["eta"];
  if (p0 !== null) {
    for (const level of ["low", "medium", "high"] as const) {
      const seconds = etaSeconds(level, p0, slope, H, M, input.maxEtaSec);
      eta[level] = seconds === null ? null : { seconds, atMs: endMs + seconds * 1000 };
    }
  }
  const text = projectedMean === null
    ? "unknown: no points in the window, nothing to project"
    : `${significant ? `at ${fmt(slope * 3600)}/h` : "flat"}, the mean over the window ending ${
      fmt(horizonSec)
    } s after the end is ${fmt(projectedMean)}: ${rule.text}`;
  return {
    method: FORECAST_METHOD,
    horizonSec,
    atMs,
    n,
    slopePerHour: fit.slope === null ? null : fit.slope * 3600,
    slopeStderrPerHour: fit.stderr === null ? null : fit.stderr * 3600,
    t: fit.t,
    r2: fit.r2,
    significant,
    tMeanMs: fit.tMeanMs,
    xMean: fit.xMean,
    leverSec,
    projectedMean,
    projectedMeanInterval,
    projectedStdev: sigma,
    projectedVolatilityIndex,
    boundaries,
    eta,
    currentRisk: current.level,
    predictedDriftRisk: rule.level,
    rule,
    text,
    warnings,
  };
}

/** What the backtest reads: a window's moments and its least-squares co-moments (the point store). */
export interface BacktestSource {
  window(signal: string | undefined, startExclusiveMs: number, endInclusiveMs: number): {
    n: number;
    mean: number;
    m2: number;
  };
  regression(signal: string | undefined, startExclusiveMs: number, endInclusiveMs: number): {
    origin: number;
    moments: CoMoments;
  };
}

export type Confusion = Record<RiskLevel, Record<RiskLevel, number>>;

export interface BacktestScore {
  /** confusion[predicted][actual]. */
  confusion: Confusion;
  accuracy: number | null;
  meanAbsoluteError: number | null;
  errorsCounted: number;
}

export interface BacktestResult {
  fromMs: number | null;
  toMs: number | null;
  stepMs: number | null;
  points: number;
  significantShare: number | null;
  trend: BacktestScore;
  naive: BacktestScore;
}

export interface BacktestInput {
  signal: string | undefined;
  windowSec: number;
  horizonSec: number;
  /** Oldest and newest held timestamps of the series (epoch ms). */
  oldestMs: number;
  newestMs: number;
  /** At most this many evenly spaced window ends. */
  points: number;
  maxEtaSec: number;
  thresholds: Thresholds;
  studentTInv: (p: number, dof: number) => number;
}

function emptyConfusion(): Confusion {
  const row = () => ({ low: 0, medium: 0, high: 0, unknown: 0 });
  return { low: row(), medium: row(), high: row(), unknown: row() };
}

class Scorer {
  confusion = emptyConfusion();
  #correct = 0;
  #total = 0;
  #absError = 0;
  #errors = 0;
  add(predicted: RiskLevel, actual: RiskLevel, projected: number | null, actualMean: number | null): void {
    this.confusion[predicted][actual]++;
    this.#total++;
    if (predicted === actual) this.#correct++;
    if (projected !== null && actualMean !== null) {
      this.#absError += Math.abs(projected - actualMean);
      this.#errors++;
    }
  }
  score(): BacktestScore {
    return {
      confusion: this.confusion,
      accuracy: this.#total === 0 ? null : this.#correct / this.#total,
      meanAbsoluteError: this.#errors === 0 ? null : this.#absError / this.#errors,
      errorsCounted: this.#errors,
    };
  }
}

/** What {@linkcode forecastWindow} needs beyond the held data: the window is (end − w, end] of `signal`. */
export type WindowForecastInput = Omit<ForecastInput, "moments" | "originMs" | "summary" | "m2"> & {
  /** A signal name, or undefined for all signals pooled. */
  signal: string | undefined;
};

/**
 * The forecast over one window of held data: the window's moments and least-squares line from `source`, then
 * {@linkcode forecast}. Also returns the window's summary (the naive forecast's mean). The predict route and
 * the backtest both forecast through this.
 */
export function forecastWindow(
  source: BacktestSource,
  { signal, ...input }: WindowForecastInput,
): { forecast: Forecast; summary: Summary } {
  const startMs = input.endMs - input.windowSec * 1000;
  const now = source.window(signal, startMs, input.endMs);
  const summary = summarize(now);
  const line = source.regression(signal, startMs, input.endMs);
  return {
    summary,
    forecast: forecast({ ...input, moments: line.moments, originMs: line.origin, summary, m2: now.m2 }),
  };
}

/**
 * Replays the forecast at up to `points` evenly spaced window ends e in [oldest + w, newest − h] — windows
 * that start within the held data and whose e + h is held — and scores it against what then happened (the
 * window ending at e + h), beside the naive "nothing changes" forecast (the current mean and risk). Each end
 * costs two windows' moments and one line, O(B + log n) each.
 */
export function backtest(source: BacktestSource, input: BacktestInput): BacktestResult {
  const { signal, windowSec, horizonSec, thresholds } = input;
  const wMs = windowSec * 1000, hMs = horizonSec * 1000;
  const fromMs = input.oldestMs + wMs;
  const toMs = input.newestMs - hMs;
  const trend = new Scorer(), naive = new Scorer();
  if (fromMs > toMs || input.points < 1) {
    return {
      fromMs: null,
      toMs: null,
      stepMs: null,
      points: 0,
      significantShare: null,
      trend: trend.score(),
      naive: naive.score(),
    };
  }
  const count = fromMs === toMs ? 1 : input.points;
  const stepMs = count === 1 ? 0 : (toMs - fromMs) / (count - 1);
  let significant = 0;
  for (let i = 0; i < count; i++) {
    const endMs = i === count - 1 ? toMs : fromMs + i * stepMs;
    const { forecast: f, summary } = forecastWindow(source, {
      signal,
      endMs,
      windowSec,
      horizonSec,
      maxEtaSec: input.maxEtaSec,
      thresholds,
      studentTInv: input.studentTInv,
    });
    if (f.significant) significant++;
    const later = summarize(source.window(signal, endMs + hMs - wMs, endMs + hMs));
    const actual = classifyRisk(later, thresholds).level;
    trend.add(f.predictedDriftRisk, actual, f.projectedMean, later.mean);
    naive.add(f.currentRisk, actual, summary.mean, later.mean);
  }
  return {
    fromMs,
    toMs: count === 1 ? fromMs : toMs,
    stepMs,
    points: count,
    significantShare: significant / count,
    trend: trend.score(),
    naive: naive.score(),
  };
}
