/**
 * The service's shared words, each defined once: store modes and where each keeps its file, risk levels,
 * warning codes, source kinds and the name of the pooled series. Pure: no I/O. Every other module (config,
 * persistence, HTTP, page, mock) imports these instead of restating them; zod schemas build on these lists.
 */

/** The signal name of the series that pools every signal (`/coherence/metrics` without `signal`). */
export const POOLED_SIGNAL = "*";

/** Where snapshots are kept (`PERSISTENCE`). */
export const STORE_MODES = ["sqlite", "csv", "kv", "none"] as const;
export type StoreMode = (typeof STORE_MODES)[number];

/** The file each store mode keeps under `DATA_DIR`; `none` keeps nothing. */
export const STORE_FILE_NAMES = Object.freeze(
  {
    sqlite: "rolling_store.db",
    csv: "rolling_store.csv",
    kv: "rolling_store.kv",
    none: null,
  } as const satisfies Record<StoreMode, string | null>,
);

/** Drift risk levels, from best to worst, then `unknown` (too little data to say). */
export const RISK_LEVELS = ["low", "medium", "high", "unknown"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Data-quality warning codes (`warnings[].code` in every metrics answer). */
export const WARNING_CODES = [
  "no_data",
  "too_few_samples",
  "stale_data",
  "unit_scale_suspected",
  "volatility_undefined",
  "window_exceeds_history",
  // The forecast (`/coherence/predict`) is flat, and why.
  "trend_too_few_points",
  "trend_not_significant",
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/** Where points come from: the live Darshan API, or a local file replayed to the clock or served as is. */
export const SOURCE_KINDS = ["darshan_api", "mock_replay", "mock_file"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];
