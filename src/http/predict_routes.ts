/** `/coherence/predict` and `/coherence/predict/backtest`: the drift forecast and its replay (issue 14). */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { getLogger } from "@logtape/logtape";
import jStat from "jstat";
import { backtest, forecastWindow } from "../core/forecast.ts";
import { toRfc3339 } from "../core/report.ts";
import { parseWindow, WindowError } from "../core/window.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import {
  type BacktestResponse,
  BacktestResponseSchema,
  type PredictResponse,
  PredictResponseSchema,
} from "../schemas.ts";
import type { AppEnv } from "./env.ts";
import { type CoherenceDeps, MetricsQuerySchema, windowReport } from "./coherence_routes.ts";
import { round3 } from "./middleware.ts";
import { ProblemError, QUERY_PROBLEMS } from "./problem.ts";
import { cachedAnswers, jsonText, ResponseCache } from "./response_cache.ts";
import { countParameter, requestedSignal, windowParameter } from "./query.ts";

const log = getLogger(["coherence", "predict"]);

/** Most window ends a backtest replays, and how many it replays by default. */
export const MAX_BACKTEST_POINTS = 2000;
export const DEFAULT_BACKTEST_POINTS = 100;

/**
 * jStat's Student t inverse CDF, memoised by (p, dof): it iterates (about 10 µs a call), and a backtest asks
 * it for the same few degrees of freedom a thousand times. Bounded: cleared past 4096 entries.
 */
const quantiles = new Map<string, number>();
function studentTInv(p: number, dof: number): number {
  const key = `${p}:${dof}`;
  const known = quantiles.get(key);
  if (known !== undefined) return known;
  if (quantiles.size >= 4096) quantiles.clear();
  const q = jStat.studentt.inv(p, dof);
  quantiles.set(key, q);
  return q;
}

const horizonField = z.string().max(32, { error: "at most 32 characters" }).optional().openapi({
  example: "1h",
  description: "Forecast horizon, same forms as window (default: the window length; at most MAX_WINDOW)",
});

export const PredictQuerySchema = MetricsQuerySchema.extend({ horizon: horizonField });

export const BacktestQuerySchema = MetricsQuerySchema.omit({ end: true }).extend({
  horizon: horizonField,
  points: z.string().regex(/^\d{1,4}$/, { error: `expected a whole number from 1 to ${MAX_BACKTEST_POINTS}` })
    .optional().openapi({
      example: "100",
      description:
        `Evenly spaced past window ends to replay (1 to ${MAX_BACKTEST_POINTS}, default ${DEFAULT_BACKTEST_POINTS})`,
    }),
});

const predictRoute = createRoute({
  method: "get",
  path: "/predict",
  summary: "Drift risk forecast at end + horizon: the metrics answer plus a least-squares trend (forecast)",
  request: { query: PredictQuerySchema },
  responses: {
    200: { content: { "application/json": { schema: PredictResponseSchema } }, description: "Forecast" },
    ...QUERY_PROBLEMS,
  },
});

const backtestRoute = createRoute({
  method: "get",
  path: "/predict/backtest",
  summary: "Replays the forecast at past window ends and scores it against what happened, beside naive",
  request: { query: BacktestQuerySchema },
  responses: {
    200: { content: { "application/json": { schema: BacktestResponseSchema } }, description: "Backtest" },
    ...QUERY_PROBLEMS,
  },
});

/** `horizon` in seconds: the window when absent, else a window-like duration within MAX_WINDOW. */
function parseHorizon(text: string | undefined, windowSec: number, maxSec: number): number {
  if (text === undefined) return windowSec;
  try {
    return parseWindow(text, { maxSec });
  } catch (error) {
    if (!(error instanceof WindowError)) throw error;
    throw new ProblemError(
      "invalid-parameter",
      error.message.replace(/window/, "horizon").replace(/Window/, "Horizon"),
    );
  }
}

