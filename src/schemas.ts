/**
 * The API's response schemas: the single source of truth for types, the contract tests and /openapi.json.
 */
import { z } from "@hono/zod-openapi";
import type {
  Boundary,
  EffectiveBoundaries,
  EffectiveBoundary,
  NearestBoundary,
  RiskDecision,
  Thresholds,
} from "./core/risk.ts";
import type { DataWarning } from "./core/warnings.ts";
import {
  POOLED_SIGNAL,
  RISK_LEVELS,
  type RiskLevel,
  SOURCE_KINDS,
  STORE_MODES,
  WARNING_CODES,
} from "./core/vocabulary.ts";

export const RiskLevelSchema = z.enum(RISK_LEVELS).openapi("RiskLevel") satisfies z.ZodType<RiskLevel>;

export const ThresholdsSchema = z.object({
  highVolatilityAbove: z.number(),
  mediumVolatilityAbove: z.number(),
  highMeanBelow: z.number(),
  mediumMeanBelow: z.number(),
}).openapi("Thresholds") satisfies z.ZodType<Thresholds>;

export const BoundarySchema = z.object({
  metric: z.enum(["coherenceMean", "volatilityIndex"]),
  value: z.number(),
  cutoff: z.enum(["high", "medium"]),
  threshold: z.number(),
  distance: z.number().nonnegative(),
  relativeDistance: z.number().nonnegative(),
  side: z.enum(["above", "below", "at"]),
  text: z.string(),
}).openapi("Boundary") satisfies z.ZodType<Boundary>;

const BoundaryRuleSchema = z.enum(["mean", "volatility"]).openapi({
  description:
    "The rule that sets the boundary: the mean cut-off, or the volatility cut-off as a mean (σ / cut-off)",
});

export const EffectiveBoundarySchema = z.object({
  mean: z.number().openapi({
    description: "The mean at which the level changes: max(mean cut-off, σ / volatility cut-off)",
  }),
  rule: BoundaryRuleSchema,
  threshold: z.number().openapi({ description: "That rule's configured cut-off" }),
}).openapi("EffectiveBoundary") satisfies z.ZodType<EffectiveBoundary>;

export const EffectiveBoundariesSchema = z.object({
  high: EffectiveBoundarySchema.openapi({ description: "H: a mean below it is high risk" }),
  medium: EffectiveBoundarySchema.openapi({
    description: "M: a mean at or above H and below it is medium; at or above it, low",
  }),
  stdev: z.number().nullable().openapi({
    description: "The σ held fixed; null with one point (mean cut-offs only)",
  }),
}).openapi("EffectiveBoundaries") satisfies z.ZodType<EffectiveBoundaries>;

export const NearestBoundarySchema = z.object({
  boundary: z.enum(["high", "medium"]).openapi({ description: "H (high | medium) or M (medium | low)" }),
  rule: BoundaryRuleSchema,
  threshold: z.number(),
  stdev: z.number().nullable(),
  value: z.number().openapi({ description: "The current mean" }),
  changesAt: z.number().openapi({ description: "The mean at which the level changes, σ fixed" }),
  direction: z.enum(["rise", "fall"]),
  distance: z.number().nonnegative(),
  from: RiskLevelSchema,
  to: RiskLevelSchema,
  withinScale: z.boolean().openapi({ description: "False when changesAt is above 100 (out of reach)" }),
  text: z.string(),
}).openapi("NearestBoundary") satisfies z.ZodType<NearestBoundary>;

/**
 * `schema` or `null`, published as `anyOf: [{$ref}, {type: "null"}]`. (`.nullable()` on a registered schema
 * comes out as `allOf: [{$ref}, {type: ["object", "null"]}]`, which no null satisfies.)
 */
function orNull<T extends z.ZodType>(schema: T) {
  return z.union([schema, z.null()]);
}

export const ExplainSchema = z.object({
  formula: z.object({ mean: z.string(), stdev: z.string(), volatilityIndex: z.string() }),
  thresholds: ThresholdsSchema,
  rules: z.object({ high: z.string(), medium: z.string(), low: z.string() }),
  rule: z.object({
    level: RiskLevelSchema,
    condition: z.string(),
    matched: z.array(z.string()),
    text: z.string(),
  }) satisfies z.ZodType<RiskDecision>,
  boundaries: z.array(BoundarySchema).openapi({
    description:
      "Distance from the mean and volatility index to each raw cut-off (one may not change the level)",
  }),
  effectiveBoundaries: orNull(EffectiveBoundariesSchema),
  nearestBoundary: orNull(NearestBoundarySchema),
  window: z.object({
    interval: z.string().openapi({ example: "(2025-10-29T16:43:00Z, 2025-10-29T17:43:00Z]" }),
    oldestPoint: z.string().nullable(),
    newestPoint: z.string().nullable(),
  }),
}).openapi("Explain");

