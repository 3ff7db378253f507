/**
 * Trend chart island: two uPlot panes (the mean with its ±σ band, cut-offs and risk markers; below it the
 * volatility index with its cut-offs), the cursor synced between them (`cursor.sync`), wrapped like
 * uplot-wrappers — created on mount, destroyed on unmount, `setData` for new data, `setSize` when the container
 * resizes. Options and data come from the pure builders in `src/page/chart_options.ts`. A one-line readout
 * (24-hour UTC) follows the cursor and shows the latest point otherwise; the legend is a `<details>` that is
 * open on a wide screen and collapsed on a phone. On the server (and before the chart draws) it shows the
 * chart's summary text.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import {
  buildChartData,
  buildChartOptions,
  buildForecastLine,
  buildVolatilityData,
  buildVolatilityOptions,
  chartHeight,
  chartSummary,
  forecastLegend,
  PARTIAL_SHARE,
  partialWindows,
  PHONE_WIDTH,
  pointIndexes,
  readoutText,
  seriesXRange,
  transitionMarkerPlugin,
  transitionMarkers,
  volatilityHeight,
} from "../src/page/chart_options.ts";
import { formatEpochUtc, formatWindowSec } from "../src/page/format.ts";
import { rangeLabel } from "../src/page/selection.ts";
import type { PredictResponse, Range, SeriesResponse, TransitionBody } from "../src/page/types.ts";
import { data } from "./live.ts";

export interface TrendChartProps {
  series: SeriesResponse | null;
  /** The forecast drawn past the last window end (dashed, with its 95 % band). */
  predict: PredictResponse | null;
  /** The time range the series covers (the selection's). */
  range: Range;
  /** The selected signal and window's alert transitions: vertical markers in the new level's colour. */
  transitions: TransitionBody[] | null;
}

const utc = (seconds: number) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");

type Pane = "mean" | "volatility";

function paneSizes(width: number) {
  return { mean: chartHeight(width), volatility: volatilityHeight(width) };
}