/** The `/coherence/predict` answer for `query` at `endMs` (also builds the OpenAPI example). */
export function predictAnswer(
  deps: Pick<CoherenceDeps, "config" | "store" | "ingest" | "source">,
  query: z.infer<typeof PredictQuerySchema>,
  endMs: number,
  started: number = performance.now(),
): PredictResponse {
  const { config, store } = deps;
  const windowSec = windowParameter(config, query.window);
  const horizonSec = parseHorizon(query.horizon, windowSec, config.maxWindowSec);
  const { report, signal, only } = windowReport(
    deps,
    windowSec,
    query.signal,
    endMs,
    "least-squares trend forecast; rules: mean/stdev rule-based",
  );
  const { forecast: f } = forecastWindow(store, {
    signal: only,
    endMs,
    windowSec,
    horizonSec,
    maxEtaSec: config.maxWindowSec,
    thresholds: config.thresholds,
    studentTInv,
  });
  const eta = (e: { seconds: number; atMs: number } | null) =>
    e === null ? null : { seconds: e.seconds, at: toRfc3339(e.atMs) };
  const body: PredictResponse = {
    ...report,
    predictedDriftRisk: f.predictedDriftRisk,
    warnings: [...report.warnings, ...f.warnings],
    forecast: {
      method: f.method,
      horizonSec,
      at: toRfc3339(f.atMs),
      n: f.n,
      slopePerHour: f.slopePerHour,
      slopeStderrPerHour: f.slopeStderrPerHour,
      t: f.t,
      r2: f.r2,
      significant: f.significant,
      line: {
        tMean: f.tMeanMs === null ? null : toRfc3339(f.tMeanMs),
        xMean: f.xMean,
        leverSec: f.leverSec,
      },
      projectedMean: f.projectedMean,
      projectedMeanInterval: f.projectedMeanInterval,
      projectedStdev: f.projectedStdev,
      projectedVolatilityIndex: f.projectedVolatilityIndex,
      boundaries: f.boundaries,
      eta: { low: eta(f.eta.low), medium: eta(f.eta.medium), high: eta(f.eta.high) },
      currentRisk: f.currentRisk,
      predictedDriftRisk: f.predictedDriftRisk,
      rule: f.rule,
      text: f.text,
    },
  };
  body.meta.latency_ms = round3(performance.now() - started);
  log.info("forecast computed", {
    signal,
    windowSec,
    horizonSec,
    end: body.timestamp,
    n: body.n,
    slopePerHour: f.slopePerHour,
    t: f.t,
    significant: f.significant,
    projectedMean: f.projectedMean,
    risk: f.currentRisk,
    predictedRisk: f.predictedDriftRisk,
    latencyMs: body.meta.latency_ms,
  });
  return body;
}

/** The `/coherence/predict/backtest` answer for `query` (also builds the OpenAPI example). */
export function backtestAnswer(
  deps: Pick<CoherenceDeps, "config" | "store">,
  query: z.infer<typeof BacktestQuerySchema>,
  started: number = performance.now(),
): BacktestResponse {
  const { config, store } = deps;
  const windowSec = windowParameter(config, query.window);
  const horizonSec = parseHorizon(query.horizon, windowSec, config.maxWindowSec);
  const only = requestedSignal(store, query.signal);
  const count = countParameter("points", query.points, DEFAULT_BACKTEST_POINTS, 1, MAX_BACKTEST_POINTS);
  let oldestMs = Infinity, newestMs = -Infinity;
  for (const s of store.signals()) {
    if (only !== undefined && s.signal !== only) continue;
    oldestMs = Math.min(oldestMs, s.oldestMs);
    newestMs = Math.max(newestMs, s.newestMs);
  }
  const result = backtest(store, {
    signal: only,
    windowSec,
    horizonSec,
    oldestMs,
    newestMs,
    points: count,
    maxEtaSec: config.maxWindowSec,
    thresholds: config.thresholds,
    studentTInv,
  });
  const body: BacktestResponse = {
    signal: only ?? POOLED_SIGNAL,
    windowSec,
    horizonSec,
    from: result.fromMs === null ? null : toRfc3339(result.fromMs),
    to: result.toMs === null ? null : toRfc3339(result.toMs),
    stepSec: result.stepMs === null ? null : result.stepMs / 1000,
    points: result.points,
    significantShare: result.significantShare,
    trend: result.trend,
    naive: result.naive,
    note: result.points === 0
      ? "No past window end has both a window of held data before it and its end + horizon held: " +
        "the held data must span at least window + horizon"
      : null,
    meta: {
      method:
        "forecast replayed at evenly spaced past window ends; actual = the window ending at end + horizon",
      engine_version: config.engineVersion,
      latency_ms: round3(performance.now() - started),
    },
  };
  log.info("backtest computed", {
    signal: body.signal,
    windowSec,
    horizonSec,
    points: body.points,
    trendAccuracy: body.trend.accuracy,
    naiveAccuracy: body.naive.accuracy,
    latencyMs: body.meta.latency_ms,
  });
  return body;
}

/** `/coherence/predict` and its backtest, which read what the metrics routes read. */
export function predictRoutes(deps: CoherenceDeps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  const cached = cachedAnswers(deps.responseCache ?? new ResponseCache(), deps);

  app.openapi(predictRoute, (c) => {
    const started = performance.now();
    const hit = cached.hit(c.req.url, started);
    if (hit !== undefined) return jsonText<PredictResponse>(c, hit);
    const query = c.req.valid("query");
    return jsonText<PredictResponse>(
      c,
      cached.answer(c.req.url, query.end, (endMs) => predictAnswer(deps, query, endMs, started)),
    );
  });

  app.openapi(backtestRoute, (c) => c.json(backtestAnswer(deps, c.req.valid("query")), 200));

  return app;
}
