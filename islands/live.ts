/**
 * State shared by the islands (one bundle, so one module instance on the page): the selection and the data
 * fetched for it. Islands render from their server props until `data` holds a newer fetch, so the hydrated
 * markup equals the server's. Nothing runs at import time; the client entry calls {@linkcode startLive}.
 */
import { effect, signal } from "@preact/signals";
import { apiPaths, selectionQuery } from "../src/page/selection.ts";
import type {
  HistoryResponse,
  HistoryView,
  MetricsResponse,
  PageConfig,
  PageData,
  Selection,
  SeriesResponse,
  SignalOption,
} from "../src/page/types.ts";

/** The current selection; null until the client entry seeds it from the page config. */
export const selection = signal<Selection | null>(null);
/** The newest data fetched in the browser for the current selection; null until the first fetch lands. */
export const data = signal<PageData | null>(null);
/** The signal list, refreshed with the data; null until the first fetch lands. */
export const signals = signal<SignalOption[] | null>(null);
/** True while a fetch is in flight. */
export const loading = signal(false);
/** True once the client entry has hydrated the islands (the no-JS parts can step aside). */
export const hydrated = signal(false);
/** Live refresh period, ms. */
export const pollMs = signal(10_000);

/** How the page fetches: the browser's `fetch`, or on the server the app itself (`app.request`). */
export type PageFetch = (path: string, init?: RequestInit) => Promise<Response>;

export interface LiveOptions {
  fetch?: PageFetch;
  now?: () => number;
}

/** A problem+json body's detail, else the status line. */
async function problemText(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object" && "detail" in body && typeof body.detail === "string") {
      return body.detail;
    }
  } catch {
    // not JSON: fall through to the status line
  }
  return `HTTP ${response.status} ${response.statusText}`.trim();
}

/** Checks that a JSON answer is an object carrying the fields the page renders. */
function expectObject<T>(body: unknown, keys: readonly string[], what: string): T {
  if (body === null || typeof body !== "object" || keys.some((key) => !(key in body))) {
    throw new Error(`${what}: unexpected response shape`);
  }
  // The API validates its answers against these schemas (contract tests); here we check the shape we read.
  return body as T;
}

/**
 * Fetches everything one selection shows: metrics, series, history (a 404 means the service has no history
 * route: "no snapshots yet") and the signal list. Failures become messages in `errors`, never throws.
 */
export async function fetchPageData(
  current: Selection,
  config: Pick<PageConfig, "seriesPoints" | "historyLimit">,
  { fetch = globalThis.fetch, now = Date.now, abort, withSignals = true }: LiveOptions & {
    abort?: AbortSignal;
    /** Also fetch the signal list (the server already has it). */
    withSignals?: boolean;
  } = {},
): Promise<{ page: PageData; signals: SignalOption[] | null }> {
  const paths = apiPaths(current, config);
  const errors: string[] = [];
  const get = async <T>(path: string, keys: readonly string[], what: string): Promise<T | null> => {
    try {
      const response = await fetch(path, { signal: abort, headers: { Accept: "application/json" } });
      if (!response.ok) {
        errors.push(`${what}: ${await problemText(response)}`);
        return null;
      }
      return expectObject<T>(await response.json(), keys, what);
    } catch (error) {
      if (abort?.aborted) throw error;
      errors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
  };
  const historyRequest = (async (): Promise<HistoryView> => {
    const base = { store: current.store, active: false, note: null, rows: [] };
    try {
      const response = await fetch(paths.history, { signal: abort, headers: { Accept: "application/json" } });
      if (response.status === 404) {
        await response.body?.cancel();
        return { ...base, available: false, problem: "this service has no /coherence/history route" };
      }
      if (!response.ok) return { ...base, available: false, problem: await problemText(response) };
      const body = expectObject<HistoryResponse>(
        await response.json(),
        ["rows", "store", "active"],
        "history",
      );
      return {
        available: true,
        store: body.store,
        active: body.active,
        note: body.note ?? null,
        rows: body.rows,
        problem: null,
      };
    } catch (error) {
      if (abort?.aborted) throw error;
      return { ...base, available: false, problem: error instanceof Error ? error.message : String(error) };
    }
  })();
  const [metrics, series, history, signalList] = await Promise.all([
    get<MetricsResponse>(paths.metrics, ["coherenceMean", "predictedDriftRisk", "explain"], "metrics"),
    get<SeriesResponse>(paths.series, ["points", "thresholds"], "series"),
    historyRequest,
    withSignals ? get<{ signals: SignalOption[] }>(paths.signals, ["signals"], "signals") : null,
  ]);
  return {
    page: {
      selection: current,
      metrics,
      series,
      history,
      errors,
      fetchedAt: new Date(now()).toISOString(),
    },
    signals: signalList?.signals.map(({ signal, n }) => ({ signal, n })) ?? null,
  };
}

let inFlight: AbortController | null = null;
let liveConfig: PageConfig | null = null;
let liveOptions: LiveOptions = {};

/** Fetches the current selection now; a newer call cancels an older one still in flight. */
export async function refresh(): Promise<void> {
  const current = selection.peek();
  if (current === null || liveConfig === null) return;
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  loading.value = true;
  try {
    const result = await fetchPageData(current, liveConfig, { ...liveOptions, abort: controller.signal });
    if (controller.signal.aborted) return;
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
 * every `pollMs` while the page is visible. Returns a function that stops it.
 */
export function startLive(config: PageConfig, options: LiveOptions = {}): () => void {
  liveConfig = config;
  liveOptions = options;
  pollMs.value = config.pollMs;
  selection.value = config.selection;
  let first = true;
  const stopEffect = effect(() => {
    const current = selection.value;
    if (first) {
      first = false;
      return;
    }
    if (current !== null) {
      history.replaceState(null, "", selectionQuery(current));
      void refresh();
    }
  });
  const timer = setInterval(() => {
    if (!document.hidden) void refresh();
  }, config.pollMs);
  // A hidden tab skips polls; coming back shows fresh data at once.
  const onVisible = () => {
    if (!document.hidden) void refresh();
  };
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    stopEffect();
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
    inFlight?.abort();
  };
}