export const WarningSchema = z.object({
  code: z.enum(WARNING_CODES),
  message: z.string(),
}).openapi("Warning") satisfies z.ZodType<DataWarning>;

const Timestamp = z.string().openapi({
  example: "2025-10-29T17:43:00Z",
  format: "date-time",
  description: "RFC 3339, UTC",
});

export const MetricsResponseSchema = z.object({
  signal: z.string().openapi({
    example: "alpha",
    description: `"${POOLED_SIGNAL}" when all signals are pooled`,
  }),
  coherenceMean: z.number().nullable(),
  stdev: z.number().nullable(),
  volatilityIndex: z.number().nullable(),
  predictedDriftRisk: RiskLevelSchema,
  timestamp: Timestamp,
  windowSec: z.number().int().positive(),
  n: z.number().int().nonnegative(),
  inputs: z.object({ start_ts: Timestamp, end_ts: Timestamp, source: z.string() }),
  meta: z.object({ method: z.string(), engine_version: z.string(), latency_ms: z.number().nonnegative() }),
  explain: ExplainSchema,
  warnings: z.array(WarningSchema),
}).openapi("CoherenceMetrics");

export type MetricsResponse = z.infer<typeof MetricsResponseSchema>;

export const ProblemSchema = z.object({
  type: z.string().openapi({ example: "https://coherence-engine.dev/problems/invalid-window" }),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
}).openapi("Problem");

export type Problem = z.infer<typeof ProblemSchema>;

export const HealthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  uptimeSec: z.number().nonnegative(),
}).openapi("Health");

export const SignalsResponseSchema = z.object({
  signals: z.array(z.object({
    signal: z.string(),
    n: z.number().int().nonnegative(),
    oldest: Timestamp,
    newest: Timestamp,
  })),
  count: z.number().int().nonnegative(),
}).openapi("Signals");

export const SeriesResponseSchema = z.object({
  signal: z.string(),
  windowSec: z.number().int().positive(),
  stepSec: z.number().int().positive().openapi({
    description: "Seconds between window ends: ⌊(to − from) / (points − 1)⌋ of the request, at least 1",
  }),
  from: Timestamp.openapi({ description: "The oldest window end (the first point's timestamp)" }),
  to: Timestamp.openapi({ description: "The newest window end (the last point's timestamp)" }),
  thresholds: ThresholdsSchema,
  points: z.array(z.object({
    timestamp: Timestamp.openapi({
      description: "Window end: the point equals /coherence/metrics?end=<timestamp>",
    }),
    n: z.number().int().nonnegative(),
    coherenceMean: z.number().nullable(),
    stdev: z.number().nullable(),
    volatilityIndex: z.number().nullable(),
    predictedDriftRisk: RiskLevelSchema,
    warnings: z.array(WarningSchema).openapi({
      description: "The data warnings /coherence/metrics gives for this window end (same codes and messages)",
    }),
  })),
}).openapi("Series");

export type SeriesResponse = z.infer<typeof SeriesResponseSchema>;

export const HistoryRowSchema = z.object({
  timestamp: Timestamp.openapi({
    description: "When the snapshot was computed (computed_at); also the window end",
  }),
  signal: z.string(),
  windowSec: z.number().int().positive(),
  n: z.number().int().nonnegative(),
  coherenceMean: z.number().nullable(),
  stdev: z.number().nullable(),
  volatilityIndex: z.number().nullable(),
  predictedDriftRisk: RiskLevelSchema,
  inputs: z.object({ start_ts: Timestamp, end_ts: Timestamp, source: z.string() }),
  meta: z.object({ engine_version: z.string() }),
}).openapi("HistoryRow");

export const HistoryResponseSchema = z.object({
  signal: z.string(),
  windowSec: z.number().int().positive(),
  store: z.enum(STORE_MODES),
  active: z.boolean().openapi({ description: "True when this is the store the service writes to" }),
  order: z.literal("oldest first"),
  limit: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  note: z.string().nullable(),
  rows: z.array(HistoryRowSchema),
}).openapi("History");

