/**
 * uPlot options and data for the trend chart, built by pure functions (no DOM, no uPlot import), so they are
 * unit-tested without a browser. The island passes them to `new uPlot(options, data, element)`.
 *
 * Two panes share the x axis and the cursor (uPlot's `cursor.sync`). The mean pane (uPlot's aligned data, x
 * in epoch seconds): 0 time · 1 mean · 2 mean + σ · 3 mean − σ · 4 high cut-off · 5 medium cut-off · 6–9 risk
 * markers (low, medium, high, unknown) at the mean of the full windows with that risk · 10 hollow grey markers
 * at the mean of the partial windows ({@linkcode partialWindows}) · 11 forecast (dashed, from the current mean
 * at the window end to the projected mean at end + horizon) · 12–13 its 95 % interval (a band, zero wide at the
 * end). The x values run past the last window end to end + horizon ({@linkcode buildForecastLine}). The
 * volatility pane: 0 time · 1 volatility index · 2 high cut-off · 3 medium cut-off, over the same x values.
 */
import {
  fmtDate24,
  formatDateTime,
  formatEpochUtc,
  formatInteger,
  formatNumber,
  formatSignal,
  formatUtc,
  formatWindowSec,
  RISK_COLORS,
  riskLabel,
} from "./format.ts";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";
import type {
  Forecast,
  PredictResponse,
  SeriesPoint,
  SeriesResponse,
  Thresholds,
  TransitionBody,
} from "./types.ts";

export const SERIES = Object.freeze({
  time: 0,
  mean: 1,
  upper: 2,
  lower: 3,
  highCutoff: 4,
  mediumCutoff: 5,
  markers: { low: 6, medium: 7, high: 8, unknown: 9 } as Readonly<Record<RiskLevel, number>>,
  partial: 10,
  forecast: 11,
  forecastUpper: 12,
  forecastLower: 13,
});

export const VOLATILITY_SERIES = Object.freeze({ time: 0, volatility: 1, highCutoff: 2, mediumCutoff: 3 });

/** The key both panes' cursors share (uPlot's `cursor.sync.key`). */
export const CURSOR_SYNC_KEY = "coherence-chart";

/**
 * A window is partial when it holds fewer points than this share of a full window (the median n of the
 * series' non-empty windows), or when it carries any data warning (too few samples, stale, reaching before the
 * held history, …).
 */
export const PARTIAL_SHARE = 0.5;

export const MARKER_LEVELS: readonly RiskLevel[] = RISK_LEVELS;

export const CHART_COLORS = Object.freeze({
  mean: "#1d4ed8",
  band: "rgba(29, 78, 216, 0.14)",
  bandEdge: "rgba(29, 78, 216, 0.45)",
  axis: "#374151",
  grid: "#e5e7eb",
  volatility: "#7c3aed",
  partial: "#6b7280",
  forecast: "#a21caf",
  forecastBand: "rgba(162, 28, 175, 0.14)",
});

/** uPlot's aligned data: x values then one array per series, `null` for a gap. */
export type ChartData = [number[], ...(number | null)[][]];

/** The subset of uPlot's `Series` options these builders set. */
export interface ChartSeries {
  label?: string;
  stroke?: string;
  fill?: string;
  width?: number;
  dash?: number[];
  spanGaps?: boolean;
  paths?: () => null;
  points?: { show: boolean; size?: number; width?: number; fill?: string; stroke?: string };
  value?: (self: unknown, raw: number | null) => string;
}

/** A y scale's range function (uPlot calls it with the data's extent). */
export type RangeFn = (self: unknown, min: number | null, max: number | null) => [number, number];

export interface ChartAxis {
  label?: string;
  values?: (self: unknown, splits: number[]) => string[];
  stroke: string;
  grid: { stroke: string; width: number };
  ticks: { stroke: string; width: number };
  size?: number;
  labelSize?: number;
  labelFont?: string;
  font?: string;
}

