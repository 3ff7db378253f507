import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  axisTitles,
  buildChartData,
  buildChartOptions,
  buildForecastLine,
  buildVolatilityData,
  buildVolatilityOptions,
  CHART_COLORS,
  chartHeight,
  chartSummary,
  CURSOR_SYNC_KEY,
  forecastLegend,
  fullWindowN,
  MARKER_LEVELS,
  type MarkerCanvas,
  partialWindows,
  pointIndexes,
  readoutText,
  SERIES,
  seriesXRange,
  timeAxisLabels,
  transitionMarkerPlugin,
  transitionMarkers,
  VOLATILITY_SERIES,
  volatilityHeight,
  volatilityRange,
  yRange,
} from "../../src/page/chart_options.ts";
import { RISK_COLORS } from "../../src/page/format.ts";
import type { SeriesPoint, Thresholds } from "../../src/page/types.ts";

const thresholds: Thresholds = {
  highVolatilityAbove: 0.25,
  mediumVolatilityAbove: 0.1,
  highMeanBelow: 60,
  mediumMeanBelow: 80,
};

const points: SeriesPoint[] = [
  {
    timestamp: "2025-10-29T17:00:00Z",
    n: 0,
    coherenceMean: null,
    stdev: null,
    volatilityIndex: null,
    predictedDriftRisk: "unknown",
    warnings: [],
  },
  {
    timestamp: "2025-10-29T17:10:00Z",
    n: 1,
    coherenceMean: 55,
    stdev: null,
    volatilityIndex: null,
    predictedDriftRisk: "high",
    warnings: [],
  },
  {
    timestamp: "2025-10-29T17:20:00Z",
    n: 10,
    coherenceMean: 85,
    stdev: 3,
    volatilityIndex: 0.035,
    predictedDriftRisk: "low",
    warnings: [],
  },
  {
    timestamp: "2025-10-29T17:30:00Z",
    n: 10,
    coherenceMean: 75,
    stdev: 10,
    volatilityIndex: 0.133,
    predictedDriftRisk: "medium",
    warnings: [],
  },
];

Deno.test("buildChartData() aligns x in epoch seconds with mean, ±σ band, threshold lines and markers", () => {
  const data = buildChartData(points, thresholds);
  equal(data.length, 14);
  deepEqual(data[SERIES.time], points.map((p) => Date.parse(p.timestamp) / 1000));
  deepEqual(data[SERIES.mean], [null, 55, 85, 75]);
  deepEqual(data[SERIES.upper], [null, null, 88, 85], "no band where σ is missing (n < 2)");
  deepEqual(data[SERIES.lower], [null, null, 82, 65]);
  deepEqual(data[SERIES.highCutoff], [60, 60, 60, 60]);
  deepEqual(data[SERIES.mediumCutoff], [80, 80, 80, 80]);
  deepEqual(data[SERIES.markers.low], [null, null, 85, null]);
  deepEqual(data[SERIES.markers.medium], [null, null, null, 75]);
  deepEqual(data[SERIES.markers.high], [null, null, null, null], "the n = 1 window is partial: no risk dot");
  deepEqual(data[SERIES.partial], [null, 55, null, null], "a hollow marker at the partial window's mean");
  deepEqual(
    data[SERIES.markers.unknown],
    [null, null, null, null],
    "an unknown point without a mean has no dot",
  );
  for (const series of data) equal(series.length, points.length);
});

Deno.test("buildChartData() of no points is one empty array per series", () => {
  const data = buildChartData([], thresholds);
  equal(data.length, 14);
  for (const series of data) deepEqual(series, []);
});

Deno.test("buildChartData() draws the configured thresholds, not fixed 60/80", () => {
  const data = buildChartData(points, { ...thresholds, highMeanBelow: 50, mediumMeanBelow: 70 });
  deepEqual(data[SERIES.highCutoff], [50, 50, 50, 50]);
  deepEqual(data[SERIES.mediumCutoff], [70, 70, 70, 70]);
});