export type HistoryResponse = z.infer<typeof HistoryResponseSchema>;

export const IngestCycleSchema = z.object({
  requestId: z.string(),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  ok: z.boolean(),
  range: z.object({ from: Timestamp, to: Timestamp }).nullable(),
  durationMs: z.number().nonnegative(),
  upstreamLatencyMs: z.number().nonnegative(),
  pages: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  retryAfterWaitsMs: z.array(z.number()),
  received: z.number().int().nonnegative(),
  accepted: z.number().int().nonnegative(),
  inserted: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  duplicates: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  rejectedByReason: z.record(z.string(), z.number()),
  /** Valid records the upstream sent outside the pull window; dropped. */
  outOfWindow: z.number().int().nonnegative(),
  /** Times paging stopped because the upstream pointed back at a page already fetched. */
  loopGuardStops: z.number().int().nonnegative(),
  evicted: z.number().int().nonnegative(),
  error: z.string().nullable(),
}).openapi("IngestCycle");

export type IngestCycle = z.infer<typeof IngestCycleSchema>;

// ---- Alerts (`/coherence/alerts`, `/coherence/transitions`, issue 15) ----

const AlertLevelText = "low, medium, high or unknown";

export const AlertEvaluationSchema = z.object({
  at: Timestamp.openapi({ description: "The evaluation's window end (the snapshot's computed_at)" }),
  level: RiskLevelSchema.openapi({ description: "The rules' level at that evaluation" }),
  candidate: RiskLevelSchema.openapi({
    description: "The level after the recovery margin: what is pending or confirmed",
  }),
  rule: z.string().openapi({ description: "The rule that fired, in words" }),
  n: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  stdev: z.number().nullable(),
  volatilityIndex: z.number().nullable(),
}).openapi("AlertEvaluation");

export const AlertStateSchema = z.object({
  signal: z.string().openapi({ example: "gamma", description: `"${POOLED_SIGNAL}" for all signals pooled` }),
  windowSec: z.number().int().positive(),
  window: z.string().openapi({ example: "1h" }),
  level: RiskLevelSchema.openapi({ description: `The confirmed level: ${AlertLevelText}` }),
  active: z.boolean().openapi({ description: "True when the confirmed level fires (medium or high)" }),
  since: Timestamp.nullable().openapi({
    description: "When the level was confirmed; null while a key has never left its initial unknown",
  }),
  pending: z.object({
    level: RiskLevelSchema,
    since: Timestamp.openapi({ description: "The first evaluation that gave this level" }),
  }).nullable().openapi({ description: "A new level waiting out ALERT_FOR; null when none" }),
  why: z.string().openapi({ description: "Why the state is what it is, in one sentence" }),
  evaluation: AlertEvaluationSchema.nullable().openapi({
    description: "The last evaluation; null before one",
  }),
}).openapi("AlertState");

export type AlertStateBody = z.infer<typeof AlertStateSchema>;

const LevelCountsSchema = z.object({
  low: z.number().int().nonnegative(),
  medium: z.number().int().nonnegative(),
  high: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
});

export const AlertSettingsSchema = z.object({
  for: z.string().openapi({ example: "2m", description: "ALERT_FOR: how long a new level must hold" }),
  forSec: z.number().nonnegative(),
  recoveryMargin: z.number().nonnegative().openapi({
    description: "ALERT_RECOVERY_MARGIN: score points a mean must clear a boundary by to recover",
  }),
}).openapi("AlertSettings");

export const AlertsResponseSchema = z.object({
  settings: AlertSettingsSchema,
  counts: z.object({
    keys: z.number().int().nonnegative().openapi({ description: "Keys held (signal × window)" }),
    active: z.number().int().nonnegative(),
    pending: z.number().int().nonnegative(),
    levels: LevelCountsSchema,
  }).openapi({ description: "Over every key, whatever the filters" }),
  total: z.number().int().nonnegative().openapi({ description: "Keys matching the filters" }),
  limit: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  order: z.literal("severity, then signal, then window"),
  alerts: z.array(AlertStateSchema),
}).openapi("Alerts");

export type AlertsResponse = z.infer<typeof AlertsResponseSchema>;