/** The subset of uPlot's `Options` these builders set. */
export interface ChartOptions {
  width: number;
  height: number;
  series: ChartSeries[];
  bands: { series: [number, number]; fill: string }[];
  scales: { x: { time: true }; y: { range: RangeFn } };
  axes: ChartAxis[];
  /** The page draws its own legend and readout (one line, 24-hour UTC), so uPlot's table stays hidden. */
  legend: { show: false };
  cursor: { points: { show: boolean }; sync: { key: string } };
  /** 24-hour dates whatever template uPlot asks for (with `tzDate` set to UTC by the island). */
  fmtDate: (template: string) => (date: Date) => string;
}

/** The score scale's bounds. */
const SCORE_MIN = 0;
const SCORE_MAX = 100;

/**
 * The y range for data spanning `[min, max]` (band edges and threshold lines included): padded by 8 % of the
 * span (at least 2 points) and clamped to the 0–100 score scale; the whole scale when there is no data.
 */
export function yRange(min: number | null, max: number | null): [number, number] {
  if (min === null || max === null || !Number.isFinite(min) || !Number.isFinite(max)) {
    return [SCORE_MIN, SCORE_MAX];
  }
  const lo = Math.min(min, max);
  const hi = Math.max(min, max);
  const pad = Math.max(2, (hi - lo) * 0.08);
  return [Math.max(SCORE_MIN, Math.floor(lo - pad)), Math.min(SCORE_MAX, Math.ceil(hi + pad))];
}

/** Mean ± σ; null where either is missing (n < 2 has no σ, so no band there). */
function band(point: SeriesPoint, sign: 1 | -1): number | null {
  if (point.coherenceMean === null || point.stdev === null) return null;
  return point.coherenceMean + sign * point.stdev;
}

/** The median n of the windows that hold any points; 0 when none do. */
export function fullWindowN(points: readonly Pick<SeriesPoint, "n">[]): number {
  const counts = points.map((p) => p.n).filter((n) => n > 0).sort((a, b) => a - b);
  if (counts.length === 0) return 0;
  const middle = Math.floor(counts.length / 2);
  return counts.length % 2 === 1 ? counts[middle] : (counts[middle - 1] + counts[middle]) / 2;
}

/** Whether each point is a partial window: n below {@linkcode PARTIAL_SHARE} of a full window, or warned. */
export function partialWindows(points: readonly Pick<SeriesPoint, "n" | "warnings">[]): boolean[] {
  const full = fullWindowN(points);
  return points.map((p) => p.warnings.length > 0 || p.n < full * PARTIAL_SHARE);
}

/**
 * The forecast as the chart draws it: x values (epoch seconds) at the window end and at end + horizon, the line
 * from the current mean to the projected mean, and its 95 % interval (zero wide at the end, the interval at
 * end + horizon; null without one). Flat when the trend is not significant. Null when there is nothing to
 * draw (no mean, or end + horizon not after the end).
 */
export interface ForecastLine {
  xs: [number, number];
  mean: [number, number];
  upper: [number, number] | null;
  lower: [number, number] | null;
  /** True when the trend is not significant, so the projection is the current mean. */
  flat: boolean;
}

export function buildForecastLine(
  predict: Pick<PredictResponse, "coherenceMean"> & {
    inputs: Pick<PredictResponse["inputs"], "end_ts">;
    forecast: Pick<Forecast, "at" | "projectedMean" | "projectedMeanInterval" | "significant">;
  },
): ForecastLine | null {
  const { forecast, coherenceMean } = predict;
  const start = Date.parse(predict.inputs.end_ts) / 1000;
  const end = Date.parse(forecast.at) / 1000;
  if (coherenceMean === null || forecast.projectedMean === null || !(end > start)) return null;
  const interval = forecast.projectedMeanInterval;
  return {
    xs: [start, end],
    mean: [coherenceMean, forecast.projectedMean],
    upper: interval ? [coherenceMean, interval.high] : null,
    lower: interval ? [coherenceMean, interval.low] : null,
    flat: !forecast.significant,
  };
}

