/**
 * Sidebar island: signal, window, time-range and snapshot-store selects. Without JavaScript it is a plain GET
 * form (Apply reloads `/?signal=…&window=…&store=…&range=…`); hydrated, a change fetches the new selection at
 * once, the button refreshes now, and Pause/Resume stops and restarts the live refresh (`live=0` in the
 * address while paused).
 */
import { POOLED_SIGNAL } from "../src/core/vocabulary.ts";
import {
  formatInteger,
  formatSignal,
  formatUtc,
  storeOptionLabel,
  windowOptionLabel,
} from "../src/page/format.ts";
import { isRange, isStoreMode, rangeLabel } from "../src/page/selection.ts";
import { RANGES, type Selection, type SelectionOptions } from "../src/page/types.ts";
import { data, hydrated, loading, paused, pollMs, refresh, select, selection, signals } from "./live.ts";

export interface ControlsProps {
  selection: Selection;
  options: SelectionOptions;
  /** Problems with the requested query (unknown signal, bad window) and with the first fetch. */
  notices: string[];
  errors: string[];
  renderedAt: string;
  /** False when the address asked for `live=0`. */
  live: boolean;
}

export default function Controls(props: ControlsProps) {
  const current = selection.value ?? props.selection;
  const live = data.value;
  const signalOptions = signals.value ?? props.options.signals;
  const errors = live ? live.errors : props.errors;
  const notices = live ? [] : props.notices;
  const isLive = hydrated.value;

  const onSubmit = (event: Event) => {
    if (!isLive) return;
    event.preventDefault();
    void refresh();
  };

  const isPaused = isLive ? paused.value : !props.live;
  const every = `${Math.round(pollMs.value / 1000)} s`;
  const updated = formatUtc(live?.fetchedAt ?? props.renderedAt);
  let status: string;
  if (!isLive) status = `Rendered ${formatUtc(props.renderedAt)}. Reload the page for newer data.`;
  else if (loading.value) status = "Refreshing…";
  else if (isPaused) status = `Paused: showing data from ${updated}. Resume to refresh every ${every}.`;
  else status = `Live: updated ${updated}, refreshing every ${every}.`;

  return (
    <form class="controls" method="get" action="/" onSubmit={onSubmit} aria-labelledby="controls-title">
      <h2 id="controls-title">Selection</h2>
      <div class="field">
        <label for="select-signal">Signal</label>
        <select
          id="select-signal"
          name="signal"
          value={current.signal}
          onChange={(event) => select({ signal: event.currentTarget.value })}
        >
          <option value={POOLED_SIGNAL}>{formatSignal(POOLED_SIGNAL)}</option>
          {signalOptions.map((option) => (
            <option key={option.signal} value={option.signal}>
              {option.signal} ({formatInteger(option.n)} points)
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="select-window">Window</label>
        <select
          id="select-window"
          name="window"
          value={current.window}
          aria-describedby="window-hint"
          onChange={(event) => select({ window: event.currentTarget.value })}
        >
          {props.options.windows.map((option) => (
            <option key={option.value} value={option.value}>{windowOptionLabel(option)}</option>
          ))}
        </select>
        <p class="hint" id="window-hint">Configured windows are snapshotted after every ingest cycle.</p>
      </div>
      <div class="field">
        <label for="select-range">Time range</label>
        <select
          id="select-range"
          name="range"
          value={current.range}
          aria-describedby="range-hint"
          onChange={(event) => {
            const range = event.currentTarget.value;
            if (isRange(range)) select({ range });
          }}
        >
          {RANGES.map((range) => <option key={range} value={range}>{rangeLabel(range)}</option>)}
        </select>
        <p class="hint" id="range-hint">How far back the chart's window ends go.</p>
      </div>
      <div class="field">
        <label for="select-store">Snapshot store</label>
        <select
          id="select-store"
          name="store"
          value={current.store}
          aria-describedby="store-hint"
          onChange={(event) => {
            const mode = event.currentTarget.value;
            if (isStoreMode(mode)) select({ store: mode });
          }}
        >
          {props.options.stores.map((option) => (
            <option key={option.mode} value={option.mode}>{storeOptionLabel(option)}</option>
          ))}
        </select>
        <p class="hint" id="store-hint">Which persistence store the history table reads.</p>
      </div>
      {isPaused && <input type="hidden" name="live" value="0" />}
      <div class="buttons">
        <button type="submit" class="button" id="refresh-button">{isLive ? "Refresh now" : "Apply"}</button>
        {isLive && (
          <button
            type="button"
            class="button button-secondary"
            id="live-toggle"
            aria-pressed={isPaused ? "true" : "false"}
            onClick={() => {
              paused.value = !paused.peek();
            }}
          >
            {isPaused ? "Resume live" : "Pause live"}
          </button>
        )}
      </div>
      <p
        class="status"
        role="status"
        aria-live="polite"
        data-loading={isLive && loading.value ? "true" : "false"}
      >
        {status}
      </p>
      {notices.length + errors.length > 0 && (
        <ul class="problems" aria-label="Problems">
          {notices.map((text) => <li key={text}>{text}</li>)}
          {errors.map((text) => <li key={text}>{text}</li>)}
        </ul>
      )}
    </form>
  );
}