Deno.test("buildChartOptions() has one series per data array, a ±σ band and labelled cut-offs", () => {
  const options = buildChartOptions({ width: 900, height: 340, thresholds });
  equal(options.series.length, buildChartData(points, thresholds).length);
  equal(options.width, 900);
  equal(options.height, 340);
  deepEqual(options.bands, [
    { series: [SERIES.upper, SERIES.lower], fill: CHART_COLORS.band },
    { series: [SERIES.forecastUpper, SERIES.forecastLower], fill: CHART_COLORS.forecastBand },
  ]);
  match(options.series[SERIES.highCutoff].label!, /mean < 60/);
  match(options.series[SERIES.mediumCutoff].label!, /mean < 80/);
  deepEqual(options.series[SERIES.highCutoff].dash, [6, 4]);
  equal(options.scales.x.time, true);
  equal(options.series[SERIES.mean].label, "Mean");
});

Deno.test("buildChartOptions() draws markers as coloured points without lines", () => {
  const options = buildChartOptions({ width: 900, height: 340, thresholds });
  for (const level of MARKER_LEVELS) {
    const series = options.series[SERIES.markers[level]];
    equal(series.stroke, RISK_COLORS[level]);
    equal(series.points?.show, true);
    equal(series.points?.fill, RISK_COLORS[level]);
    equal(series.paths?.(), null, "no line between markers");
  }
});

Deno.test("buildChartOptions() keeps a usable minimum size and formats legend values", () => {
  const options = buildChartOptions({ width: 10.4, height: 20, thresholds });
  equal(options.width, 200);
  equal(options.height, 100);
  equal(options.series[SERIES.mean].value?.(null, 84.125), "84.13");
  equal(options.series[SERIES.mean].value?.(null, null), "—");
  equal(options.series[SERIES.highCutoff].value?.(null, 60), "");
  deepEqual(options.scales.y.range(null, 70, 90), yRange(70, 90));
});

Deno.test("yRange() pads the data, stays within 0–100 and falls back to the whole scale", () => {
  deepEqual(yRange(60, 90), [57, 93]);
  deepEqual(yRange(79.9, 80.1), [77, 83], "at least 2 points of padding");
  deepEqual(yRange(0, 100), [0, 100]);
  deepEqual(yRange(null, null), [0, 100]);
  deepEqual(yRange(Number.NaN, 50), [0, 100]);
  deepEqual(yRange(90, 60), [57, 93], "swapped bounds");
});

Deno.test("timeAxisLabels() prints UTC clock times with the date at the first tick and at day changes", () => {
  const t = Date.parse("2025-10-29T22:00:00Z") / 1000;
  deepEqual(timeAxisLabels([t, t + 3600, t + 7200, t + 10800]), [
    "22:00\n10-29",
    "23:00",
    "00:00\n10-30",
    "01:00",
  ]);
  deepEqual(timeAxisLabels([t + 15, t + 45]), ["22:00:15\n10-29", "22:00:45"]);
  deepEqual(timeAxisLabels([]), []);
});

Deno.test("chartHeight() is shorter on phones", () => {
  ok(chartHeight(390) < chartHeight(1000));
});

Deno.test("chartSummary() describes the series in words for screen readers and no-JS readers", () => {
  const text = chartSummary({ signal: "*", windowSec: 3600, points });
  match(text, /^coherenceMean of all signals \(\*\) over rolling 1h windows, 4 window ends/);
  match(
    text,
    /from 2025-10-29 17:00:00 to 2025-10-29 17:30:00 UTC \(3 with data, 2 partial; risk: 1 low, 1 medium, 1 high, 1 unknown\)/,
  );
  match(text, /Latest mean 75\.00, medium risk\.$/);
  equal(
    chartSummary({ signal: "alpha", windowSec: 300, points: [] }),
    "coherenceMean of alpha over rolling 5m windows: no points.",
  );
});