/** The x values of the points and the forecast together, ascending, each once. */
function chartXs(points: readonly SeriesPoint[], forecast: ForecastLine | null): number[] {
  const xs = points.map((p) => Date.parse(p.timestamp) / 1000);
  if (forecast === null) return xs;
  return [...new Set([...xs, ...forecast.xs])].sort((a, b) => a - b);
}

/** Values per x: each point's value at its x, `at` the forecast's x values, null elsewhere. */
function alignTo(
  xs: readonly number[],
  points: readonly SeriesPoint[],
  value: (point: SeriesPoint, index: number) => number | null,
): (number | null)[] {
  const byX = new Map(points.map((p, i) => [Date.parse(p.timestamp) / 1000, value(p, i)]));
  return xs.map((x) => byX.get(x) ?? null);
}

function forecastValues(
  xs: readonly number[],
  forecast: ForecastLine | null,
  values: ForecastLine["mean"] | null | undefined,
): (number | null)[] {
  if (!forecast || !values) return xs.map(() => null);
  return xs.map((x) => x === forecast.xs[0] ? values[0] : x === forecast.xs[1] ? values[1] : null);
}

/**
 * The index of the series point drawn at each x of {@linkcode buildChartData}'s data (null at a forecast-only
 * x), so the readout finds the point under the cursor.
 */
export function pointIndexes(points: readonly SeriesPoint[], xs: readonly number[]): (number | null)[] {
  const byX = new Map(points.map((p, i) => [Date.parse(p.timestamp) / 1000, i]));
  return xs.map((x) => byX.get(x) ?? null);
}

/**
 * The aligned data for a series response's points (in their order), the configured thresholds (drawn across
 * the whole x range, forecast included) and the forecast ({@linkcode buildForecastLine}; null draws none).
 */
export function buildChartData(
  points: readonly SeriesPoint[],
  thresholds: Thresholds,
  forecast: ForecastLine | null = null,
): ChartData {
  const partial = partialWindows(points);
  const xs = chartXs(points, forecast);
  const data: ChartData = [
    xs,
    alignTo(xs, points, (p) => p.coherenceMean),
    alignTo(xs, points, (p) => band(p, 1)),
    alignTo(xs, points, (p) => band(p, -1)),
    xs.map(() => thresholds.highMeanBelow),
    xs.map(() => thresholds.mediumMeanBelow),
  ];
  for (const level of MARKER_LEVELS) {
    data[SERIES.markers[level]] = alignTo(
      xs,
      points,
      (p, i) => p.predictedDriftRisk === level && !partial[i] ? p.coherenceMean : null,
    );
  }
  data[SERIES.partial] = alignTo(xs, points, (p, i) => partial[i] ? p.coherenceMean : null);
  data[SERIES.forecast] = forecastValues(xs, forecast, forecast?.mean);
  data[SERIES.forecastUpper] = forecastValues(xs, forecast, forecast?.upper);
  data[SERIES.forecastLower] = forecastValues(xs, forecast, forecast?.lower);
  return data;
}

/**
 * The volatility pane's aligned data: the index at each window end and the two volatility cut-offs, over the
 * same x values as the mean pane (so the synced panes line up when the forecast extends the range).
 */
export function buildVolatilityData(
  points: readonly SeriesPoint[],
  thresholds: Thresholds,
  forecast: ForecastLine | null = null,
): ChartData {
  const xs = chartXs(points, forecast);
  return [
    xs,
    alignTo(xs, points, (p) => p.volatilityIndex),
    xs.map(() => thresholds.highVolatilityAbove),
    xs.map(() => thresholds.mediumVolatilityAbove),
  ];
}

