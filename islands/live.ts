/**
 * State shared by the islands (one bundle, so one module instance on the page): the selection and the data
 * fetched for it. Islands render from their server props until `data` holds a newer fetch, so the hydrated
 * markup equals the server's. Nothing runs at import time; the client entry calls {@linkcode startLive}.
 */
import { effect, signal } from "@preact/signals";
import { fetchPageData, type PageFetchOptions } from "../src/page/page_data.ts";
import { selectionQuery } from "../src/page/selection.ts";
import type { BacktestResponse, PageConfig, PageData, Selection, SignalOption } from "../src/page/types.ts";

/** The current selection; null until the client entry seeds it from the page config. */
export const selection = signal<Selection | null>(null);
/** The newest data fetched in the browser for the current selection; null until the first fetch lands. */
export const data = signal<PageData | null>(null);
/** The signal list, refreshed with the data; null until the first fetch lands. */
export const signals = signal<SignalOption[] | null>(null);
/**
 * The backtest shown and the signal and window it is for ({@linkcode backtestKey}): seeded from the server
 * render, fetched again only when the signal or window changes (a poll carries it forward).
 */
export const backtest = signal<{ key: string; value: BacktestResponse } | null>(null);

/** What the backtest depends on: the signal and the window (not the range or the store). */
export function backtestKey(current: Pick<Selection, "signal" | "window">): string {
  return JSON.stringify([current.signal, current.window]);
}

/** True while a fetch is in flight. */
export const loading = signal(false);
/** True once the client entry has hydrated the islands (the no-JS parts can step aside). */
export const hydrated = signal(false);
/** Live refresh period, ms. */
export const pollMs = signal(10_000);
/** True while live refresh is paused (the address carries `live=0`); selection changes still fetch. */
export const paused = signal(false);

let inFlight: AbortController | null = null;
let liveConfig: PageConfig | null = null;
let liveOptions: PageFetchOptions = {};

/** Fetches the current selection now; a newer call cancels an older one still in flight. */
export async function refresh(): Promise<void> {
  const current = selection.peek();
  if (current === null || liveConfig === null) return;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  loading.value = true;
  try {
    const key = backtestKey(current);
    const known = backtest.peek();
    const result = await fetchPageData(current, liveConfig, {
      ...liveOptions,
      abort: controller.signal,
      ...(known?.key === key ? { backtest: known.value } : {}),
    });
    if (controller.signal.aborted) return;
    if (result.page.backtest) backtest.value = { key, value: result.page.backtest };
    data.value = result.page;
    if (result.signals) signals.value = result.signals;
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      loading.value = false;
    }
  }
}

/** Changes the selection (fetches at once and updates the address bar so a reload keeps it). */
export function select(change: Partial<Selection>): void {
  const current = selection.peek();
  if (current === null) return;
  selection.value = { ...current, ...change };
}

/**
 * Seeds the selection from the page config and starts live refresh: at once on every selection change, and
 * every `pollMs` while the page is visible and not {@linkcode paused}. The address bar follows the selection
 * and the pause (`live=0`). Returns a function that stops it.
 */
export function startLive(config: PageConfig, options: PageFetchOptions = {}): () => void {
  liveConfig = config;
  liveOptions = options;
  pollMs.value = config.pollMs;
  selection.value = config.selection;
  paused.value = !config.live;
  let first = true;
  const stopEffect = effect(() => {
    const current = selection.value;
    if (first) {
      first = false;
      return;
    }
    if (current !== null) {
      history.replaceState(null, "", selectionQuery(current, { live: !paused.peek() }));
      void refresh();
    }
  });
  // Pausing keeps what is shown; resuming fetches at once, then the timer carries on.
  let firstPause = true;
  const stopPauseEffect = effect(() => {
    const isPaused = paused.value;
    if (firstPause) {
      firstPause = false;
      return;
    }
    const current = selection.peek();
    if (current !== null) history.replaceState(null, "", selectionQuery(current, { live: !isPaused }));
    if (isPaused) inFlight?.abort();
    else void refresh();
  });
  const timer = setInterval(() => {
    if (!document.hidden && !paused.peek()) void refresh();
  }, config.pollMs);
  // A hidden tab skips polls; coming back shows fresh data at once (unless paused).
  const onVisible = () => {
    if (!document.hidden && !paused.peek()) void refresh();
  };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    stopEffect();
    stopPauseEffect();
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
    inFlight?.abort();
  };
}
