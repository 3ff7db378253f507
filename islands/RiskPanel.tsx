/**
 * Risk panel island: the level (colour and words), the figures behind it, the rule that fired, the distance to
 * the nearest boundary, the warnings, and Export. Export is a link to the API for the selection (works without
 * JavaScript); hydrated, it downloads exactly the metrics shown, as the API returned them.
 */
import { useEffect } from "preact/hooks";
import {
  backtestLine,
  exportFileName,
  forecastHeadline,
  forecastSentence,
  formatInteger,
  formatInterval,
  formatNumber,
  formatSignal,
  formatUtc,
  formatWindowSec,
  riskClass,
  riskHeadline,
} from "../src/page/format.ts";
import { apiPaths } from "../src/page/selection.ts";
import type { BacktestResponse, MetricsResponse, PredictResponse, Selection } from "../src/page/types.ts";
import { backtest as liveBacktest, backtestKey, data, selection } from "./live.ts";

export interface RiskPanelProps {
  metrics: MetricsResponse | null;
  /** The forecast at end + horizon (refreshed with every poll). */
  predict: PredictResponse | null;
  /** The backtest for the selected signal and window (refreshed when either changes). */
  backtest: BacktestResponse | null;
  selection: Selection;
}

/** The forecast beside the current risk: the verdict at end + horizon, the eta in words, the backtest. */
function ForecastBlock(
  { predict, backtest }: { predict: PredictResponse | null; backtest: BacktestResponse | null },
) {
  return (
    <div class="forecast" data-testid="forecast" data-end={predict?.inputs.end_ts}>
      <h3>Forecast</h3>
      {predict === null ? <p class="empty">The forecast could not be loaded.</p> : (
        <>
          <p
            class={`forecast-headline ${riskClass(predict.forecast.predictedDriftRisk)}`}
            data-testid="forecast-headline"
            data-risk={predict.forecast.predictedDriftRisk}
          >
            {forecastHeadline(predict.forecast)}
          </p>
          <p class="forecast-sentence" data-testid="forecast-sentence">
            {forecastSentence(predict.forecast)}
          </p>
        </>
      )}
      <p class="backtest" data-testid="backtest">
        <span class="backtest-label">Backtest:</span>{" "}
        {backtest === null ? "could not be loaded." : backtestLine(backtest)}
      </p>
    </div>
  );
}

function download(metrics: MetricsResponse): void {
  const blob = new Blob([`${JSON.stringify(metrics, null, 2)}\n`], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = exportFileName(metrics);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export default function RiskPanel(props: RiskPanelProps) {
  const live = data.value;
  const metrics = live ? live.metrics : props.metrics;
  const predict = live ? live.predict : props.predict;
  const backtest = live ? live.backtest : props.backtest;
  const current = live?.selection ?? selection.value ?? props.selection;
  // The server's backtest seeds the live state, so a poll carries it forward instead of fetching it again.
  useEffect(() => {
    if (liveBacktest.peek() === null && props.backtest) {
      liveBacktest.value = { key: backtestKey(props.selection), value: props.backtest };
    }
  }, []);
  const exportHref = apiPaths(current, { seriesPoints: 2, historyLimit: 1 }).metrics;

  if (metrics === null) {
    return (
      <section class="card risk-card" aria-labelledby="risk-title">
        <h2 id="risk-title">Drift risk</h2>
        <p class="empty">
          The metrics for {formatSignal(current.signal)} over {current.window} could not be loaded.
        </p>
      </section>
    );
  }
  const level = metrics.predictedDriftRisk;
  const { explain } = metrics;
  return (
    <section class="card risk-card" aria-labelledby="risk-title">
      <h2 id="risk-title">Drift risk</h2>
      <p class={`risk-level ${riskClass(level)}`} data-risk={level}>
        <span class="risk-badge">{level.toUpperCase()}</span>
        <span class="risk-words">{riskHeadline(level)}</span>
      </p>
      <p class="risk-scope" data-testid="risk-scope">
        {formatSignal(metrics.signal)}, {formatWindowSec(metrics.windowSec)} window:{" "}
        {formatInterval(metrics.inputs.start_ts, metrics.inputs.end_ts)}
      </p>
      <ForecastBlock predict={predict} backtest={backtest} />
      <dl class="figures">
        <div>
          <dt>Mean</dt>
          <dd>{formatNumber(metrics.coherenceMean)}</dd>
        </div>
        <div>
          <dt>σ (stdev)</dt>
          <dd>{formatNumber(metrics.stdev)}</dd>
        </div>
        <div>
          <dt>Volatility index</dt>
          <dd>{formatNumber(metrics.volatilityIndex, 3)}</dd>
        </div>
        <div>
          <dt>n</dt>
          <dd>{formatInteger(metrics.n)}</dd>
        </div>
      </dl>
      <h3>Rule that fired</h3>
      <p class="rule" data-testid="rule">{explain.rule.text}</p>
      <h3>Nearest boundary</h3>
      <p class="boundary" data-testid="boundary">
        {explain.nearestBoundary?.text ?? "No boundary applies: there is no mean to compare."}
      </p>
      <h3>Warnings</h3>
      {metrics.warnings.length === 0
        ? <p class="no-warnings">None: the data looks sound.</p>
        : (
          <ul class="warnings">
            {metrics.warnings.map((warning) => (
              <li key={warning.code}>
                <code>{warning.code}</code> {warning.message}
              </li>
            ))}
          </ul>
        )}
      <div class="export">
        <a
          class="button"
          id="export-json"
          href={exportHref}
          download={exportFileName(metrics)}
          onClick={(event) => {
            event.preventDefault();
            download(metrics);
          }}
        >
          Export JSON
        </a>
        <span class="hint">
          Computed {formatUtc(metrics.timestamp)}, engine {metrics.meta.engine_version}
        </span>
      </div>
    </section>
  );
}
