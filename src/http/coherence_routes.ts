/** `/coherence/*`: metrics, series and signals (predict: `predict_routes.ts`). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getLogger } from "@logtape/logtape";
import { buildReport, toRfc3339 } from "../core/report.ts";
import { rollingSeries, seriesGrid, type SeriesPoint } from "../core/series.ts";
import {
  type MetricsResponse,
  MetricsResponseSchema,
  SeriesResponseSchema,
  SignalsResponseSchema,
} from "../schemas.ts";
import type { Config } from "../config.ts";
import type { PointStore } from "../core/point_store.ts";
import { POOLED_SIGNAL, type SourceKind } from "../core/vocabulary.ts";
import type { AppEnv } from "./env.ts";
import { round3 } from "./middleware.ts";
import { ProblemError, QUERY_PROBLEMS } from "./problem.ts";
import { cachedAnswers, jsonText, ResponseCache } from "./response_cache.ts";
import { countParameter, requestedSignal, timeParameter, windowParameter } from "./query.ts";

const log = getLogger(["coherence", "metrics"]);

export const MetricsQuerySchema = z.object({
  window: z.string().max(32, { error: "at most 32 characters" }).optional().openapi({
    example: "1h",
    description:
      "Window length: 30s, 5m, 1h, 24h, 7d or plain seconds (default: the first of DEFAULT_WINDOWS)",
  }),
  signal: z.string().max(200, { error: "at most 200 characters" }).optional().openapi({
    example: "alpha",
    description: 'One signal; omit (or "*") to pool all signals',
  }),
  end: z.string().max(64, { error: "at most 64 characters" }).optional().openapi({
    example: "2025-10-29T17:43:00Z",
    description:
      "Window end, RFC 3339 or epoch seconds/milliseconds (default: now); the window is (end − window, end]",
  }),
});

const metricsRoute = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Coherence metrics for one window",
  request: { query: MetricsQuerySchema },
  responses: {
    200: {
      content: { "application/json": { schema: MetricsResponseSchema } },
      description: "Coherence metrics for one window",
    },
    ...QUERY_PROBLEMS,
  },
});

export const SeriesQuerySchema = MetricsQuerySchema.extend({
  from: z.string().max(64, { error: "at most 64 characters" }).optional().openapi({
    description:
      "First window end, RFC 3339 or epoch (default: to − 24h, or the start of held data if later)",
  }),
  to: z.string().max(64, { error: "at most 64 characters" }).optional().openapi({
    description: "Last window end, truncated to the whole second (default: now, truncated)",
  }),
  points: z.string().regex(/^\d{1,4}$/, { error: "expected a whole number from 2 to 1000" }).optional()
    .openapi({
      example: "120",
      description: "Number of window ends (2 to 1000, default 120): exactly this many, whole seconds, " +
        "evenly spaced by ⌊(to − from) / (points − 1)⌋ seconds (at least 1 s), the newest at `to`",
    }),
}).omit({ end: true });

const seriesRoute = createRoute({
  method: "get",
  path: "/series",
  summary:
    "Rolling metrics at evenly spaced window ends (for charts); each point equals /coherence/metrics?end=…",
  request: { query: SeriesQuerySchema },
  responses: {
    200: { content: { "application/json": { schema: SeriesResponseSchema } }, description: "Series" },
    ...QUERY_PROBLEMS,
  },
});

const signalsRoute = createRoute({
  method: "get",
  path: "/signals",
  summary: "Known signals with their point counts and newest timestamps",
  responses: {
    200: { content: { "application/json": { schema: SignalsResponseSchema } }, description: "Signals" },
  },
});

/** What the `/coherence/*` metrics routes read. */
export interface CoherenceDeps {
  config: Pick<
    Config,
    "windows" | "maxWindowSec" | "thresholds" | "engineVersion" | "staleAfterSec" | "minSamples"
  >;
  store: PointStore;
  ingest: { coverageStartMs(): number | null };
  source: { kind: SourceKind };
  now?: () => number;
  /** Cache of metrics answers by request and data version; a fresh one by default. */
  responseCache?: ResponseCache;
}

/** A `/coherence/series` point in the metrics response's field names. */
export function seriesPoint(p: SeriesPoint) {
  return {
    timestamp: toRfc3339(p.endMs),
    n: p.n,
    coherenceMean: p.mean,
    stdev: p.stdev,
    volatilityIndex: p.volatilityIndex,
    predictedDriftRisk: p.risk,
    warnings: p.warnings,
  };
}

