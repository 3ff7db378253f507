/**
 * The HTTP API: `createApp(deps)` builds the Hono app from its dependencies (no I/O of its own), so tests call
 * `app.request(...)` without a server.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { getLogger } from "@logtape/logtape";
import type { Config } from "../config.ts";
import type { PointStore } from "../core/point_store.ts";
import { WindowError } from "../core/window.ts";
import type { IngestCycle } from "../schemas.ts";
import type { SourceKind } from "../core/vocabulary.ts";
import { requestLimits, requestLog, responseHeaders } from "./middleware.ts";
import { authRoutes, tokenAuth } from "./auth.ts";
import { problemBody, ProblemError, problemResponse } from "./problem.ts";
import { ServiceMetrics } from "./prometheus.ts";
import { metricsRoutes } from "./metrics_routes.ts";
import { docsRoutes, registerPlainRoutes } from "./docs_routes.ts";
import { coherenceRoutes } from "./coherence_routes.ts";
import type { ResponseCache } from "./response_cache.ts";
import { systemRoutes } from "./system_routes.ts";
import { historyRoutes } from "./history_routes.ts";
import { pageRoutes } from "../page/routes.ts";
import type { StoreRegistry } from "../persistence/registry.ts";
import type { PersistenceStatus } from "../persistence/snapshotter.ts";

const log = getLogger(["coherence", "http"]);

/** What the ingest side tells the API. */
export interface IngestView {
  cycles(): IngestCycle[];
  coverageStartMs(): number | null;
  lastSuccessAtMs(): number | null;
}

/** What the persistence side tells the API. */
export interface PersistenceView {
  registry: StoreRegistry;
  status(): PersistenceStatus;
}

export interface AppDeps {
  config: Config;
  store: PointStore;
  ingest: IngestView;
  persistence: PersistenceView;
  source: { kind: SourceKind; location: string; replay: boolean };
  startedAtMs: number;
  now?: () => number;
  /** The Prometheus instruments (shared with ingest in `main.ts`); fresh ones by default. */
  metrics?: ServiceMetrics;
  /** Cache of metrics answers by request and data version; a fresh one by default. */
  responseCache?: ResponseCache;
}

export type AppEnv = { Variables: { requestId: string } };

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const metrics = deps.metrics ??
    new ServiceMetrics({
      version: deps.config.engineVersion,
      startedAtMs: deps.startedAtMs,
      points: deps.store,
      persistence: deps.persistence.status,
    });
  const stats = metrics.requests;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: invalidQueryHook });

  app.use(requestId({ headerName: "X-Request-ID" }));
  app.use(responseHeaders());
  app.use(requestLog({ stats }));
  if (deps.config.corsOrigins.length > 0) {
    app.use(cors({
      origin: deps.config.corsOrigins.includes("*") ? "*" : deps.config.corsOrigins,
      allowMethods: ["GET", "HEAD", "OPTIONS"],
      allowHeaders: ["Authorization", "X-Request-ID"],
      exposeHeaders: ["X-Request-ID"],
    }));
  }
  app.use(requestLimits());
  if (deps.config.apiToken) {
    app.use(tokenAuth({ token: deps.config.apiToken }));
    app.route("/", authRoutes({ token: deps.config.apiToken }));
  }

  app.route("/", systemRoutes({ ...deps, requestStats: stats }));
  app.route("/coherence", coherenceRoutes(deps));
  app.route("/coherence", historyRoutes(deps));
  app.route("/", metricsRoutes({ metrics }));
  app.route("/", docsRoutes({ api: app, config: deps.config }));
  registerPlainRoutes(app, deps.config);
  app.route("/", pageRoutes(deps, { api: app }));

  app.notFound((c) =>
    problemResponse(
      c,
      problemBody("not-found", `No route for ${c.req.method} ${c.req.path}`, {
        requestId: c.get("requestId"),
      }),
    )
  );
  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof ProblemError) {
      const headers: Record<string, string> = error.kind === "unauthorized"
        ? { "WWW-Authenticate": 'Bearer realm="coherence-engine"' }
        : {};
      return problemResponse(c, problemBody(error.kind, error.message, { requestId }), headers);
    }
    if (error instanceof WindowError) {
      return problemResponse(c, problemBody("invalid-window", error.message, { requestId }));
    }
    if (error instanceof HTTPException && error.status < 500) {
      const kind = error.status === 404
        ? "not-found"
        : error.status === 401
        ? "unauthorized"
        : "invalid-parameter";
      const body = problemBody(kind, error.message || "Bad request", { requestId });
      return problemResponse(c, { ...body, status: error.status });
    }
    log.error("unhandled error", {
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return problemResponse(
      c,
      problemBody("internal", "The service failed to answer; the error is logged", { requestId }),
    );
  });
  return app;
}

/** Turns a zod query validation failure into a 400 problem naming the parameter. */
function invalidQueryHook(
  result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } },
): void {
  if (result.success || !result.error) return;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? "query");
  throw new ProblemError("invalid-parameter", `Query parameter "${name}" is not valid: ${issue.message}`);
}
