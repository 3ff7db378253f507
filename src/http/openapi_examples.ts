/**
 * The examples of `/openapi.json`: one per response and content type. The metrics, forecast, series and
 * history examples are computed by the core from a fixed series (a volatile signal, "gamma"), so they show
 * exactly what the service answers; the others are written out. Each is checked against its schema by
 * `tests/http/openapi_conformance_test.ts`.
 */
import type { Config } from "../config.ts";
import { PointStore } from "../core/point_store.ts";
import { buildReport, toRfc3339 } from "../core/report.ts";
import { rollingSeries } from "../core/series.ts";
import { seriesPoint } from "./coherence_routes.ts";
import { backtestAnswer, predictAnswer } from "./predict_routes.ts";
import { problemBody, type ProblemKind } from "./problem.ts";
import { replay } from "../core/alerts.ts";
import { formatWindow } from "../core/window.ts";
import { alertStateBody, transitionBody } from "./alerts_routes.ts";

export const EXAMPLE_REQUEST_ID = "6f1c2a0e-3b7d-4c59-9a8e-2d41f0b7c913";
const END_MS = Date.parse("2025-10-29T17:00:00Z");
const HOUR_MS = 3_600_000;

/** 24 hourly scores alternating 45.8 and 85.8: mean 65.8, volatilityIndex ≈ 0.31 (high by volatility). */
function exampleStore(): PointStore {
  const store = new PointStore();
  store.apply(Array.from({ length: 24 }, (_, i) => ({
    signal: "gamma",
    ts: END_MS - (23 - i) * HOUR_MS,
    score: i % 2 === 0 ? 45.8 : 85.8,
  })));
  return store;
}

const PROBLEMS: Readonly<Record<number, [ProblemKind, string]>> = {
  400: ["invalid-window", 'Cannot parse window "5x": expected a number followed by s, m, h or d'],
  404: ["unknown-signal", 'Unknown signal "nope": known signals are alpha, beta, gamma'],
  503: ["store-unavailable", "Cannot read the sqlite store: database is locked"],
};

const TEXT: Readonly<Record<string, string>> = {
  "text/html": '<!doctype html>\n<html lang="en">…</html>',
  "text/javascript": '"use strict";…',
  "text/css": ":root{…}",
  "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">…</svg>',
  "text/plain; version=0.0.4; charset=utf-8":
    "# HELP coherence_http_requests_total HTTP requests by method, route and status.\n" +
    "# TYPE coherence_http_requests_total counter\n" +
    'coherence_http_requests_total{method="GET",route="/coherence/metrics",status="200"} 42\n',
};

/**
 * The example for one response of one operation, or undefined when there is none to give. Built once per
 * document; the computed ones use the configured thresholds and engine version.
 */
