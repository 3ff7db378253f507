/** `/health` and `/status`. */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { toRfc3339 } from "../core/report.ts";
import { formatWindow } from "../core/window.ts";
import { HealthSchema, StatusSchema } from "../schemas.ts";
import type { AppDeps, AppEnv } from "./app.ts";
import type { RequestStats } from "./request_stats.ts";

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

export function systemRoutes(deps: AppDeps & { requestStats: RequestStats }): OpenAPIHono<AppEnv> {
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
    // Degraded while the last ingest cycle or the snapshot store's last write or prune failed.
    const storeFailing = persistence.lastWrite?.ok === false || persistence.lastPrune?.ok === false;
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
      requests: await requestStats.snapshot(),
    }, 200);
  });

  return app;
}