const warned = { code: "stale_data" as const, message: "Newest point is 20m old at the window end" };

Deno.test("partialWindows() marks n below half the median n, and any window with warnings", () => {
  const ns = [4, 60, 61, 60, 29, 30, 60];
  const series = ns.map((n, i) => ({ n, warnings: i === 6 ? [warned] : [] }));
  equal(fullWindowN(series), 60);
  deepEqual(partialWindows(series), [true, false, false, false, true, false, true]);
  equal(
    fullWindowN([{ n: 0 }, { n: 10 }, { n: 20 }]),
    15,
    "empty windows do not count; even count: midpoint",
  );
  deepEqual(partialWindows([]), []);
});

Deno.test("buildChartOptions() draws partial windows as hollow grey rings", () => {
  const partial = buildChartOptions({ width: 900, height: 340, thresholds }).series[SERIES.partial];
  equal(partial.label, "Partial window");
  equal(partial.points?.fill, "#ffffff");
  equal(partial.points?.stroke, CHART_COLORS.partial);
  equal(partial.paths?.(), null);
});

Deno.test("buildVolatilityData() gives the index and both volatility cut-offs at each window end", () => {
  const data = buildVolatilityData(points, thresholds);
  deepEqual(data[VOLATILITY_SERIES.time], points.map((p) => Date.parse(p.timestamp) / 1000));
  deepEqual(data[VOLATILITY_SERIES.volatility], [null, null, 0.035, 0.133]);
  deepEqual(data[VOLATILITY_SERIES.highCutoff], [0.25, 0.25, 0.25, 0.25]);
  deepEqual(data[VOLATILITY_SERIES.mediumCutoff], [0.1, 0.1, 0.1, 0.1]);
});

Deno.test("buildVolatilityOptions() labels the cut-offs and shares the cursor with the mean pane", () => {
  const options = buildVolatilityOptions({ width: 900, height: 170, thresholds });
  equal(options.series.length, buildVolatilityData(points, thresholds).length);
  match(options.series[VOLATILITY_SERIES.highCutoff].label!, /volatility > 0.25/);
  match(options.series[VOLATILITY_SERIES.mediumCutoff].label!, /volatility > 0.1/);
  equal(options.series[VOLATILITY_SERIES.volatility].value?.(null, 0.31439), "0.314");
  const mean = buildChartOptions({ width: 900, height: 320, thresholds });
  equal(options.cursor.sync.key, CURSOR_SYNC_KEY);
  equal(mean.cursor.sync.key, CURSOR_SYNC_KEY, "both panes sync on one key");
  deepEqual(options.scales.y.range(null, 0.02, 0.05), [0, 0.3], "both cut-offs always in view");
  equal(options.legend.show, false, "the page's own legend and readout replace uPlot's table");
});

Deno.test("volatilityRange() reaches above the data and the high cut-off, and below 0 only when needed", () => {
  deepEqual(volatilityRange(0.01, 0.05, thresholds), [0, 0.3]);
  deepEqual(volatilityRange(0.1, 0.5, thresholds), [0, 0.55]);
  deepEqual(volatilityRange(null, null, thresholds), [0, 0.3]);
  deepEqual(volatilityRange(-0.2, 0.1, thresholds), [-0.25, 0.3]);
});

Deno.test("both panes show times in 24-hour UTC with the date, whatever the template", () => {
  const options = buildChartOptions({ width: 900, height: 320, thresholds });
  const evening = Date.parse("2026-12-01T20:05:09Z") / 1000;
  equal(options.series[SERIES.time].value?.(null, evening), "2026-12-01 20:05:09 UTC");
  equal(
    buildVolatilityOptions({ width: 900, height: 170, thresholds }).series[0].value?.(null, evening),
    "2026-12-01 20:05:09 UTC",
  );
  // uPlot hands fmtDate's formatters tzDate-shifted dates, whose local fields are the UTC wall clock.
  const format = options.fmtDate("{M}/{D}/{YY} {h}:{mm}{aa}");
  equal(format(new Date(2026, 11, 1, 20, 5, 9)), "2026-12-01 20:05:09");
  equal(format(new Date(2026, 0, 2, 0, 0, 0)), "2026-01-02 00:00:00");
});