/** The legend's forecast line: what the dashed line and the band are, and whether the projection is flat. */
export function forecastLegend(forecast: ForecastLine | null): string {
  if (forecast === null) return "forecast: none (no mean to project)";
  return forecast.flat
    ? "forecast: flat (no significant trend: the current mean), dashed; band: 95 % interval"
    : "forecast: least-squares trend, dashed; band: 95 % interval";
}

/**
 * The volatility pane's y range: from 0 to a little above the larger of the data and the high cut-off, so both
 * cut-off lines are always drawn; a negative index (a negative mean) extends it below 0.
 */
export function volatilityRange(
  min: number | null,
  max: number | null,
  thresholds: Pick<Thresholds, "highVolatilityAbove">,
): [number, number] {
  const top = Math.max(thresholds.highVolatilityAbove, max !== null && Number.isFinite(max) ? max : 0);
  const bottom = min !== null && Number.isFinite(min) ? Math.min(0, min) : 0;
  const ceil = (value: number) => Math.ceil(value * 20) / 20;
  return [bottom < 0 ? -ceil(-bottom * 1.1) : 0, ceil(top * 1.1)];
}

const value2 = (_self: unknown, raw: number | null) => formatNumber(raw, 2);
const value3 = (_self: unknown, raw: number | null) => formatNumber(raw, 3);
const timeValue = (_self: unknown, raw: number | null) => formatEpochUtc(raw);
const noValue = () => "";
const axisStyle = {
  stroke: CHART_COLORS.axis,
  grid: { stroke: CHART_COLORS.grid, width: 1 },
  ticks: { stroke: CHART_COLORS.grid, width: 1 },
};

/**
 * Time-axis tick labels in UTC: "HH:MM" (with seconds when a tick is not on a whole minute), and the date
 * ("MM-DD") on a second line at the first tick and wherever the day changes.
 */
export function timeAxisLabels(splits: readonly number[]): string[] {
  const withSeconds = splits.some((s) => s % 60 !== 0);
  let previousDay = "";
  return splits.map((seconds) => {
    const iso = new Date(seconds * 1000).toISOString();
    const day = iso.slice(0, 10);
    const clock = iso.slice(11, withSeconds ? 19 : 16);
    const label = day === previousDay ? clock : `${clock}\n${iso.slice(5, 10)}`;
    previousDay = day;
    return label;
  });
}

/** A series drawn only as points (no line): the risk markers. */
function markerSeries(level: RiskLevel): ChartSeries {
  const color = RISK_COLORS[level];
  return {
    label: `${riskLabel(level)} risk`,
    stroke: color,
    fill: color,
    width: 2,
    paths: () => null,
    points: { show: true, size: 5, width: 1, fill: color, stroke: "#ffffff" },
    value: value2,
  };
}

/** The partial windows' markers: hollow grey rings. */
function partialSeries(): ChartSeries {
  return {
    label: "Partial window",
    stroke: CHART_COLORS.partial,
    fill: "#ffffff",
    width: 2,
    paths: () => null,
    points: { show: true, size: 7, width: 1.5, fill: "#ffffff", stroke: CHART_COLORS.partial },
    value: value2,
  };
}

/** Below this container width the chart takes its phone form: shorter panes, shorter axis labels. */
export const PHONE_WIDTH = 560;

/** Axis titles: a narrow pane is short, so the rotated y title must be short enough to fit beside it. */
export function axisTitles(width: number): { time: string; mean: string; volatility: string } {
  return width < PHONE_WIDTH
    ? { time: "window end (UTC)", mean: "mean (0–100)", volatility: "volatility" }
    : { time: "window end (UTC)", mean: "coherenceMean (0–100)", volatility: "volatility index" };
}

const AXIS_FONT = "12px system-ui, sans-serif";
const AXIS_LABEL_FONT = "bold 12px system-ui, sans-serif";