export default function TrendChart(props: TrendChartProps) {
  const series = data.value ? data.value.series : props.series;
  const predict = data.value ? data.value.predict : props.predict;
  const forecast = predict ? buildForecastLine(predict) : null;
  const range = data.value?.selection.range ?? props.range;
  const transitions = (data.value ? data.value.transitions : props.transitions) ?? [];
  const markers = transitionMarkers(transitions, seriesXRange(series?.points ?? []));
  const markerList = useRef(markers);
  markerList.current = markers;
  const markersKey = JSON.stringify(markers.map((m) => [m.x, m.to]));
  const [markersDrawn, setMarkersDrawn] = useState(0);
  const meanBox = useRef<HTMLDivElement>(null);
  const volatilityBox = useRef<HTMLDivElement>(null);
  const plots = useRef<Record<Pane, uPlot> | null>(null);
  const shown = useRef<{ series: SeriesResponse; predict: PredictResponse | null } | null>(null);
  const latest = useRef<SeriesResponse | null>(series);
  latest.current = series;
  const [drawn, setDrawn] = useState(false);
  const [hovered, setHovered] = useState<number | null>(null);
  const [wide, setWide] = useState(true);
  const thresholdsKey = series ? JSON.stringify(series.thresholds) : null;

  // Create on mount (and when the thresholds change, which rebuilds the options); destroy on unmount.
  useEffect(() => {
    const meanElement = meanBox.current;
    const volatilityElement = volatilityBox.current;
    if (!meanElement || !volatilityElement || !series) return;
    const width = meanElement.clientWidth || 600;
    setWide(width >= PHONE_WIDTH);
    const heights = paneSizes(width);
    // The readout follows the cursor of either pane (they are synced, so both report the same index).
    // The cursor index is into the chart's x values (forecast included); the readout wants the series point.
    const onCursor = (chart: uPlot) => {
      const idx = chart.cursor.idx;
      const points = latest.current?.points ?? [];
      setHovered(idx === null || idx === undefined ? null : pointIndexes(points, [chart.data[0][idx]])[0]);
    };
    const hooks = { setCursor: [onCursor] };
    const markerPlugin = transitionMarkerPlugin(() => markerList.current, {
      ratio: uPlot.pxRatio,
      onDrawn: setMarkersDrawn,
    });
    const mean = new uPlot(
      {
        ...buildChartOptions({ width, height: heights.mean, thresholds: series.thresholds }),
        tzDate: utc,
        hooks,
        plugins: [markerPlugin],
      },
      buildChartData(series.points, series.thresholds, forecast),
      meanElement,
    );
    const volatility = new uPlot(
      {
        ...buildVolatilityOptions({ width, height: heights.volatility, thresholds: series.thresholds }),
        tzDate: utc,
        hooks,
      },
      buildVolatilityData(series.points, series.thresholds, forecast),
      volatilityElement,
    );
    plots.current = { mean, volatility };
    shown.current = { series, predict };
    setDrawn(true);
    const observer = new ResizeObserver(() => {
      const next = meanElement.clientWidth;
      if (next <= 0) return;
      const sizes = paneSizes(next);
      if (next !== mean.width || sizes.mean !== mean.height) {
        mean.setSize({ width: next, height: sizes.mean });
      }
      if (next !== volatility.width || sizes.volatility !== volatility.height) {
        volatility.setSize({ width: next, height: sizes.volatility });
      }
    });
    observer.observe(meanElement);
    return () => {
      observer.disconnect();
      mean.destroy();
      volatility.destroy();
      plots.current = null;
      shown.current = null;
      setDrawn(false);
    };
  }, [thresholdsKey]);

  // New data for the same options: setData, no rebuild.
  useEffect(() => {
    if (
      plots.current && series && (shown.current?.series !== series || shown.current?.predict !== predict)
    ) {
      plots.current.mean.setData(buildChartData(series.points, series.thresholds, forecast));
      plots.current.volatility.setData(buildVolatilityData(series.points, series.thresholds, forecast));
      shown.current = { series, predict };
      setHovered(null);
    }
  }, [series, predict]);

  // New transitions for the same data: draw again (the plugin reads the markers at each draw).
  useEffect(() => {
    plots.current?.mean.redraw(false, false);
  }, [markersKey]);

  const title = series
    ? `coherenceMean over rolling ${formatWindowSec(series.windowSec)} windows`
    : "coherenceMean over time";
  const summary = series ? chartSummary(series) : "The series could not be loaded.";
  const points = series?.points ?? [];
  const partial = partialWindows(points);
  const index = hovered !== null && hovered < points.length ? hovered : points.length - 1;
  const readout = index >= 0
    ? `${hovered === null ? "Latest: " : ""}${readoutText(points[index], partial[index])}`
    : "";
  return (
    <section class="card chart-card" aria-labelledby="chart-title">
      <h2 id="chart-title">{title}</h2>
      {series && (
        <details class="chart-legend" open={wide}>
          <summary>Legend · {rangeLabel(range)} of window ends</summary>
          <ul>
            <li>
              <span class="key key-mean" /> mean · <span class="key key-band" /> mean ± σ
            </li>
            <li>
              <span class="key key-cut-high" /> high cut-off (mean &lt; {series.thresholds.highMeanBelow}) ·
              {" "}
              <span class="key key-cut-medium" /> medium cut-off (mean &lt;{" "}
              {series.thresholds.mediumMeanBelow})
            </li>
            <li>
              dots: risk at each window end, <span class="key key-dot risk-dot-low" /> low{" "}
              <span class="key key-dot risk-dot-medium" /> medium <span class="key key-dot risk-dot-high" />
              {" "}
              high
            </li>
            <li data-testid="legend-forecast">
              <span class="key key-forecast" /> <span class="key key-forecast-band" />{" "}
              {forecastLegend(forecast)}
              {forecast && predict
                ? `, to ${formatEpochUtc(forecast.xs[1])} (window end + ${
                  formatWindowSec(predict.forecast.horizonSec)
                })`
                : ""}
            </li>
            <li data-testid="legend-transitions">
              <span class="key key-transition" />{" "}
              alert transition of this signal and window (dashed line in the new level's colour, labelled with
              it)
            </li>
            <li data-testid="legend-partial">
              <span class="key key-dot key-partial" /> partial window: n below{" "}
              {Math.round(PARTIAL_SHARE * 100)} % of a full window (the median n) or any data warning
            </li>
            <li>
              lower pane: <span class="key key-volatility" /> volatility index (σ / mean) with its high (&gt;
              {" "}
              {series.thresholds.highVolatilityAbove}) and medium (&gt;{" "}
              {series.thresholds.mediumVolatilityAbove}) cut-offs; either rule can raise the risk
            </li>
          </ul>
        </details>
      )}
      <figure class="chart-figure">
        <div
          class="chart chart-mean"
          ref={meanBox}
          data-drawn={drawn ? "true" : "false"}
          aria-hidden="true"
        />
        <div
          class="chart chart-volatility"
          ref={volatilityBox}
          data-drawn={drawn ? "true" : "false"}
          aria-hidden="true"
        />
        {drawn && <p class="readout" data-testid="readout">{readout}</p>}
        {markers.length > 0 && (
          <ul class="transition-list" data-testid="transition-list" data-markers-drawn={markersDrawn}>
            {markers.map((m) => (
              <li key={`${m.x}-${m.to}`} class={`transition transition-${m.to}`}>{m.title}</li>
            ))}
          </ul>
        )}
        <figcaption class="chart-summary">
          {summary}
          {!drawn && " The chart draws with JavaScript; the table lists the recent values."}
        </figcaption>
      </figure>
    </section>
  );
}