export function responseExamples(
  config: Pick<Config, "thresholds" | "engineVersion" | "windows" | "alerts">,
) {
  const store = exampleStore();
  const windowSec = 86_400;
  const report = (method?: string) =>
    buildReport({
      signal: "gamma",
      windowSec,
      endMs: END_MS,
      stats: store.window("gamma", END_MS - windowSec * 1000, END_MS),
      source: "darshan_api",
      thresholds: config.thresholds,
      engineVersion: config.engineVersion,
      staleAfterSec: 86_400,
      minSamples: 2,
      method,
      latencyMs: 0.412,
    });
  const metrics = report();
  const deps = {
    config: { ...config, maxWindowSec: 2_592_000, staleAfterSec: 86_400, minSamples: 2 },
    store,
    ingest: { coverageStartMs: () => null },
    source: { kind: "darshan_api" as const },
  };
  const prediction = predictAnswer(deps, { window: "24h", signal: "gamma" }, END_MS);
  prediction.meta.latency_ms = 0.512;
  const replay = backtestAnswer(deps, { window: "6h", horizon: "1h", signal: "gamma", points: "12" });
  replay.meta.latency_ms = 0.731;
  const points = rollingSeries(store, {
    signal: "gamma",
    windowSec: 3 * 3600,
    fromMs: END_MS - 2 * HOUR_MS,
    toMs: END_MS,
    stepMs: HOUR_MS,
    thresholds: config.thresholds,
    minSamples: 2,
    staleAfterSec: 86_400,
  });
  const alerts = exampleAlerts(config);
  const alertSettings = {
    for: config.alerts.forMs === 0 ? "0s" : formatWindow(config.alerts.forMs / 1000),
    forSec: config.alerts.forMs / 1000,
    recoveryMargin: config.alerts.recoveryMargin,
  };
  const ok: Record<string, unknown> = {
    getHealth: { status: "ok", version: config.engineVersion, uptimeSec: 3600.4 },
    getStatus: {
      status: "ok",
      version: config.engineVersion,
      uptimeSec: 3600.4,
      startedAt: "2025-10-29T16:00:00Z",
      source: { kind: "darshan_api", location: "https://darshan.example.com", replay: false },
      lastIngest: null,
      lastSuccessfulIngestAt: null,
      recentIngests: [],
      windows: [{ window: "1h", windowSec: 3600 }, { window: "24h", windowSec: 86400 }],
      defaultWindow: "1h",
      maxWindowSec: 2_592_000,
      persistence: {
        mode: "sqlite",
        location: "data/rolling_store.db",
        active: true,
        rowsWritten: 0,
        writeFailures: 0,
        lastWrite: null,
        lastPrune: null,
        retentionSec: 604_800,
      },
      thresholds: config.thresholds,
      points: 24,
      signals: ["gamma"],
      maxSignals: 10_000,
      warnings: [],
      requests: { count: 42, errors: 1, errorRate: 1 / 42, p95LatencyMs: 1.8 },
      alerts: {
        keys: 1,
        active: 1,
        pending: 0,
        transitionsWritten: alerts.transitions.length,
        appendFailures: 0,
        restored: 0,
        lastEvaluation: {
          at: alerts.transitions.at(-1)!.at,
          ok: true,
          keys: 1,
          transitions: 1,
          error: null,
        },
        settings: alertSettings,
        delivery: [{
          target: "webhook",
          url: "https://hooks.example.com:443",
          delivered: 2,
          failed: 1,
          expired: 0,
          dropped: 0,
          outboxDepth: 0,
          lastSuccessAt: "2025-10-29T16:09:01Z",
          lastFailureAt: "2025-10-29T16:08:01Z",
          lastError: "HTTP 503",
          nextAttemptAt: null,
          consecutiveFailures: 0,
        }],
      },
      // With PERSISTENCE=kv (several instances on one KV); null with the other modes.
      lease: {
        self: "web-2-4121-9f03ab",
        holder: "web-1-3977-1c44d2",
        until: "2025-10-29T17:00:12.480Z",
        isHolder: false,
        takeovers: 0,
        leaseSec: 15,
      },
      sync: {
        version: 1204,
        appliedAt: "2025-10-29T16:59:58.112Z",
        lagMs: 483,
        loadedPoints: 1_000_000,
        loadMs: 702,
        syncIntervalMs: 1000,
      },
    },
    listAlerts: {
      settings: alertSettings,
      counts: { keys: 1, active: 1, pending: 0, levels: { low: 0, medium: 0, high: 1, unknown: 0 } },
      total: 1,
      limit: 1000,
      count: 1,
      order: "severity, then signal, then window",
      alerts: [alertStateBody(alerts.state)],
    },
    listTransitions: {
      signal: "gamma",
      windowSec: 3600,
      since: null,
      order: "oldest first",
      limit: 100,
      count: alerts.transitions.length,
      transitions: alerts.transitions.map(transitionBody),
    },
    getMetrics: metrics,
    getPrediction: prediction,
    getPredictionBacktest: replay,
    getSeries: {
      signal: "gamma",
      windowSec: 3 * 3600,
      stepSec: 3600,
      from: toRfc3339(points[0].endMs),
      to: toRfc3339(END_MS),
      thresholds: config.thresholds,
      points: points.map(seriesPoint),
    },
    listSignals: {
      signals: [{
        signal: "gamma",
        n: 24,
        oldest: toRfc3339(END_MS - 23 * HOUR_MS),
        newest: toRfc3339(END_MS),
      }],
      count: 1,
    },
    getHistory: {
      signal: "gamma",
      windowSec,
      store: "sqlite",
      active: true,
      order: "oldest first",
      limit: 100,
      count: 1,
      note: null,
      rows: [{
        timestamp: metrics.timestamp,
        signal: "gamma",
        windowSec,
        n: metrics.n,
        coherenceMean: metrics.coherenceMean,
        stdev: metrics.stdev,
        volatilityIndex: metrics.volatilityIndex,
        predictedDriftRisk: metrics.predictedDriftRisk,
        inputs: metrics.inputs,
        meta: { engine_version: config.engineVersion },
      }],
    },
    getOpenApiDocument: { openapi: "3.1.0", info: { title: "Coherence Engine" }, paths: {} },
  };
  return (operationId: string, status: number, type: string): unknown => {
    if (type.endsWith("json") && type !== "application/problem+json") {
      return status === 200 ? ok[operationId] : undefined;
    }
    if (type === "application/problem+json") {
      const [kind, detail] = operationId.startsWith("get") && status === 404 &&
          /Asset$/.test(operationId)
        ? ["not-found" as const, 'No static asset "nope.css"']
        : PROBLEMS[status] ?? [];
      return kind === undefined ? undefined : problemBody(kind, detail, { requestId: EXAMPLE_REQUEST_ID });
    }
    return TEXT[type];
  };
}

/** Gamma's 1h alert: low, then high after ALERT_FOR, from evaluations every minute (the configured settings). */
function exampleAlerts(config: Pick<Config, "thresholds" | "alerts">) {
  const key = { signal: "gamma", windowSec: 3600 };
  const means = [88, 88, 88, 55, 55, 55];
  return replay(
    key,
    means.map((mean, i) => ({
      ...key,
      atMs: END_MS - 10 * HOUR_MS + i * 60_000,
      summary: { n: 60, mean, stdev: 2, volatilityIndex: 2 / mean },
    })),
    { forMs: 120_000, recoveryMargin: config.alerts.recoveryMargin, thresholds: config.thresholds },
  );
}