/** The options both panes share: size, time axis, hidden uPlot legend, synced cursor, 24-hour dates. */
function paneOptions(width: number, height: number) {
  return {
    width: Math.max(200, Math.round(width)),
    height: Math.max(100, Math.round(height)),
    legend: { show: false as const },
    cursor: { points: { show: true }, sync: { key: CURSOR_SYNC_KEY } },
    fmtDate: fmtDate24,
  };
}

/** The time axis; only the mean pane titles it (the panes share it), so the volatility pane keeps its height. */
function timeAxis(width: number, titled: boolean): ChartAxis {
  return {
    ...axisStyle,
    font: AXIS_FONT,
    labelFont: AXIS_LABEL_FONT,
    ...(titled ? { label: axisTitles(width).time } : {}),
    values: (_self, splits) => timeAxisLabels(splits),
  };
}

/** uPlot options for the mean pane at a size, with the configured thresholds as labelled lines. */
export function buildChartOptions(
  { width, height, thresholds }: { width: number; height: number; thresholds: Thresholds },
): ChartOptions {
  const series: ChartSeries[] = [
    { label: "Window end (UTC)", value: timeValue },
    { label: "Mean", stroke: CHART_COLORS.mean, width: 2, spanGaps: false, value: value2 },
    { label: "Mean + σ", stroke: CHART_COLORS.bandEdge, width: 1, value: value2 },
    { label: "Mean − σ", stroke: CHART_COLORS.bandEdge, width: 1, value: value2 },
    {
      label: `High-risk cut-off (mean < ${thresholds.highMeanBelow})`,
      stroke: RISK_COLORS.high,
      width: 1.5,
      dash: [6, 4],
      points: { show: false },
      value: noValue,
    },
    {
      label: `Medium-risk cut-off (mean < ${thresholds.mediumMeanBelow})`,
      stroke: RISK_COLORS.medium,
      width: 1.5,
      dash: [6, 4],
      points: { show: false },
      value: noValue,
    },
  ];
  for (const level of MARKER_LEVELS) series[SERIES.markers[level]] = markerSeries(level);
  series[SERIES.partial] = partialSeries();
  series[SERIES.forecast] = {
    label: "Forecast (least-squares trend)",
    stroke: CHART_COLORS.forecast,
    width: 2.5,
    dash: [8, 5],
    spanGaps: true,
    points: { show: false },
    value: value2,
  };
  const forecastEdge = (label: string): ChartSeries => ({
    label,
    stroke: CHART_COLORS.forecastBand,
    width: 1,
    spanGaps: true,
    points: { show: false },
    value: value2,
  });
  series[SERIES.forecastUpper] = forecastEdge("Forecast 95 % interval, high");
  series[SERIES.forecastLower] = forecastEdge("Forecast 95 % interval, low");
  return {
    ...paneOptions(width, height),
    series,
    bands: [
      { series: [SERIES.upper, SERIES.lower], fill: CHART_COLORS.band },
      { series: [SERIES.forecastUpper, SERIES.forecastLower], fill: CHART_COLORS.forecastBand },
    ],
    scales: { x: { time: true }, y: { range: (_self, min, max) => yRange(min, max) } },
    axes: [
      timeAxis(width, true),
      { ...axisStyle, font: AXIS_FONT, labelFont: AXIS_LABEL_FONT, label: axisTitles(width).mean, size: 44 },
    ],
  };
}

