/**
 * History island: the newest persisted snapshots for the selection (from `/coherence/history`), newest first,
 * or a clear sentence saying why there are none.
 */
import {
  formatInteger,
  formatNumber,
  formatSignal,
  formatUtc,
  historyEmptyMessage,
  riskClass,
  riskLabel,
} from "../src/page/format.ts";
import type { HistoryView, Selection } from "../src/page/types.ts";
import { data } from "./live.ts";

export interface HistoryTableProps {
  history: HistoryView;
  selection: Selection;
}

export default function HistoryTable(props: HistoryTableProps) {
  const live = data.value;
  const history = live ? live.history : props.history;
  const current = live ? live.selection : props.selection;
  const empty = historyEmptyMessage(history, current);
  const rows = [...history.rows].reverse();
  const source = `${history.store} store${history.active ? " (active)" : ""}`;
  return (
    <section class="card history-card" aria-labelledby="history-title">
      <h2 id="history-title">Recent snapshots</h2>
      <p class="hint">
        {formatSignal(current.signal)}, {current.window} window, from the {source}; newest first.
      </p>
      {empty !== null
        ? <p class="empty" data-testid="history-empty">{empty}</p>
        : (
          <div class="table-wrap" role="region" aria-labelledby="history-title" tabIndex={0}>
            <table class="history">
              <thead>
                <tr>
                  <th scope="col">Computed at</th>
                  <th scope="col" class="num">n</th>
                  <th scope="col" class="num">Mean</th>
                  <th scope="col" class="num">σ</th>
                  <th scope="col" class="num">Volatility</th>
                  <th scope="col">Risk</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  <tr key={`${row.timestamp}#${index}`}>
                    <td>
                      <time dateTime={row.timestamp}>{formatUtc(row.timestamp)}</time>
                    </td>
                    <td class="num">{formatInteger(row.n)}</td>
                    <td class="num">{formatNumber(row.coherenceMean)}</td>
                    <td class="num">{formatNumber(row.stdev)}</td>
                    <td class="num">{formatNumber(row.volatilityIndex, 3)}</td>
                    <td>
                      <span class={`risk-text ${riskClass(row.predictedDriftRisk)}`}>
                        {riskLabel(row.predictedDriftRisk)}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}