Deno.test("readoutText() gives the date and 24-hour time, the figures, the risk and why a window is partial", () => {
  equal(
    readoutText({ ...points[3], timestamp: "2026-12-01T20:05:09Z" }, false),
    "2026-12-01 20:05:09 UTC · mean 75.00 ± 10.00 · volatility 0.133 · n 10 · Medium risk",
  );
  equal(
    readoutText(points[1], true),
    "2025-10-29 17:10:00 UTC · mean 55.00 · volatility — · n 1 · High risk · partial window " +
      "(n below 50 % of a full window)",
  );
  match(readoutText({ ...points[2], warnings: [warned] }, true), /partial window \(stale_data\)$/);
  match(readoutText(points[0], true), /· no data · n 0 · Unknown risk/);
});

Deno.test("axisTitles() and the pane heights are shorter on phones, so the rotated y title fits", () => {
  // About 7 px a character at 12 px bold: the title must fit the plot height (pane less the time axis).
  for (const width of [390, 1000]) {
    const titles = axisTitles(width);
    ok(titles.mean.length * 7 < chartHeight(width) - 60, `${titles.mean} fits at ${width} px`);
    // The volatility pane's time axis has no title (the mean pane's names the shared axis): about 50 px.
    ok(
      titles.volatility.length * 7 < volatilityHeight(width) - 50,
      `${titles.volatility} fits at ${width} px`,
    );
  }
  ok(volatilityHeight(390) <= volatilityHeight(1000));
});

Deno.test("only the mean pane titles the shared time axis", () => {
  equal(buildChartOptions({ width: 390, height: 220, thresholds }).axes[0].label, "window end (UTC)");
  equal(buildVolatilityOptions({ width: 390, height: 150, thresholds }).axes[0].label, undefined);
});

/** A forecast from the last point's window end (17:30) one hour ahead: falling, significant, with an interval. */
const predict = {
  coherenceMean: 75,
  inputs: { end_ts: "2025-10-29T17:30:00Z" },
  forecast: {
    at: "2025-10-29T18:30:00Z",
    projectedMean: 70,
    projectedMeanInterval: { level: 0.95, quantile: 2.1, low: 66, high: 74 },
    significant: true,
  },
};

Deno.test("buildForecastLine() runs from the current mean at the end to the projected mean at end + horizon", () => {
  const line = buildForecastLine(predict)!;
  const end = Date.parse("2025-10-29T17:30:00Z") / 1000;
  deepEqual(line, {
    xs: [end, end + 3600],
    mean: [75, 70],
    upper: [75, 74],
    lower: [75, 66],
    flat: false,
  });
  const flat = buildForecastLine({
    ...predict,
    forecast: { ...predict.forecast, projectedMean: 75, significant: false },
  })!;
  deepEqual(flat.mean, [75, 75], "not significant: drawn flat at the current mean");
  equal(flat.flat, true);
  equal(buildForecastLine({ ...predict, coherenceMean: null }), null, "no mean, no forecast");
  equal(
    buildForecastLine({ ...predict, forecast: { ...predict.forecast, projectedMeanInterval: null } })!.upper,
    null,
    "no interval (n < 3), no band",
  );
});