/** uPlot options for the volatility pane: the index and the two volatility cut-offs, cursor synced. */
export function buildVolatilityOptions(
  { width, height, thresholds }: { width: number; height: number; thresholds: Thresholds },
): ChartOptions {
  const cutoff = (label: string, color: string): ChartSeries => ({
    label,
    stroke: color,
    width: 1.5,
    dash: [6, 4],
    points: { show: false },
    value: noValue,
  });
  return {
    ...paneOptions(width, height),
    series: [
      { label: "Window end (UTC)", value: timeValue },
      {
        label: "Volatility index",
        stroke: CHART_COLORS.volatility,
        width: 2,
        spanGaps: false,
        points: { show: false },
        value: value3,
      },
      cutoff(`High-risk cut-off (volatility > ${thresholds.highVolatilityAbove})`, RISK_COLORS.high),
      cutoff(`Medium-risk cut-off (volatility > ${thresholds.mediumVolatilityAbove})`, RISK_COLORS.medium),
    ],
    bands: [],
    scales: {
      x: { time: true },
      y: { range: (_self, min, max) => volatilityRange(min, max, thresholds) },
    },
    axes: [
      timeAxis(width, false),
      {
        ...axisStyle,
        font: AXIS_FONT,
        labelFont: AXIS_LABEL_FONT,
        label: axisTitles(width).volatility,
        size: 44,
        values: (_self, splits) => splits.map((v) => formatNumber(v, 2)),
      },
    ],
  };
}

/** Mean pane height for a container width: shorter on phones. */
export function chartHeight(width: number): number {
  return width < PHONE_WIDTH ? 220 : 320;
}

/** Volatility pane height for a container width. */
export function volatilityHeight(width: number): number {
  return width < PHONE_WIDTH ? 150 : 170;
}

/**
 * The readout line for one window end (what the cursor is on, or the latest point): its date and time in
 * 24-hour UTC, the figures, the risk, and why it is partial when it is.
 */
export function readoutText(point: SeriesPoint, partial: boolean): string {
  const figures = point.coherenceMean === null
    ? "no data"
    : `mean ${formatNumber(point.coherenceMean)}${
      point.stdev === null ? "" : ` ± ${formatNumber(point.stdev)}`
    } · volatility ${formatNumber(point.volatilityIndex, 3)}`;
  const why = point.warnings.length > 0
    ? ` (${point.warnings.map((w) => w.code).join(", ")})`
    : ` (n below ${Math.round(PARTIAL_SHARE * 100)} % of a full window)`;
  return `${formatUtc(point.timestamp)} · ${figures} · n ${formatInteger(point.n)} · ${
    riskLabel(point.predictedDriftRisk)
  } risk${partial ? ` · partial window${why}` : ""}`;
}

/** A text summary of the chart (its accessible name, and what shows before the chart draws). */
export function chartSummary(series: Pick<SeriesResponse, "signal" | "windowSec" | "points">): string {
  const what = `coherenceMean of ${formatSignal(series.signal)} over rolling ${
    formatWindowSec(series.windowSec)
  } windows`;
  const points = series.points;
  if (points.length === 0) return `${what}: no points.`;
  const withMean = points.filter((p) => p.coherenceMean !== null);
  const last = points[points.length - 1];
  const counts = MARKER_LEVELS
    .map((level) => ({ level, count: points.filter((p) => p.predictedDriftRisk === level).length }))
    .filter(({ count }) => count > 0)
    .map(({ level, count }) => `${count} ${level}`);
  const partial = partialWindows(points).filter(Boolean).length;
  return `${what}, ${points.length} window ends from ${formatDateTime(points[0].timestamp)} to ${
    formatDateTime(last.timestamp)
  } UTC (${withMean.length} with data, ${partial} partial; risk: ${counts.join(", ")}). Latest mean ${
    formatNumber(last.coherenceMean)
  }, ${riskLabel(last.predictedDriftRisk).toLowerCase()} risk.`;
}

// ---- Transition markers (issue 15): a vertical line at each alert transition of the selected key ----

/** One alert transition as the chart marks it: a vertical line at `x` in the new level's colour. */
export interface TransitionMarker {
  /** Epoch seconds (the transition's `at`). */
  x: number;
  from: RiskLevel;
  to: RiskLevel;
  color: string;
  /** Short text drawn at the top of the line: `→ high`. */
  label: string;
  /** What the line means, in words (the list under the chart). */
  title: string;
}

