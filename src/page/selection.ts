/**
 * The sidebar's selection: its choices, the page's query string and the API paths it maps to. Pure, shared by
 * the server render and the islands.
 */
import { POOLED_SIGNAL, STORE_MODES, type StoreMode } from "../core/vocabulary.ts";
import { formatWindow, parseWindow } from "../core/window.ts";
import {
  type Range,
  RANGES,
  type Selection,
  type SelectionOptions,
  type SignalOption,
  type StoreOption,
  type WindowOption,
} from "./types.ts";

/** Windows offered besides the configured ones. */
export const COMMON_WINDOWS = ["5m", "1h", "24h"] as const;

/**
 * The window choices: the configured windows (marked), the common ones, and `current` when it is neither;
 * one entry per length, shortest first.
 */
export function windowOptions(configuredSec: readonly number[], current?: string): WindowOption[] {
  const bySeconds = new Map<number, WindowOption>();
  const add = (seconds: number, configured: boolean) => {
    const known = bySeconds.get(seconds);
    if (known) known.configured ||= configured;
    else bySeconds.set(seconds, { value: formatWindow(seconds), seconds, configured });
  };
  for (const seconds of configuredSec) add(seconds, true);
  for (const text of COMMON_WINDOWS) add(parseWindow(text), false);
  if (current !== undefined) {
    try {
      add(parseWindow(current), false);
    } catch {
      // An unparsable current window is not offered; resolveSelection reports it.
    }
  }
  return [...bySeconds.values()].sort((a, b) => a.seconds - b.seconds);
}

/** Every store mode, the active one marked. */
export function storeOptions(active: StoreMode): StoreOption[] {
  return STORE_MODES.map((mode) => ({ mode, active: mode === active }));
}

export function isStoreMode(text: string): text is StoreMode {
  return (STORE_MODES as readonly string[]).includes(text);
}

/** The chart's range when the address names none: the last 24 h of window ends. */
export const DEFAULT_RANGE: Range = "24h";

export function isRange(text: string): text is Range {
  return (RANGES as readonly string[]).includes(text);
}

/** A range's length in ms. */
export function rangeMs(range: Range): number {
  return parseWindow(range) * 1000;
}

/** "last 6 h": how the range select and the summaries name a range. */
export function rangeLabel(range: Range): string {
  return `last ${range.replace(/h$/, " h")}`;
}

/** Reads the page's `live` parameter: `0`, `false`, `off` or `no` pause live refresh; anything else is live. */
export function parseLive(text: string | undefined): boolean {
  return !["0", "false", "off", "no"].includes(text?.trim().toLowerCase() ?? "");
}

export interface SelectionContext {
  signals: readonly SignalOption[];
  configuredWindowsSec: readonly number[];
  maxWindowSec: number;
  activeStore: StoreMode;
}

/**
 * Reads the page's query (`signal`, `window`, `store`) into a selection the API accepts, falling back to the
 * defaults (all signals, the first configured window, the active store) with a notice for each value that
 * could not be used.
 */
export function resolveSelection(
  query: { signal?: string; window?: string; store?: string; range?: string },
  context: SelectionContext,
): { selection: Selection; notices: string[] } {
  const notices: string[] = [];
  const defaultWindow = formatWindow(context.configuredWindowsSec[0]);
  let signal = query.signal?.trim() || POOLED_SIGNAL;
  if (signal !== POOLED_SIGNAL && !context.signals.some((s) => s.signal === signal)) {
    notices.push(`Unknown signal "${signal}": showing all signals instead.`);
    signal = POOLED_SIGNAL;
  }
  let window = defaultWindow;
  const requested = query.window?.trim();
  if (requested) {
    try {
      window = formatWindow(parseWindow(requested, { maxSec: context.maxWindowSec }));
    } catch (error) {
      notices.push(`${error instanceof Error ? error.message : String(error)}: showing ${defaultWindow}.`);
    }
  }
  let store = context.activeStore;
  const requestedStore = query.store?.trim().toLowerCase();
  if (requestedStore) {
    if (isStoreMode(requestedStore)) store = requestedStore;
    else notices.push(`Unknown store "${requestedStore}": showing the active store (${store}).`);
  }
  let range = DEFAULT_RANGE;
  const requestedRange = query.range?.trim().toLowerCase();
  if (requestedRange) {
    if (isRange(requestedRange)) range = requestedRange;
    else {
      notices.push(
        `Unknown range "${requestedRange}": expected ${RANGES.join(", ")}; showing the ${rangeLabel(range)}.`,
      );
    }
  }
  return { selection: { signal, window, store, range }, notices };
}

/** The sidebar's choices for a selection (its window offered even when it is not a usual one). */
export function selectionOptions(
  selection: Selection,
  context: SelectionContext,
): SelectionOptions {
  return {
    signals: [...context.signals],
    windows: windowOptions(context.configuredWindowsSec, selection.window),
    stores: storeOptions(context.activeStore),
  };
}

/**
 * The page URL's query for a selection: `?signal=alpha&window=1h&store=sqlite&range=24h`, plus `live=0` when
 * live refresh is paused, so a shared address opens the same view.
 */
export function selectionQuery(selection: Selection, { live = true }: { live?: boolean } = {}): string {
  const query = new URLSearchParams({ ...selection });
  if (!live) query.set("live", "0");
  return `?${query}`;
}

/** Most active (and most pending) alerts the page lists, worst first. */
export const ALERT_LIST_LIMIT = 20;
/** Most transitions marked on the chart (the newest in its range). */
export const TRANSITION_MARKER_LIMIT = 100;

export interface ApiPathOptions {
  seriesPoints: number;
  historyLimit: number;
  /** The series runs from `nowMs − range` to `nowMs` (whole seconds); without it, the API's default span. */
  nowMs?: number;
}

/** The series' `from` and `to` for a range ending at `nowMs`, whole seconds (RFC 3339). */
export function seriesSpan(range: Range, nowMs: number): { from: string; to: string } {
  const toMs = Math.floor(nowMs / 1000) * 1000;
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  return { from: iso(toMs - rangeMs(range)), to: iso(toMs) };
}

/** The API requests behind one refresh of a selection (same-origin paths). */
export function apiPaths(selection: Selection, options: ApiPathOptions) {
  const base = { signal: selection.signal, window: selection.window };
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...base, ...extra }).toString();
  return {
    metrics: `/coherence/metrics?${query({})}`,
    series: `/coherence/series?${
      query({
        points: String(options.seriesPoints),
        ...(options.nowMs === undefined ? {} : seriesSpan(selection.range, options.nowMs)),
      })
    }`,
    predict: `/coherence/predict?${
      query(options.nowMs === undefined ? {} : { end: seriesSpan(selection.range, options.nowMs).to })
    }`,
    backtest: `/coherence/predict/backtest?${query({})}`,
    history: `/coherence/history?${query({ limit: String(options.historyLimit), store: selection.store })}`,
    signals: "/coherence/signals",
    alertsActive: `/coherence/alerts?state=active&limit=${ALERT_LIST_LIMIT}`,
    alertsPending: `/coherence/alerts?state=pending&limit=${ALERT_LIST_LIMIT}`,
    transitions: `/coherence/transitions?${
      query({
        limit: String(TRANSITION_MARKER_LIMIT),
        ...(options.nowMs === undefined ? {} : { since: seriesSpan(selection.range, options.nowMs).from }),
      })
    }`,
  };
}