/** The metrics report of the window `(endMs − windowSec, endMs]` for the `signal` parameter, and its stats. */
export function windowReport(
  deps: Pick<CoherenceDeps, "config" | "store" | "ingest" | "source">,
  windowSec: number,
  signalText: string | undefined,
  endMs: number,
  method?: string,
) {
  const { config, store, ingest, source } = deps;
  const only = requestedSignal(store, signalText);
  const signal = only ?? POOLED_SIGNAL;
  const stats = store.window(only, endMs - windowSec * 1000, endMs);
  const report: MetricsResponse = buildReport({
    signal,
    windowSec,
    endMs,
    stats,
    source: source.kind,
    thresholds: config.thresholds,
    engineVersion: config.engineVersion,
    staleAfterSec: config.staleAfterSec,
    minSamples: config.minSamples,
    coverageStartMs: ingest.coverageStartMs(),
    method,
  });
  return { report, signal, only, stats };
}

export function coherenceRoutes(deps: CoherenceDeps): OpenAPIHono<AppEnv> {
  const { config, store, ingest } = deps;
  const now = deps.now ?? Date.now;
  const app = new OpenAPIHono<AppEnv>();

  // Cached (`response_cache.ts`) by request URL — route and raw query string: identical query strings validate
  // and answer identically, so a repeat is answered before validation. The default end is the request time
  // truncated to the whole second, so every request for "now" within one second, with the same data, gets the
  // same numbers and the same bytes (with its own `meta.latency_ms`).
  const cached = cachedAnswers(deps.responseCache ?? new ResponseCache(), deps);
  app.use("/metrics", async (c, next) => {
    // A repeat is not logged again: "metrics computed" was logged when it was computed, and the access log has
    // the request.
    const hit = c.req.method === "GET" ? cached.hit(c.req.url, performance.now()) : undefined;
    if (hit !== undefined) return jsonText<MetricsResponse>(c, hit);
    await next();
  });

  function compute(query: z.infer<typeof MetricsQuerySchema>, endMs: number, started: number) {
    const windowSec = windowParameter(config, query.window);
    const { report, signal } = windowReport(deps, windowSec, query.signal, endMs);
    report.meta.latency_ms = round3(performance.now() - started);
    log.info("metrics computed", {
      signal,
      windowSec,
      end: report.timestamp,
      n: report.n,
      mean: report.coherenceMean,
      stdev: report.stdev,
      volatilityIndex: report.volatilityIndex,
      risk: report.predictedDriftRisk,
      latencyMs: report.meta.latency_ms,
    });
    return report;
  }

  app.openapi(metricsRoute, (c) => {
    const started = performance.now();
    const query = c.req.valid("query");
    return jsonText<MetricsResponse>(
      c,
      cached.answer(c.req.url, query.end, (endMs) => compute(query, endMs, started)),
    );
  });

  app.openapi(seriesRoute, (c) => {
    const query = c.req.valid("query");
    const windowSec = windowParameter(config, query.window);
    const only = requestedSignal(store, query.signal);
    // `seriesGrid` truncates `to` (default: the request time) to the whole second, like `end` everywhere.
    const toMs = query.to === undefined ? now() : timeParameter("to", query.to);
    // A loop, not Math.min(...list): spreading one argument per signal overflows the stack at ~150,000 signals.
    const heldFrom = store.signals().reduce(
      (oldest, s) => only === undefined || s.signal === only ? Math.min(oldest, s.oldestMs) : oldest,
      Infinity,
    );
    const fromMs = query.from === undefined
      // Held data starting after `to` (a `to` before the data) leaves the default span empty, not inverted.
      ? Math.min(toMs, Math.max(toMs - 86_400_000, Number.isFinite(heldFrom) ? heldFrom : toMs))
      : timeParameter("from", query.from);
    if (fromMs > toMs) {
      throw new ProblemError(
        "invalid-parameter",
        `"from" (${toRfc3339(fromMs)}) is after "to" (${toRfc3339(toMs)})`,
      );
    }
    const count = countParameter("points", query.points, 120, 2, 1000);
    const grid = seriesGrid(fromMs, toMs, count);
    const points = rollingSeries(store, {
      signal: only,
      windowSec,
      fromMs: grid.fromMs,
      toMs: grid.toMs,
      stepMs: grid.stepMs,
      thresholds: config.thresholds,
      minSamples: config.minSamples,
      staleAfterSec: config.staleAfterSec,
      coverageStartMs: ingest.coverageStartMs(),
    }).map(seriesPoint);
    return c.json({
      signal: only ?? POOLED_SIGNAL,
      windowSec,
      stepSec: grid.stepMs / 1000,
      from: toRfc3339(grid.fromMs),
      to: toRfc3339(grid.toMs),
      thresholds: config.thresholds,
      points,
    }, 200);
  });

  app.openapi(signalsRoute, (c) => {
    const signals = store.signals().map((s) => ({
      signal: s.signal,
      n: s.n,
      oldest: toRfc3339(s.oldestMs),
      newest: toRfc3339(s.newestMs),
    }));
    return c.json({ signals, count: signals.length }, 200);
  });

  return app;
}