export const TransitionBodySchema = z.object({
  id: z.string().openapi({
    example: "tr_mh9x8cg0_3600_1a2b3c4d_low_high",
    description: "Unique and deterministic; the webhook-id of its delivery",
  }),
  signal: z.string(),
  windowSec: z.number().int().positive(),
  window: z.string().openapi({ example: "1h" }),
  from: RiskLevelSchema,
  to: RiskLevelSchema,
  at: Timestamp.openapi({ description: "When the new level was confirmed" }),
  pendingSince: Timestamp.openapi({ description: "The first evaluation that gave the new level" }),
  n: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  stdev: z.number().nullable(),
  volatilityIndex: z.number().nullable(),
  rule: z.string().openapi({ description: "The rule that fired, in words" }),
  nearestBoundary: z.object({
    boundary: z.enum(["high", "medium"]),
    rule: z.enum(["mean", "volatility"]),
    changesAt: z.number(),
    direction: z.enum(["rise", "fall"]),
    text: z.string(),
  }).nullable(),
}).openapi("Transition");

export type TransitionBody = z.infer<typeof TransitionBodySchema>;

export const TransitionsResponseSchema = z.object({
  signal: z.string().nullable().openapi({ description: "The signal filter; null: every signal" }),
  windowSec: z.number().int().positive().nullable().openapi({ description: "The window filter; null: all" }),
  since: Timestamp.nullable(),
  order: z.literal("oldest first"),
  limit: z.number().int().positive(),
  count: z.number().int().nonnegative(),
  transitions: z.array(TransitionBodySchema),
}).openapi("Transitions");

export type TransitionsResponse = z.infer<typeof TransitionsResponseSchema>;

/** One delivery target's health (the dispatcher's status): never a URL path, credentials or a secret. */
export const DeliveryHealthSchema = z.object({
  target: z.string().openapi({ example: "webhook", description: "webhook or alertmanager" }),
  url: z.string().openapi({
    example: "https://hooks.example.com:443",
    description: "scheme://host:port only: the path, query and credentials are never shown",
  }),
  delivered: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative().openapi({ description: "Attempts that failed (retried)" }),
  expired: z.number().int().nonnegative().openapi({ description: "Given up after ALERT_WEBHOOK_MAX_AGE" }),
  dropped: z.number().int().nonnegative().openapi({ description: "Dropped past ALERT_OUTBOX_MAX" }),
  outboxDepth: z.number().int().nonnegative().openapi({ description: "Transitions still owed" }),
  lastSuccessAt: Timestamp.nullable(),
  lastFailureAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: Timestamp.nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
}).openapi("DeliveryHealth");

export type DeliveryHealth = z.infer<typeof DeliveryHealthSchema>;

export const AlertsStatusSchema = z.object({
  keys: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  transitionsWritten: z.number().int().nonnegative().openapi({
    description: "Transitions this process wrote to the log",
  }),
  appendFailures: z.number().int().nonnegative().openapi({
    description: "Appends to the transitions log that failed (confirmed again next cycle)",
  }),
  restored: z.number().int().nonnegative().openapi({ description: "Keys restored from the log at start-up" }),
  lastEvaluation: z.object({
    at: Timestamp,
    ok: z.boolean(),
    keys: z.number().int().nonnegative(),
    transitions: z.number().int().nonnegative(),
    error: z.string().nullable(),
  }).nullable(),
  settings: AlertSettingsSchema,
  delivery: z.array(DeliveryHealthSchema).openapi({ description: "One entry per configured target" }),
}).openapi("AlertsStatus");

export const LeaseViewSchema = z.object({
  self: z.string().openapi({ description: "This instance's id (INSTANCE_ID, else hostname-pid-<6 hex>)" }),
  holder: z.string().nullable().openapi({
    description: "The instance holding the ingest lease, as last read",
  }),
  until: Timestamp.nullable().openapi({ description: "When the holder's lease ends (the holder's clock)" }),
  isHolder: z.boolean().openapi({ description: "Whether this instance ingests" }),
  takeovers: z.number().int().nonnegative().openapi({ description: "Times this instance took the lease" }),
  leaseSec: z.number().positive().openapi({ description: "LEASE_S" }),
}).openapi("LeaseStatus");
export type LeaseView = z.infer<typeof LeaseViewSchema>;

