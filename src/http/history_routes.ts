/** `/coherence/history`: persisted snapshots from the active store (or another one's leftover data). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Config } from "../config.ts";
import { POOLED_SIGNAL, STORE_MODES } from "../core/vocabulary.ts";
import type { StoreRegistry } from "../persistence/registry.ts";
import type { SnapshotRow } from "../persistence/snapshot.ts";
import { HistoryResponseSchema } from "../schemas.ts";
import type { AppEnv } from "./env.ts";
import { ProblemError, problemSpec, QUERY_PROBLEMS } from "./problem.ts";
import {
  countParameter,
  type KnownSignals,
  signalParameter,
  timeParameter,
  unknownSignal,
  windowParameter,
} from "./query.ts";

export const MAX_HISTORY_LIMIT = 10_000;
const DEFAULT_HISTORY_LIMIT = 100;

export const HistoryQuerySchema = z.object({
  signal: z.string().max(200, { error: "at most 200 characters" }).optional().openapi({
    description: 'Signal, or "*" (the default) for the pooled rows',
  }),
  window: z.string().max(32, { error: "at most 32 characters" }).optional().openapi({
    example: "1h",
    description: "Window of the snapshots (default: the first of DEFAULT_WINDOWS)",
  }),
  since: z.string().max(64, { error: "at most 64 characters" }).optional().openapi({
    description: "Only snapshots computed at or after this time (RFC 3339 or epoch)",
  }),
  limit: z.string().regex(/^\d{1,6}$/, { error: `expected a whole number from 1 to ${MAX_HISTORY_LIMIT}` })
    .optional().openapi({
      example: "100",
      description: `Newest rows to return (1 to ${MAX_HISTORY_LIMIT}, default 100)`,
    }),
  store: z.enum(STORE_MODES, { error: `expected one of ${STORE_MODES.join(", ")}` }).optional()
    .openapi({
      description: "Which snapshot store to read (default: the active one, PERSISTENCE)",
    }),
});

const historyRoute = createRoute({
  method: "get",
  path: "/history",
  summary: "Persisted snapshots for one signal and window: the newest `limit` rows, oldest first",
  request: { query: HistoryQuerySchema },
  responses: {
    200: { content: { "application/json": { schema: HistoryResponseSchema } }, description: "History" },
    ...QUERY_PROBLEMS,
    503: problemSpec("The store cannot be read"),
  },
});

/** A snapshot row in the metrics response's field names. */
export function historyRow(row: SnapshotRow) {
  return {
    timestamp: row.computed_at,
    signal: row.signal,
    windowSec: row.window_sec,
    n: row.n,
    coherenceMean: row.mean,
    stdev: row.stdev,
    volatilityIndex: row.volatility_index,
    predictedDriftRisk: row.risk,
    inputs: { start_ts: row.start_ts, end_ts: row.end_ts, source: row.source },
    meta: { engine_version: row.engine_version },
  };
}

/** What `/coherence/history` reads. */
export interface HistoryDeps {
  config: Pick<Config, "windows" | "maxWindowSec">;
  /** The held points: a signal must be known to them, as on every route that takes `signal`. */
  store: KnownSignals;
  persistence: { registry: StoreRegistry };
}

export function historyRoutes(deps: HistoryDeps): OpenAPIHono<AppEnv> {
  const { config, store: points, persistence } = deps;
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(historyRoute, async (c) => {
    const query = c.req.valid("query");
    const windowSec = windowParameter(config, query.window);
    const requested = signalParameter(query.signal);
    const signal = requested ?? POOLED_SIGNAL;
    const limit = countParameter("limit", query.limit, DEFAULT_HISTORY_LIMIT, 1, MAX_HISTORY_LIMIT);
    const sinceMs = query.since === undefined ? undefined : timeParameter("since", query.since);
    const mode = query.store ?? persistence.registry.active.mode;
    const unavailable = (error: unknown) => {
      throw new ProblemError(
        "store-unavailable",
        `Cannot read the ${mode} store: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    };
    const store = await persistence.registry.get(mode).catch(unavailable);
    const rows = store === null
      ? []
      : await store.history({ signal, windowSec, sinceMs, limit }).catch(unavailable);
    // A signal is unknown when it is neither held nor in the store's history (held signals' history survives
    // a restart before the first ingest).
    if (rows.length === 0 && requested !== undefined && !points.has(requested)) {
      throw unknownSignal(points, requested);
    }
    const active = mode === persistence.registry.active.mode;
    const note = mode === "none"
      ? "PERSISTENCE=none keeps no snapshots"
      : store === null
      ? `No ${mode} snapshot store exists here yet (the active store is ${persistence.registry.active.mode})`
      : null;
    return c.json({
      signal,
      windowSec,
      store: mode,
      active,
      order: "oldest first" as const,
      limit,
      count: rows.length,
      note,
      rows: rows.map(historyRow),
    }, 200);
  });

  return app;
}
