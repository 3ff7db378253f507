/**
 * Trend chart island: uPlot wrapped like uplot-wrappers — created on mount, destroyed on unmount, `setData` for
 * new data, `setSize` when the container resizes. Options and data come from the pure builders in
 * `src/page/chart_options.ts`. On the server (and before the chart draws) it shows the chart's summary text.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { buildChartData, buildChartOptions, chartHeight, chartSummary } from "../src/page/chart_options.ts";
import { formatWindowSec } from "../src/page/format.ts";
import type { SeriesResponse } from "../src/page/types.ts";
import { data } from "./live.ts";

export interface TrendChartProps {
  series: SeriesResponse | null;
}

const utc = (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");

export default function TrendChart(props: TrendChartProps) {
  const series = data.value ? data.value.series : props.series;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shown = useRef<SeriesResponse | null>(null);
  const [drawn, setDrawn] = useState(false);
  const thresholdsKey = series ? JSON.stringify(series.thresholds) : null;

  // Create on mount (and when the thresholds change, which rebuilds the options); destroy on unmount.
  useEffect(() => {
    const element = box.current;
    if (!element || !series) return;
    const width = element.clientWidth || 600;
    const chart = new uPlot(
      {
        ...buildChartOptions({ width, height: chartHeight(width), thresholds: series.thresholds }),
        tzDate: utc,
      },
      buildChartData(series.points, series.thresholds),
      element,
    );
    plot.current = chart;
    shown.current = series;
    setDrawn(true);
    const observer = new ResizeObserver(() => {
      const next = element.clientWidth;
      if (next > 0 && (next !== chart.width || chartHeight(next) !== chart.height)) {
        chart.setSize({ width: next, height: chartHeight(next) });
      }
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
      shown.current = null;
      setDrawn(false);
    };
  }, [thresholdsKey]);

  // New data for the same options: setData, no rebuild.
  useEffect(() => {
    if (plot.current && series && shown.current !== series) {
      plot.current.setData(buildChartData(series.points, series.thresholds));
      shown.current = series;
    }
  }, [series]);

  const title = series
    ? `coherenceMean over rolling ${formatWindowSec(series.windowSec)} windows`
    : "coherenceMean over time";
  const summary = series ? chartSummary(series) : "The series could not be loaded.";
  return (
    <section class="card chart-card" aria-labelledby="chart-title">
      <h2 id="chart-title">{title}</h2>
      {series && (
        <p class="legend-note">
          Line: mean · shaded band: mean ± σ · dashed lines: the high ({series.thresholds.highMeanBelow}) and
          medium ({series.thresholds.mediumMeanBelow}) cut-offs · dots: the risk at each window end.
        </p>
      )}
      <figure class="chart-figure">
        <div class="chart" ref={box} data-drawn={drawn ? "true" : "false"} aria-hidden="true" />
        <figcaption class="chart-summary">
          {summary}
          {!drawn && " The chart draws with JavaScript; the table lists the recent values."}
        </figcaption>
      </figure>
    </section>
  );
}