export const SyncViewSchema = z.object({
  version: z.number().int().nonnegative().openapi({ description: "Shared points version held (0: none)" }),
  appliedAt: Timestamp.nullable().openapi({ description: "When this instance last applied a version" }),
  lagMs: z.number().nullable().openapi({ description: "From the holder's commit to its application here" }),
  loadedPoints: z.number().int().nonnegative().openapi({ description: "Points read by the last full load" }),
  loadMs: z.number().nonnegative().nullable().openapi({ description: "Duration of the last full load" }),
  syncIntervalMs: z.number().positive().openapi({
    description: "SYNC_INTERVAL: the version is polled this often",
  }),
}).openapi("SyncStatus");
export type SyncView = z.infer<typeof SyncViewSchema>;

export const StatusSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  uptimeSec: z.number().nonnegative(),
  startedAt: Timestamp,
  source: z.object({ kind: z.enum(SOURCE_KINDS), location: z.string(), replay: z.boolean() }),
  lastIngest: orNull(IngestCycleSchema),
  lastSuccessfulIngestAt: Timestamp.nullable(),
  recentIngests: z.array(IngestCycleSchema),
  windows: z.array(z.object({ window: z.string(), windowSec: z.number().int().positive() })),
  defaultWindow: z.string(),
  maxWindowSec: z.number().int().positive(),
  persistence: z.object({
    mode: z.enum(STORE_MODES),
    location: z.string(),
    active: z.boolean(),
    rowsWritten: z.number().int().nonnegative(),
    writeFailures: z.number().int().nonnegative(),
    lastWrite: z.object({
      at: Timestamp,
      ok: z.boolean(),
      rows: z.number().int(),
      error: z.string().nullable(),
    })
      .nullable(),
    lastPrune: z.object({
      at: Timestamp,
      ok: z.boolean(),
      removed: z.number().int(),
      before: Timestamp,
      error: z.string().nullable(),
    }).nullable(),
    retentionSec: z.number().int().positive(),
  }),
  thresholds: ThresholdsSchema,
  points: z.number().int().nonnegative(),
  signals: z.array(z.string()),
  maxSignals: z.number().int().positive().openapi({
    description: "MAX_SIGNALS: most signals held; records of further new signals are rejected (signal_limit)",
  }),
  warnings: z.array(z.object({ code: z.enum(["signal_limit"]), message: z.string() })).openapi({
    description: "What the operator should know; empty when all is well",
  }),
  requests: z.object({
    count: z.number().int().nonnegative(),
    errors: z.number().int().nonnegative(),
    errorRate: z.number().min(0).max(1),
    p95LatencyMs: z.number().nonnegative().nullable(),
  }),
  alerts: AlertsStatusSchema.openapi({ description: "Alert evaluation and delivery health" }),
  lease: LeaseViewSchema.nullable().openapi({
    description: "The ingest lease with PERSISTENCE=kv (several instances on one KV); null otherwise",
  }),
  sync: SyncViewSchema.nullable().openapi({
    description: "The shared points this instance follows with PERSISTENCE=kv; null otherwise",
  }),
}).openapi("Status");

export type Status = z.infer<typeof StatusSchema>;

// ---- Forecast (`/coherence/predict`, issue 14) ----

const EtaSchema = z.object({
  seconds: z.number().nonnegative().openapi({
    description: "Seconds after the window end (0: already there)",
  }),
  at: Timestamp.openapi({ description: "Window end + seconds" }),
}).nullable().openapi({
  description:
    "When the projected mean first reaches this level; null when the line never does within MAX_WINDOW",
});

const MeanBoundarySchema = z.object({
  value: z.number(),
  definedBy: z.enum(["mean", "volatility"]).openapi({
    description: "mean: the mean cut-off decides; volatility: σ / volatility cut-off is higher and decides",
  }),
  text: z.string(),
});

