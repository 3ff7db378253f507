/**
 * uPlot options and data for the trend chart, built by pure functions (no DOM, no uPlot import), so they are
 * unit-tested without a browser. The island passes them to `new uPlot(options, data, element)`.
 *
 * Series layout (uPlot's aligned data, x in epoch seconds):
 * 0 time · 1 mean · 2 mean + σ · 3 mean − σ · 4 high cut-off · 5 medium cut-off · 6–9 risk markers
 * (low, medium, high, unknown) at the mean of the points with that risk.
 */
import {
  formatClock,
  formatNumber,
  formatSignal,
  formatWindowSec,
  RISK_COLORS,
  riskLabel,
} from "./format.ts";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";
import type { SeriesPoint, SeriesResponse, Thresholds } from "./types.ts";

export const SERIES = Object.freeze({
  time: 0,
  mean: 1,
  upper: 2,
  lower: 3,
  highCutoff: 4,
  mediumCutoff: 5,
  markers: { low: 6, medium: 7, high: 8, unknown: 9 } as Readonly<Record<RiskLevel, number>>,
});

export const MARKER_LEVELS: readonly RiskLevel[] = RISK_LEVELS;

export const CHART_COLORS = Object.freeze({
  mean: "#1d4ed8",
  band: "rgba(29, 78, 216, 0.14)",
  bandEdge: "rgba(29, 78, 216, 0.45)",
  axis: "#374151",
  grid: "#e5e7eb",
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

export interface ChartAxis {
  label?: string;
  values?: (self: unknown, splits: number[]) => string[];
  stroke: string;
  grid: { stroke: string; width: number };
  ticks: { stroke: string; width: number };
  size?: number;
}

/** The subset of uPlot's `Options` these builders set. */
export interface ChartOptions {
  width: number;
  height: number;
  series: ChartSeries[];
  bands: { series: [number, number]; fill: string }[];
  scales: {
    x: { time: true };
    y: { range: (self: unknown, min: number | null, max: number | null) => [number, number] };
  };
  axes: ChartAxis[];
  legend: { show: boolean; live: boolean };
  cursor: { points: { show: boolean } };
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

/** The aligned data for a series response's points (in their order) and the configured thresholds. */
export function buildChartData(points: readonly SeriesPoint[], thresholds: Thresholds): ChartData {
  const xs = points.map((p) => Date.parse(p.timestamp) / 1000);
  const data: ChartData = [
    xs,
    points.map((p) => p.coherenceMean),
    points.map((p) => band(p, 1)),
    points.map((p) => band(p, -1)),
    points.map(() => thresholds.highMeanBelow),
    points.map(() => thresholds.mediumMeanBelow),
  ];
  for (const level of MARKER_LEVELS) {
    data[SERIES.markers[level]] = points.map((p) => p.predictedDriftRisk === level ? p.coherenceMean : null);
  }
  return data;
}

const value2 = (_self: unknown, raw: number | null) => formatNumber(raw, 2);
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
    points: { show: true, size: 6, width: 1, fill: color, stroke: "#ffffff" },
    value: value2,
  };
}

/** uPlot options for the chart at a size, with the configured thresholds as labelled lines. */
export function buildChartOptions(
  { width, height, thresholds }: { width: number; height: number; thresholds: Thresholds },
): ChartOptions {
  const series: ChartSeries[] = [
    { label: "Window end (UTC)" },
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
  return {
    width: Math.max(200, Math.round(width)),
    height: Math.max(160, Math.round(height)),
    series,
    bands: [{ series: [SERIES.upper, SERIES.lower], fill: CHART_COLORS.band }],
    scales: { x: { time: true }, y: { range: (_self, min, max) => yRange(min, max) } },
    axes: [
      { ...axisStyle, label: "window end (UTC)", values: (_self, splits) => timeAxisLabels(splits) },
      { ...axisStyle, label: "coherenceMean (0–100)", size: 56 },
    ],
    legend: { show: true, live: true },
    cursor: { points: { show: true } },
  };
}

/** Chart height for a container width: shorter on phones. */
export function chartHeight(width: number): number {
  return width < 560 ? 240 : 340;
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
  return `${what}, ${points.length} window ends from ${formatClock(points[0].timestamp)} to ${
    formatClock(last.timestamp)
  } UTC (${withMean.length} with data; risk: ${counts.join(", ")}). Latest mean ${
    formatNumber(last.coherenceMean)
  }, ${riskLabel(last.predictedDriftRisk).toLowerCase()} risk.`;
}