Deno.test("buildChartData() extends x past the last window end and draws the forecast and its band there", () => {
  const line = buildForecastLine(predict)!;
  const data = buildChartData(points, thresholds, line);
  const xs = points.map((p) => Date.parse(p.timestamp) / 1000);
  deepEqual(data[SERIES.time], [...xs, xs[3] + 3600], "one future x: end + horizon (the end is the last x)");
  for (const series of data) equal(series.length, 5);
  deepEqual(data[SERIES.mean], [null, 55, 85, 75, null], "the measured mean stops at the last window end");
  deepEqual(data[SERIES.forecast], [null, null, null, 75, 70]);
  deepEqual(data[SERIES.forecastUpper], [null, null, null, 75, 74]);
  deepEqual(data[SERIES.forecastLower], [null, null, null, 75, 66]);
  deepEqual(data[SERIES.highCutoff], [60, 60, 60, 60, 60], "the cut-offs run on over the forecast");
  const volatility = buildVolatilityData(points, thresholds, line);
  deepEqual(volatility[VOLATILITY_SERIES.time], data[SERIES.time], "the panes share the x values");
  deepEqual(volatility[VOLATILITY_SERIES.volatility], [null, null, 0.035, 0.133, null]);
  deepEqual(pointIndexes(points, data[SERIES.time]), [0, 1, 2, 3, null]);
});

Deno.test("buildChartData() inserts a forecast starting after the last window end in x order", () => {
  const line = buildForecastLine({
    ...predict,
    inputs: { end_ts: "2025-10-29T17:35:00Z" },
  })!;
  const data = buildChartData(points, thresholds, line);
  const last = Date.parse("2025-10-29T17:30:00Z") / 1000;
  deepEqual(data[SERIES.time].slice(3), [last, last + 300, last + 3600]);
  deepEqual(data[SERIES.forecast].slice(3), [null, 75, 70]);
});

Deno.test("buildChartOptions() draws the forecast dashed in its own colour, unlike the measured mean", () => {
  const options = buildChartOptions({ width: 900, height: 340, thresholds });
  const forecast = options.series[SERIES.forecast];
  deepEqual(forecast.dash, [8, 5]);
  equal(forecast.stroke, CHART_COLORS.forecast);
  ok(forecast.stroke !== options.series[SERIES.mean].stroke, "a colour apart from the mean line");
  equal(options.series[SERIES.mean].dash, undefined, "the measured mean is solid");
  equal(forecast.spanGaps, true, "one line from the end to end + horizon, across any x between");
});