/**
 * The markers for transitions (oldest first) that fall within the chart's x range `[min, max]` (epoch seconds,
 * the series' first and last window ends; all of them when null).
 */
export function transitionMarkers(
  transitions: readonly Pick<TransitionBody, "at" | "from" | "to" | "rule">[],
  range: readonly [number, number] | null,
): TransitionMarker[] {
  const markers: TransitionMarker[] = [];
  for (const t of transitions) {
    const x = Date.parse(t.at) / 1000;
    if (!Number.isFinite(x) || (range !== null && (x < range[0] || x > range[1]))) continue;
    markers.push({
      x,
      from: t.from,
      to: t.to,
      color: RISK_COLORS[t.to],
      label: `→ ${t.to}`,
      title: `${formatUtc(t.at)}: ${riskLabel(t.from)} → ${riskLabel(t.to)} (${t.rule})`,
    });
  }
  return markers;
}

/** The x range a series response covers (its first and last window ends, epoch seconds); null when empty. */
export function seriesXRange(points: readonly Pick<SeriesPoint, "timestamp">[]): [number, number] | null {
  if (points.length === 0) return null;
  return [Date.parse(points[0].timestamp) / 1000, Date.parse(points[points.length - 1].timestamp) / 1000];
}

/** What the marker plugin draws on: the parts of a uPlot instance it uses. */
export interface MarkerCanvas {
  ctx: {
    save(): void;
    restore(): void;
    beginPath(): void;
    moveTo(x: number, y: number): void;
    lineTo(x: number, y: number): void;
    stroke(): void;
    fillText(text: string, x: number, y: number): void;
    setLineDash(segments: number[]): void;
    strokeStyle: unknown;
    fillStyle: unknown;
    lineWidth: number;
    font: string;
    textAlign: string;
    textBaseline: string;
  };
  /** The plotting area in canvas pixels. */
  bbox: { left: number; top: number; width: number; height: number };
  /** Canvas-pixel x of a value (uPlot's `valToPos(value, "x", true)`). */
  valToPos(value: number, scale: string, canvasPixels?: boolean): number;
}

/**
 * A uPlot plugin drawing each of `markers()` (read at every draw, so new transitions show on the next redraw)
 * as a dashed vertical line across the plotting area with its label at the top; `onDrawn` is told how many
 * lines were drawn (markers outside the visible x range are skipped). `ratio` is canvas pixels per CSS pixel
 * (uPlot's `pxRatio`).
 */
export function transitionMarkerPlugin(
  markers: () => readonly TransitionMarker[],
  { onDrawn, ratio = 1 }: { onDrawn?: (count: number) => void; ratio?: number } = {},
): { hooks: { draw: ((u: MarkerCanvas) => void)[] } } {
  const draw = (u: MarkerCanvas) => {
    const { ctx, bbox } = u;
    let drawn = 0;
    ctx.save();
    ctx.lineWidth = 2 * ratio;
    ctx.setLineDash([4 * ratio, 3 * ratio]);
    ctx.font = `${11 * ratio}px system-ui, sans-serif`;
    ctx.textBaseline = "top";
    for (const marker of markers()) {
      const x = Math.round(u.valToPos(marker.x, "x", true));
      if (!Number.isFinite(x) || x < bbox.left || x > bbox.left + bbox.width) continue;
      ctx.strokeStyle = marker.color;
      ctx.fillStyle = marker.color;
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      // Labels go right of the line, or left of it in the plot's right fifth, so they stay inside the plot.
      const leftOf = x > bbox.left + bbox.width * 0.8;
      ctx.textAlign = leftOf ? "right" : "left";
      ctx.fillText(marker.label, leftOf ? x - 3 * ratio : x + 3 * ratio, bbox.top + 2 * ratio);
      drawn++;
    }
    ctx.restore();
    onDrawn?.(drawn);
  };
  return { hooks: { draw: [draw] } };
}