export const ForecastSchema = z.object({
  method: z.string(),
  horizonSec: z.number().int().positive().openapi({
    description: "Forecast horizon h (default: the window)",
  }),
  at: Timestamp.openapi({ description: "end + horizon: the end of the future window the forecast is for" }),
  n: z.number().int().nonnegative(),
  slopePerHour: z.number().nullable().openapi({
    description: "Least-squares slope b = Stx / Stt, score points per hour; null when n < 2",
  }),
  slopeStderrPerHour: z.number().nonnegative().nullable().openapi({
    description: "stderr(b) = √(SSE / (n − 2)) / √Stt, per hour; null when n < 3",
  }),
  t: z.number().nullable().openapi({
    description: "b / stderr(b); null when undefined (n < 3 or a perfect fit)",
  }),
  r2: z.number().min(0).max(1).nullable().openapi({ description: "Stx² / (Stt · Sxx)" }),
  significant: z.boolean().openapi({
    description: "n ≥ 10 and |t| ≥ 2 (or a perfect non-flat fit): only then is the trend projected",
  }),
  line: z.object({
    tMean: Timestamp.nullable().openapi({ description: "t̄: the mean time of the window's points" }),
    xMean: z.number().nullable().openapi({ description: "x̄: the line passes through (t̄, x̄)" }),
    leverSec: z.number().nullable().openapi({
      description: "end + h − w/2 − t̄: seconds from t̄ to the middle of the future window",
    }),
  }),
  projectedMean: z.number().nullable().openapi({
    description: "x̄ + b · leverSec when significant, else the current mean (flat)",
  }),
  projectedMeanInterval: z.object({
    level: z.number(),
    quantile: z.number().openapi({ description: "Student t quantile with n − 2 degrees of freedom" }),
    low: z.number(),
    high: z.number(),
  }).nullable().openapi({
    description: "projectedMean ± quantile · stderr(b) · |leverSec|; null when n < 3",
  }),
  projectedStdev: z.number().nullable().openapi({ description: "The current σ" }),
  projectedVolatilityIndex: z.number().nullable().openapi({ description: "σ / projectedMean" }),
  boundaries: z.object({
    high: MeanBoundarySchema.openapi({ description: "H = max(highMean, σ / highVolatility): high below H" }),
    medium: MeanBoundarySchema.openapi({
      description: "M = max(mediumMean, σ / mediumVolatility): medium below M, low at or above",
    }),
  }),
  eta: z.object({ low: EtaSchema, medium: EtaSchema, high: EtaSchema }),
  currentRisk: RiskLevelSchema,
  predictedDriftRisk: RiskLevelSchema,
  rule: z.object({
    level: RiskLevelSchema,
    condition: z.string(),
    matched: z.array(z.string()),
    text: z.string(),
  }).openapi({ description: "The rules applied to the projection" }),
  text: z.string(),
}).openapi("Forecast");

export const PredictResponseSchema = MetricsResponseSchema.extend({
  predictedDriftRisk: RiskLevelSchema.openapi({
    description: "The risk forecast at end + horizon (the current window's risk is in explain.rule)",
  }),
  forecast: ForecastSchema,
}).openapi("CoherencePredict");

export type PredictResponse = z.infer<typeof PredictResponseSchema>;

const ConfusionRowSchema = z.object({
  low: z.number().int().nonnegative(),
  medium: z.number().int().nonnegative(),
  high: z.number().int().nonnegative(),
  unknown: z.number().int().nonnegative(),
});

const BacktestScoreSchema = z.object({
  confusion: z.object({
    low: ConfusionRowSchema,
    medium: ConfusionRowSchema,
    high: ConfusionRowSchema,
    unknown: ConfusionRowSchema,
  }).openapi({ description: "confusion[predicted][actual]: how many window ends had that pair" }),
  accuracy: z.number().min(0).max(1).nullable().openapi({
    description: "Share of ends where predicted = actual",
  }),
  meanAbsoluteError: z.number().nonnegative().nullable().openapi({
    description: "Mean |projected mean − actual mean| over ends where both exist",
  }),
  errorsCounted: z.number().int().nonnegative(),
});

export const BacktestResponseSchema = z.object({
  signal: z.string(),
  windowSec: z.number().int().positive(),
  horizonSec: z.number().int().positive(),
  from: Timestamp.nullable().openapi({ description: "First window end replayed" }),
  to: Timestamp.nullable().openapi({ description: "Last window end replayed (its end + horizon is held)" }),
  stepSec: z.number().nonnegative().nullable(),
  points: z.number().int().nonnegative().openapi({ description: "Window ends replayed" }),
  significantShare: z.number().min(0).max(1).nullable().openapi({
    description:
      "Share of ends where the trend was significant (elsewhere the trend forecast is flat = naive)",
  }),
  trend: BacktestScoreSchema,
  naive: BacktestScoreSchema.openapi({
    description: 'The "nothing changes" forecast: the current mean and risk',
  }),
  note: z.string().nullable(),
  meta: z.object({ method: z.string(), engine_version: z.string(), latency_ms: z.number().nonnegative() }),
}).openapi("PredictBacktest");

export type BacktestResponse = z.infer<typeof BacktestResponseSchema>;
