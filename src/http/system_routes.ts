/** `/health` and `/status`. */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { toRfc3339 } from "../core/report.ts";
import { formatWindow } from "../core/window.ts";
import type { Config } from "../config.ts";
import type { SourceKind } from "../core/vocabulary.ts";
import type { PersistenceStatus } from "../persistence/snapshotter.ts";
import { HealthSchema, type IngestCycle, type LeaseView, StatusSchema, type SyncView } from "../schemas.ts";
import type { AppEnv } from "./env.ts";
import type { RequestStats } from "./request_stats.ts";
import { type AlertsView, formatWindowOrZero } from "./alerts_routes.ts";

const healthRoute = createRoute({
  method: "get",
  path: "/health",
  summary: "Liveness: always ok while the process serves",
  responses: { 200: { content: { "application/json": { schema: HealthSchema } }, description: "Alive" } },
});

const statusRoute = createRoute({
  method: "get",
  path: "/status",
  summary: "Version, uptime, source, recent ingest cycles, windows, persistence and request figures",
  responses: { 200: { content: { "application/json": { schema: StatusSchema } }, description: "Status" } },
});

/** What `/health` and `/status` read. */
export interface SystemDeps {
  config: Pick<Config, "engineVersion" | "windows" | "maxWindowSec" | "thresholds" | "maxSignals">;
  store: { readonly size: number; readonly signalCount: number; signals(): readonly { signal: string }[] };
  ingest: { cycles(): IngestCycle[]; lastSuccessAtMs(): number | null };
  persistence: { status(): PersistenceStatus };
  source: { kind: SourceKind; location: string; replay: boolean };
  startedAtMs: number;
  requestStats: RequestStats;
  alerts: Pick<AlertsView, "status" | "delivery">;
  /** With PERSISTENCE=kv: the ingest lease and the shared points followed (main.ts passes them). */
  instances?: InstancesView;
  now?: () => number;
}

/** The lease and sync figures of several instances on one KV, as `/status` shows them. */
export interface InstancesView {
  lease(): LeaseView;
  sync(): SyncView;
}

export function systemRoutes(deps: SystemDeps): OpenAPIHono<AppEnv> {
  const { config, store, ingest, source, startedAtMs, requestStats } = deps;
  const now = deps.now ?? Date.now;
  const app = new OpenAPIHono<AppEnv>();
  const uptimeSec = () => Math.max(0, Math.round((now() - startedAtMs) / 100) / 10);

  app.openapi(
    healthRoute,
    (c) => c.json({ status: "ok" as const, version: config.engineVersion, uptimeSec: uptimeSec() }, 200),
  );

  app.openapi(statusRoute, async (c) => {
    const cycles = ingest.cycles();
    const last = cycles.at(-1) ?? null;
    const lastSuccess = ingest.lastSuccessAtMs();
    const persistence = deps.persistence.status();
    const alerts = deps.alerts.status();
    // Degraded while the last ingest cycle, the snapshot store's last write or prune, or the last alert
    // evaluation (its transitions not written) failed.
    const storeFailing = persistence.lastWrite?.ok === false || persistence.lastPrune?.ok === false ||
      alerts.lastEvaluation?.ok === false;
    return c.json({
      status: (last !== null && !last.ok) || storeFailing ? "degraded" as const : "ok" as const,
      version: config.engineVersion,
      uptimeSec: uptimeSec(),
      startedAt: toRfc3339(startedAtMs),
      source: { ...source },
      lastIngest: last,
      lastSuccessfulIngestAt: lastSuccess === null ? null : toRfc3339(lastSuccess),
      recentIngests: cycles,
      windows: config.windows.map((windowSec) => ({ window: formatWindow(windowSec), windowSec })),
      defaultWindow: formatWindow(config.windows[0]),
      maxWindowSec: config.maxWindowSec,
      persistence,
      thresholds: config.thresholds,
      points: store.size,
      signals: store.signals().map((s) => s.signal),
      maxSignals: config.maxSignals,
      warnings: signalLimitWarnings(cycles, store.signalCount, config.maxSignals),
      requests: await requestStats.snapshot(),
      alerts: {
        keys: alerts.keys,
        active: alerts.active,
        pending: alerts.pending,
        transitionsWritten: alerts.transitionsWritten,
        appendFailures: alerts.appendFailures,
        restored: alerts.restored,
        lastEvaluation: alerts.lastEvaluation,
        settings: {
          for: formatWindowOrZero(alerts.settings.forSec),
          forSec: alerts.settings.forSec,
          recoveryMargin: alerts.settings.recoveryMargin,
        },
        delivery: [...deps.alerts.delivery()],
      },
      lease: deps.instances?.lease() ?? null,
      sync: deps.instances?.sync() ?? null,
    }, 200);
  });

  return app;
}

/** A `signal_limit` warning while the newest successful cycle refused records of new signals. */
function signalLimitWarnings(
  cycles: readonly IngestCycle[],
  held: number,
  maxSignals: number,
): { code: "signal_limit"; message: string }[] {
  const rejected = cycles.findLast((cycle) => cycle.ok)?.rejectedByReason.signal_limit ?? 0;
  if (rejected === 0) return [];
  return [{
    code: "signal_limit",
    message: `MAX_SIGNALS=${maxSignals} reached (${held} signals held): the last ingest cycle rejected ` +
      `${rejected} records of new signals (reason signal_limit); held signals keep updating`,
  }];
}
