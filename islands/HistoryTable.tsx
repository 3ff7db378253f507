/**
 * History island: the newest persisted snapshots for the selection (from `/coherence/history`), newest first,
 * or a clear sentence saying why there are none. Risk is the second column, so a phone shows it without
 * scrolling; when the table is still wider than its box, a hint under it says it scrolls sideways.
 */
import { useEffect, useRef, useState } from "preact/hooks";
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
  const wrap = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useEffect(() => {
    const element = wrap.current;
    if (!element) return;
    const measure = () => setScrolls(element.scrollWidth > element.clientWidth + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, [empty === null]);
  return (
    <section class="card history-card" aria-labelledby="history-title">
      <h2 id="history-title">Recent snapshots</h2>
      <p class="hint">
        {formatSignal(current.signal)}, {current.window} window, from the {source}; newest first.
      </p>
      {empty !== null ? <p class="empty" data-testid="history-empty">{empty}</p> : (
        <>
          <div
            class="table-wrap"
            role="region"
            aria-labelledby="history-title"
            tabIndex={0}
            ref={wrap}
            data-scrolls={scrolls ? "true" : "false"}
          >
            <table class="history">
              <thead>
                <tr>
                  <th scope="col">Computed at</th>
                  <th scope="col">Risk</th>
                  <th scope="col" class="num">Mean</th>
                  <th scope="col" class="num">Volatility</th>
                  <th scope="col" class="num">σ</th>
                  <th scope="col" class="num">n</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => (
                  <tr key={`${row.timestamp}#${index}`}>
                    <td class="when">
                      <time dateTime={row.timestamp}>{formatUtc(row.timestamp)}</time>
                    </td>
                    <td>
                      <span class={`risk-text ${riskClass(row.predictedDriftRisk)}`}>
                        {riskLabel(row.predictedDriftRisk)}
                      </span>
                    </td>
                    <td class="num">{formatNumber(row.coherenceMean)}</td>
                    <td class="num">{formatNumber(row.volatilityIndex, 3)}</td>
                    <td class="num">{formatNumber(row.stdev)}</td>
                    <td class="num">{formatInteger(row.n)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="hint scroll-hint" data-testid="scroll-hint">
            Scroll the table sideways for more columns →
          </p>
        </>
      )}
    </section>
  );
}
