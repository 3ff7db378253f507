/**
 * The data one page selection shows, fetched from the JSON API: by the islands in the browser (`fetch`) and by
 * the server render in-process (the API answering `Request`s), so both read exactly the JSON the browser polls,
 * through the same validation and error mapping. Pure apart from the injected `fetch`.
 */
import { apiPaths } from "./selection.ts";
import type {
  AlertList,
  AlertsResponse,
  HistoryResponse,
  HistoryView,
  MetricsResponse,
  PageConfig,
  PageData,
  Selection,
  SeriesResponse,
  SignalOption,
  TransitionsResponse,
} from "./types.ts";
import type { BacktestResponse, PredictResponse } from "./types.ts";

/** How the page fetches: the browser's `fetch`, or on the server the app itself (`app.request`). */
export type PageFetch = (path: string, init?: RequestInit) => Promise<Response>;

export interface PageFetchOptions {
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
 * Fetches everything one selection shows: metrics, series, the forecast, the backtest (unless `backtest`
 * passes a previous answer to carry forward), history (a 404 means the service has no history route: "no
 * snapshots yet") and the signal list. Failures become messages in `errors`, never throws.
 */
export async function fetchPageData(
  current: Selection,
  config: Pick<PageConfig, "seriesPoints" | "historyLimit">,
  { fetch = globalThis.fetch, now = Date.now, abort, withSignals = true, backtest }: PageFetchOptions & {
    abort?: AbortSignal;
    /** Also fetch the signal list (the server already has it). */
    withSignals?: boolean;
    /** The backtest already fetched for this signal and window: carried forward instead of fetched again. */
    backtest?: BacktestResponse | null;
  } = {},
): Promise<{ page: PageData; signals: SignalOption[] | null }> {
  const paths = apiPaths(current, { ...config, nowMs: now() });
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
  const alertsRequest = (async (): Promise<AlertList | null> => {
    const [active, pending] = await Promise.all([
      get<AlertsResponse>(paths.alertsActive, ["alerts", "total", "settings"], "alerts"),
      get<AlertsResponse>(paths.alertsPending, ["alerts", "total", "settings"], "pending alerts"),
    ]);
    if (active === null || pending === null) return null;
    return {
      active: active.alerts,
      activeTotal: active.total,
      pending: pending.alerts,
      pendingTotal: pending.total,
      settings: active.settings,
    };
  })();
  const [metrics, series, predict, backtestAnswer, history, signalList, alerts, transitions] = await Promise
    .all([
      get<MetricsResponse>(paths.metrics, ["coherenceMean", "predictedDriftRisk", "explain"], "metrics"),
      get<SeriesResponse>(paths.series, ["points", "thresholds"], "series"),
      get<PredictResponse>(paths.predict, ["forecast", "coherenceMean", "inputs"], "forecast"),
      backtest === undefined
        ? get<BacktestResponse>(paths.backtest, ["trend", "naive", "points"], "backtest")
        : backtest,
      historyRequest,
      withSignals ? get<{ signals: SignalOption[] }>(paths.signals, ["signals"], "signals") : null,
      alertsRequest,
      get<TransitionsResponse>(paths.transitions, ["transitions"], "transitions"),
    ]);
  return {
    page: {
      selection: current,
      metrics,
      series,
      predict,
      backtest: backtestAnswer,
      history,
      alerts,
      transitions: transitions?.transitions ?? null,
      errors,
      fetchedAt: new Date(now()).toISOString(),
    },
    signals: signalList?.signals.map(({ signal, n }) => ({ signal, n })) ?? null,
  };
}
