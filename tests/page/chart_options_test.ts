import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  buildChartData,
  buildChartOptions,
  chartHeight,
  chartSummary,
  MARKER_LEVELS,
  SERIES,
  timeAxisLabels,
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
  },
  {
    timestamp: "2025-10-29T17:10:00Z",
    n: 1,
    coherenceMean: 55,
    stdev: null,
    volatilityIndex: null,
    predictedDriftRisk: "high",
  },
  {
    timestamp: "2025-10-29T17:20:00Z",
    n: 10,
    coherenceMean: 85,
    stdev: 3,
    volatilityIndex: 0.035,
    predictedDriftRisk: "low",
  },
  {
    timestamp: "2025-10-29T17:30:00Z",
    n: 10,
    coherenceMean: 75,
    stdev: 10,
    volatilityIndex: 0.133,
    predictedDriftRisk: "medium",
  },
];

Deno.test("buildChartData() aligns x in epoch seconds with mean, ±σ band, threshold lines and markers", () => {
  const data = buildChartData(points, thresholds);
  equal(data.length, 10);
  deepEqual(data[SERIES.time], points.map((p) => Date.parse(p.timestamp) / 1000));
  deepEqual(data[SERIES.mean], [null, 55, 85, 75]);
  deepEqual(data[SERIES.upper], [null, null, 88, 85], "no band where σ is missing (n < 2)");
  deepEqual(data[SERIES.lower], [null, null, 82, 65]);
  deepEqual(data[SERIES.highCutoff], [60, 60, 60, 60]);
  deepEqual(data[SERIES.mediumCutoff], [80, 80, 80, 80]);
  deepEqual(data[SERIES.markers.low], [null, null, 85, null]);
  deepEqual(data[SERIES.markers.medium], [null, null, null, 75]);
  deepEqual(data[SERIES.markers.high], [null, 55, null, null]);
  deepEqual(
    data[SERIES.markers.unknown],
    [null, null, null, null],
    "an unknown point without a mean has no dot",
  );
  for (const series of data) equal(series.length, points.length);
});

Deno.test("buildChartData() of no points is one empty array per series", () => {
  const data = buildChartData([], thresholds);
  equal(data.length, 10);
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
  deepEqual(options.bands, [{ series: [SERIES.upper, SERIES.lower], fill: options.bands[0].fill }]);
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
  equal(options.height, 160);
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
  match(text, /from 17:00:00 to 17:30:00 UTC \(3 with data; risk: 1 low, 1 medium, 1 high, 1 unknown\)/);
  match(text, /Latest mean 75\.00, medium risk\.$/);
  equal(
    chartSummary({ signal: "alpha", windowSec: 300, points: [] }),
    "coherenceMean of alpha over rolling 5m windows: no points.",
  );
});