Deno.test("forecastLegend() explains the dashed line and the band, and says when the forecast is flat", () => {
  equal(
    forecastLegend(buildForecastLine(predict)),
    "forecast: least-squares trend, dashed; band: 95 % interval",
  );
  match(
    forecastLegend(
      buildForecastLine({ ...predict, forecast: { ...predict.forecast, significant: false } }),
    ),
    /^forecast: flat \(no significant trend/,
  );
  match(forecastLegend(null), /none/);
});

const TRANSITIONS = [
  {
    at: "2025-10-29T15:00:00Z",
    from: "unknown" as const,
    to: "low" as const,
    rule: "low because mean 90 ≥ 80",
  },
  {
    at: "2025-10-29T16:00:00Z",
    from: "low" as const,
    to: "high" as const,
    rule: "high because mean 50 < 60",
  },
  { at: "2025-10-29T18:00:00Z", from: "high" as const, to: "medium" as const, rule: "medium" },
];

Deno.test("transitionMarkers() marks each transition in the chart's x range with the new level's colour and label", () => {
  const range: [number, number] = [
    Date.parse("2025-10-29T14:30:00Z") / 1000,
    Date.parse("2025-10-29T17:00:00Z") / 1000,
  ];
  const markers = transitionMarkers(TRANSITIONS, range);
  deepEqual(markers.map((m) => [m.x, m.to, m.color, m.label]), [
    [Date.parse("2025-10-29T15:00:00Z") / 1000, "low", RISK_COLORS.low, "→ low"],
    [Date.parse("2025-10-29T16:00:00Z") / 1000, "high", RISK_COLORS.high, "→ high"],
  ]);
  match(markers[1].title, /^2025-10-29 16:00(:00)? UTC: Low → High \(high because mean 50 < 60\)$/);
  equal(transitionMarkers(TRANSITIONS, null).length, 3, "no range: every transition");
  deepEqual(transitionMarkers([], range), []);
});

Deno.test("seriesXRange() is the first and last window end in epoch seconds, null for no points", () => {
  deepEqual(
    seriesXRange([{ timestamp: "2025-10-29T16:00:00Z" }, { timestamp: "2025-10-29T17:00:00Z" }]),
    [Date.parse("2025-10-29T16:00:00Z") / 1000, Date.parse("2025-10-29T17:00:00Z") / 1000],
  );
  equal(seriesXRange([]), null);
});

/** A canvas that records the lines and labels drawn, with x = value − 1000 in pixels. */
function recordingCanvas() {
  const calls: string[] = [];
  const canvas: MarkerCanvas = {
    ctx: {
      save: () => calls.push("save"),
      restore: () => calls.push("restore"),
      beginPath: () => {},
      moveTo: (x, y) => calls.push(`move ${x},${y}`),
      lineTo: (x, y) => calls.push(`line ${x},${y}`),
      stroke: () => calls.push(`stroke ${canvas.ctx.strokeStyle}`),
      fillText: (text, x, y) => calls.push(`text ${text} ${x},${y} ${canvas.ctx.textAlign}`),
      setLineDash: (segments) => calls.push(`dash ${segments.join(",")}`),
      strokeStyle: "",
      fillStyle: "",
      lineWidth: 1,
      font: "",
      textAlign: "",
      textBaseline: "",
    },
    bbox: { left: 10, top: 5, width: 100, height: 50 },
    valToPos: (value) => value - 1000,
  };
  return { canvas, calls };
}

Deno.test("transitionMarkerPlugin() draws a vertical line across the plot at each marker inside it, and counts them", () => {
  const { canvas, calls } = recordingCanvas();
  const markers = [
    {
      x: 1050,
      from: "low" as const,
      to: "high" as const,
      color: RISK_COLORS.high,
      label: "→ high",
      title: "",
    },
    { x: 2000, from: "high" as const, to: "low" as const, color: RISK_COLORS.low, label: "→ low", title: "" },
  ];
  const counts: number[] = [];
  const plugin = transitionMarkerPlugin(() => markers, { onDrawn: (n) => counts.push(n), ratio: 2 });
  equal(plugin.hooks.draw.length, 1);
  plugin.hooks.draw[0](canvas);
  deepEqual(calls, [
    "save",
    "dash 8,6",
    "move 50,5",
    "line 50,55",
    `stroke ${RISK_COLORS.high}`,
    "text → high 56,9 left",
    "restore",
  ]);
  deepEqual(counts, [1], "the marker past the plot's right edge is not drawn");
  equal(canvas.ctx.lineWidth, 4, "2 CSS pixels at ratio 2");
});

Deno.test("transitionMarkerPlugin() reads the markers at each draw, so new transitions show on the next redraw", () => {
  const { canvas } = recordingCanvas();
  let markers: ReturnType<typeof transitionMarkers> = [];
  const counts: number[] = [];
  const plugin = transitionMarkerPlugin(() => markers, { onDrawn: (n) => counts.push(n) });
  plugin.hooks.draw[0](canvas);
  markers = transitionMarkers(TRANSITIONS.slice(0, 1), null).map((m) => ({ ...m, x: 1020 }));
  plugin.hooks.draw[0](canvas);
  deepEqual(counts, [0, 1]);
});

Deno.test("transitionMarkerPlugin() puts a label left of its line near the plot's right edge, so it stays inside", () => {
  const { canvas, calls } = recordingCanvas();
  const marker = {
    x: 1105,
    from: "low" as const,
    to: "medium" as const,
    color: RISK_COLORS.medium,
    title: "",
  };
  transitionMarkerPlugin(() => [{ ...marker, label: "→ medium" }]).hooks.draw[0](canvas);
  ok(calls.includes("text → medium 102,7 right"), calls.join("\n"));
});
