/**
 * The verification page's data shapes, shared by the server render and the islands. Type-only imports, so
 * the client bundle never pulls in zod or the OpenAPI schemas.
 */
import type { StoreMode } from "../core/vocabulary.ts";
import type {
  AlertsResponse,
  AlertStateBody,
  BacktestResponse,
  HistoryResponse,
  MetricsResponse,
  PredictResponse,
  SeriesResponse,
  TransitionBody,
  TransitionsResponse,
} from "../schemas.ts";

export type {
  AlertsResponse,
  AlertStateBody,
  BacktestResponse,
  HistoryResponse,
  MetricsResponse,
  PredictResponse,
  SeriesResponse,
  TransitionBody,
  TransitionsResponse,
};
export type Forecast = PredictResponse["forecast"];
export type Thresholds = MetricsResponse["explain"]["thresholds"];
export type SeriesPoint = SeriesResponse["points"][number];
export type HistoryRow = HistoryResponse["rows"][number];

/** The chart's time ranges: the last 1 h, 6 h or 24 h of window ends. */
export const RANGES = ["1h", "6h", "24h"] as const;
export type Range = (typeof RANGES)[number];

/**
 * What the sidebar selects; also the page's query string (`/?signal=alpha&window=1h&store=sqlite&range=6h`).
 */
export interface Selection {
  /** A signal name, or `"*"` for all signals pooled. */
  signal: string;
  /** Window text as the API takes it (`1h`). */
  window: string;
  /** Which snapshot store the history table reads. */
  store: StoreMode;
  /** How far back the chart's window ends go. */
  range: Range;
}

export interface SignalOption {
  signal: string;
  n: number;
}

export interface WindowOption {
  value: string;
  seconds: number;
  /** One of DEFAULT_WINDOWS (snapshotted each cycle, so it has history). */
  configured: boolean;
}

export interface StoreOption {
  mode: StoreMode;
  active: boolean;
}

/** The sidebar's choices. */
export interface SelectionOptions {
  signals: SignalOption[];
  windows: WindowOption[];
  stores: StoreOption[];
}

/**
 * The history table's data: the `/coherence/history` answer, or why there is none (`available: false` when
 * the route is missing or failed).
 */
export interface HistoryView {
  available: boolean;
  store: StoreMode;
  active: boolean;
  note: string | null;
  rows: HistoryRow[];
  /** Why no rows could be read (route absent, store unreadable); null when the read worked. */
  problem: string | null;
}

/** Everything one refresh fetches for a selection. */
export interface PageData {
  selection: Selection;
  metrics: MetricsResponse | null;
  series: SeriesResponse | null;
  /** `/coherence/predict` at the series' last window end (horizon: the window); refreshed with every poll. */
  predict: PredictResponse | null;
  /**
   * `/coherence/predict/backtest` for the selected signal and window; fetched once per selection change, so a
   * poll carries the previous answer forward.
   */
  backtest: BacktestResponse | null;
  history: HistoryView;
  /** Active alerts (medium, high) and pending ones, every signal and window; null when they could not be read. */
  alerts: AlertList | null;
  /**
   * The selected signal and window's transitions within the chart's range (markers on the chart); null when
   * they could not be read.
   */
  transitions: TransitionBody[] | null;
  /** Problems met while fetching (shown in the sidebar), empty when all went well. */
  errors: string[];
  /** When this data was fetched, RFC 3339. */
  fetchedAt: string;
}

/** The alert list the page shows: the worst `limit` active and pending keys, and how many there are. */
export interface AlertList {
  active: AlertStateBody[];
  activeTotal: number;
  pending: AlertStateBody[];
  pendingTotal: number;
  settings: AlertsResponse["settings"];
}

/** The id of the `<script type="application/json">` element holding the {@linkcode PageConfig}. */
export const PAGE_CONFIG_ID = "page-config";

/** The small JSON block the client entry reads before hydrating (`<script type="application/json">`). */
export interface PageConfig {
  selection: Selection;
  /** False when the page was asked for with `live=0`: live refresh starts paused. */
  live: boolean;
  pollMs: number;
  historyLimit: number;
  seriesPoints: number;
}
