/**
 * Formatting for the verification page: numbers, times, risk labels and empty-state texts. Pure (no DOM, no
 * I/O, no locale or time-zone dependence), so the server render and the hydrated islands print the same text.
 */
import { POOLED_SIGNAL, type RiskLevel } from "../core/vocabulary.ts";
import { formatWindow } from "../core/window.ts";
import { MIN_TREND_POINTS, MIN_TREND_T } from "../core/forecast.ts";
import type {
  BacktestResponse,
  Forecast,
  HistoryView,
  MetricsResponse,
  Selection,
  StoreOption,
  WindowOption,
} from "./types.ts";

/** Shown for a value that does not exist (n = 0, n = 1 stdev, …). */
export const MISSING = "—";

/** Fixed-point text; null, NaN and ±Infinity print as {@linkcode MISSING}, and −0 as 0. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A whole number with thin-space-free comma grouping: 1440 → "1,440", 1234567 → "1,234,567". */
export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const rounded = Math.round(value);
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return rounded < 0 ? `-${digits}` : digits;
}

function parseIso(iso: string | null | undefined): Date | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** "2025-10-29 17:43:00" in UTC (whole seconds, 24-hour clock, no zone suffix); unparsable text as given. */
export function formatDateTime(iso: string | null | undefined): string {
  const date = parseIso(iso);
  if (date === null) return iso ?? MISSING;
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** "2025-10-29 17:43:00 UTC" (whole seconds); anything unparsable prints as given. */
export function formatUtc(iso: string | null | undefined): string {
  const date = parseIso(iso);
  if (date === null) return iso ?? MISSING;
  return `${formatDateTime(iso)} UTC`;
}

/**
 * A window `(start, end]` in 24-hour UTC with its dates: "2026-12-02 08:09:34 to 09:09:34 UTC" within a day,
 * "2026-12-01 09:00:00 to 2026-12-02 09:00:00 UTC" across days.
 */
export function formatInterval(startIso: string, endIso: string): string {
  const start = formatDateTime(startIso);
  const end = formatDateTime(endIso);
  const sameDay = /^\d{4}-\d\d-\d\d /.test(start) && start.slice(0, 10) === end.slice(0, 10);
  return `${start} to ${sameDay ? end.slice(11) : end} UTC`;
}

/** Epoch seconds (uPlot's time axis) as "2025-10-29 17:43:00 UTC"; null or non-finite as {@linkcode MISSING}. */
export function formatEpochUtc(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return MISSING;
  return formatUtc(new Date(Math.round(seconds) * 1000).toISOString());
}

const pad2 = (value: number) => String(value).padStart(2, "0");

/**
 * uPlot's `fmtDate` option: whatever template uPlot asks for, a 24-hour "2025-10-29 17:43:00". uPlot hands it
 * dates from its `tzDate` option (`Etc/UTC` here), whose local fields are the UTC wall clock, so this reads
 * the local fields and never shows a 12-hour clock or the browser's zone.
 */
export function fmtDate24(_template: string): (date: Date) => string {
  return (date) =>
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${
      pad2(date.getMinutes())
    }:${pad2(date.getSeconds())}`;
}

/** A short age: "45 s", "12 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 90) return `${sec} s`;
  const min = Math.round(sec / 60);
  if (min < 90) return `${min} min`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** Window seconds as text: 3600 → "1h" (the API's own form). */
export function formatWindowSec(seconds: number): string {
  return formatWindow(seconds);
}

/** "all signals (*)" for the pooled signal, else the name. */
export function formatSignal(signal: string): string {
  return signal === POOLED_SIGNAL ? "all signals (*)" : signal;
}

const RISK_LABELS: Record<RiskLevel, string> = {
  low: "Low",
  medium: "Medium",
  high: "High",
  unknown: "Unknown",
};

/** "Low", "Medium", "High", "Unknown". */
export function riskLabel(level: RiskLevel): string {
  return RISK_LABELS[level] ?? RISK_LABELS.unknown;
}

/** The sentence next to the colour, so the level never depends on colour alone. */
export function riskHeadline(level: RiskLevel): string {
  return level === "unknown" ? "Drift risk unknown: not enough data" : `${riskLabel(level)} drift risk`;
}

/** CSS class for a risk level: `risk-low` … `risk-unknown`. */
export function riskClass(level: RiskLevel): string {
  return `risk-${level in RISK_LABELS ? level : "unknown"}`;
}

/**
 * Risk colours, shared by the chart markers and (by value) `static/page.css`. Each has at least 4.5:1
 * contrast on white, so it can colour text too.
 */
export const RISK_COLORS: Readonly<Record<RiskLevel, string>> = Object.freeze({
  low: "#15803d",
  medium: "#b45309",
  high: "#b91c1c",
  unknown: "#4b5563",
});

/** A window option as the select shows it: "1h (configured)". */
export function windowOptionLabel(option: WindowOption): string {
  return option.configured ? `${option.value} (configured)` : option.value;
}

/** A store option as the select shows it: "sqlite (active)". */
export function storeOptionLabel(option: StoreOption): string {
  return option.active ? `${option.mode} (active)` : option.mode;
}

/** What the history table says when it has no rows; null when it has some. */
export function historyEmptyMessage(view: HistoryView, selection: Selection): string | null {
  if (view.rows.length > 0) return null;
  if (!view.available) {
    return `No snapshots yet: the history could not be read (${view.problem ?? "no answer"}).`;
  }
  if (view.store === "none") {
    return "No snapshots: the none store keeps nothing (PERSISTENCE=none). Choose another store to read " +
      "what it holds.";
  }
  const what = `${formatSignal(selection.signal)} over ${selection.window}`;
  const note = view.note ? ` ${view.note}.` : "";
  return `No snapshots yet for ${what} in the ${view.store} store.${note} One row is written per ` +
    "configured window after each ingest cycle.";
}

/** A file name for the exported metrics: `coherence-metrics_alpha_1h_2025-10-29T17-43-00Z.json`. */
export function exportFileName(metrics: Pick<MetricsResponse, "signal" | "windowSec" | "timestamp">): string {
  const signal = metrics.signal === POOLED_SIGNAL ? "all" : metrics.signal.replace(/[^A-Za-z0-9._-]+/g, "_");
  const stamp = metrics.timestamp.replace(/\.\d+/, "").replace(/:/g, "-");
  return `coherence-metrics_${signal}_${formatWindow(metrics.windowSec)}_${stamp}.json`;
}

/** A duration in words, to the minute past one minute: "45 s", "12 m", "3 h 12 m", "2 d 5 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return MISSING;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} m`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** A rate per hour with its sign (a true minus): "−2.9/h", "+0.35/h"; 0.01 and above to 2 decimals. */
export function formatRate(perHour: number): string {
  const size = Math.abs(perHour);
  const digits = size >= 1 ? 1 : size >= 0.01 ? 2 : 4;
  const text = size.toFixed(digits);
  if (Number(text) === 0) return "0/h";
  return `${perHour < 0 ? "−" : "+"}${text}/h`;
}

/** A boundary as the sentence names it: whole numbers bare ("60"), others to 2 decimals ("61.27"). */
function formatBoundary(value: number): string {
  return Number.isInteger(value) ? String(value) : formatNumber(value, 2);
}

/** "2026-12-02 14:05 UTC": a forecast time, 24-hour UTC to the minute. */
export function formatMinuteUtc(iso: string): string {
  return `${formatDateTime(iso).slice(0, 16)} UTC`;
}

type Crossing = { level: "low" | "medium" | "high"; boundary: "high" | "medium" };

/** The boundaries a falling or rising mean crosses, in the order it meets them. */
const CROSSINGS: Record<"down" | "up", Crossing[]> = {
  down: [{ level: "medium", boundary: "medium" }, { level: "high", boundary: "high" }],
  up: [{ level: "medium", boundary: "high" }, { level: "low", boundary: "medium" }],
};

/**
 * The forecast verdict in words: with a significant trend, the rate and when the mean reaches each boundary
 * ("at −2.9/h the mean reaches the high boundary 60 in 3 h 12 m (2026-12-02 14:05 UTC)"); without one, why
 * the forecast is flat ("no significant trend (|t| = 0.8 < 2): the forecast is flat").
 */
export function forecastSentence(
  forecast: Pick<
    Forecast,
    "n" | "slopePerHour" | "t" | "significant" | "projectedMean" | "boundaries" | "eta"
  >,
): string {
  if (forecast.projectedMean === null) return "no forecast: there are no points in the window";
  if (!forecast.significant) {
    if (forecast.n < MIN_TREND_POINTS) {
      return `too few points for a trend (n = ${forecast.n} < ${MIN_TREND_POINTS}): the forecast is flat`;
    }
    if (forecast.slopePerHour === null || forecast.slopePerHour === 0 || forecast.t === null) {
      return "no trend (the slope is 0): the forecast is flat";
    }
    return `no significant trend (|t| = ${formatNumber(Math.abs(forecast.t), 1)} < ${MIN_TREND_T}): ` +
      "the forecast is flat";
  }
  const slope = forecast.slopePerHour!;
  const rate = `at ${formatRate(slope)}`;
  const direction = slope < 0 ? "down" : "up";
  const boundaryText = (boundary: "high" | "medium") =>
    `the ${boundary} boundary ${formatBoundary(forecast.boundaries[boundary].value)}`;
  const reached = CROSSINGS[direction].flatMap(({ level, boundary }) => {
    const eta = forecast.eta[level];
    if (eta === null || eta.seconds <= 0) return [];
    return [`${boundaryText(boundary)} in ${formatDuration(eta.seconds)} (${formatMinuteUtc(eta.at)})`];
  });
  if (reached.length > 0) return `${rate} the mean reaches ${reached.join(" and ")}`;
  if (direction === "down" && forecast.eta.high?.seconds === 0) {
    return `${rate} the mean stays below ${boundaryText("high")}`;
  }
  if (direction === "up" && forecast.eta.low?.seconds === 0) {
    return `${rate} the mean stays above ${boundaryText("medium")}`;
  }
  return `${rate} the mean reaches no other risk level within the longest window (MAX_WINDOW)`;
}

/**
 * The forecast's headline: "In 1 h (2026-12-02 14:05 UTC): medium risk, mean 71.30 (95 % interval 68.00 to
 * 74.60)".
 */
export function forecastHeadline(
  forecast: Pick<
    Forecast,
    "horizonSec" | "at" | "predictedDriftRisk" | "projectedMean" | "projectedMeanInterval"
  >,
): string {
  const when = `In ${formatDuration(forecast.horizonSec)} (${formatMinuteUtc(forecast.at)})`;
  if (forecast.projectedMean === null) return `${when}: risk unknown, nothing to project`;
  const interval = forecast.projectedMeanInterval;
  const range = interval === null
    ? ""
    : ` (${Math.round(interval.level * 100)} % interval ${formatNumber(interval.low)} to ${
      formatNumber(interval.high)
    })`;
  return `${when}: ${riskLabel(forecast.predictedDriftRisk).toLowerCase()} risk, mean ${
    formatNumber(forecast.projectedMean)
  }${range}`;
}

/** A share as a whole percentage: 0.714 → "71 %". */
function formatPercent(share: number | null): string {
  return share === null || !Number.isFinite(share) ? MISSING : `${Math.round(share * 100)} %`;
}

/**
 * The backtest in one line: "trend 71 % vs naive 64 % over 100 past window ends; mean absolute error 0.46 vs
 * 0.40", or why there is none yet.
 */
export function backtestLine(
  backtest: Pick<BacktestResponse, "points" | "trend" | "naive" | "note">,
): string {
  if (backtest.points === 0) {
    return `No backtest yet${backtest.note ? `: ${backtest.note}` : ": no past window end to replay"}`;
  }
  const ends = backtest.points === 1
    ? "1 past window end"
    : `${formatInteger(backtest.points)} past window ends`;
  return `trend ${formatPercent(backtest.trend.accuracy)} vs naive ${
    formatPercent(backtest.naive.accuracy)
  } over ${ends}; mean absolute error ${formatNumber(backtest.trend.meanAbsoluteError)} vs ${
    formatNumber(backtest.naive.meanAbsoluteError)
  }`;
}
