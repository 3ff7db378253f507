/**
 * Risk panel island: the level (colour and words), the figures behind it, the rule that fired, the distance to
 * the nearest boundary, the warnings, and Export. Export is a link to the API for the selection (works without
 * JavaScript); hydrated, it downloads exactly the metrics shown, as the API returned them.
 */
import {
  exportFileName,
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
import type { MetricsResponse, Selection } from "../src/page/types.ts";
import { data, selection } from "./live.ts";

export interface RiskPanelProps {
  metrics: MetricsResponse | null;
  selection: Selection;
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
  const current = live?.selection ?? selection.value ?? props.selection;
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
