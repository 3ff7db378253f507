/**
 * The HTTP API: `createApp(deps)` builds the Hono app from its dependencies (no I/O of its own), so tests call
 * `app.request(...)` without a server.
 *
 * Each route module takes the narrow dependencies it reads and knows nothing of this one. The data routes
 * (`/health`, `/status`, `/coherence/*`) form one sub-app, `api`, which the page reads its initial data from
 * in-process; the OpenAPI document is built from the whole app once every route is registered and handed to
 * the docs routes as a function.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { cors } from "hono/cors";
import type { Config } from "../config.ts";
import type { PointStore } from "../core/point_store.ts";
import { requestLimits, requestLog, responseHeaders } from "./middleware.ts";
import { authRoutes, tokenAuth } from "./auth.ts";
import { invalidQueryHook, notFound, notFoundOrNotAllowed, onError } from "./errors.ts";
import type { AppEnv } from "./env.ts";
import type { ServiceMetrics } from "./prometheus.ts";
import { metricsRoutes } from "./metrics_routes.ts";
import { docsRoutes } from "./docs_routes.ts";
import { type OpenApiDocument, openApiDocument, registerPlainRoutes } from "./openapi.ts";
import { type CoherenceDeps, coherenceRoutes } from "./coherence_routes.ts";
import { predictRoutes } from "./predict_routes.ts";
import type { ResponseCache } from "./response_cache.ts";
import { type InstancesView, type SystemDeps, systemRoutes } from "./system_routes.ts";
import { type HistoryDeps, historyRoutes } from "./history_routes.ts";
import { pageRoutes } from "./page_routes.ts";
import { alertsRoutes, type AlertsView, idleAlerts } from "./alerts_routes.ts";

export type { AppEnv } from "./env.ts";

/** What the ingest side tells the API: what its routes read of it. */
export type IngestView = SystemDeps["ingest"] & CoherenceDeps["ingest"];

/** What the persistence side tells the API: what its routes read of it. */
export type PersistenceView = SystemDeps["persistence"] & HistoryDeps["persistence"];

export interface AppDeps {
  config: Config;
  store: PointStore;
  ingest: IngestView;
  persistence: PersistenceView;
  source: SystemDeps["source"];
  startedAtMs: number;
  now?: () => number;
  /** The Prometheus instruments, shared with ingest (built in `main.ts`; tests build their own). */
  metrics: ServiceMetrics;
  /** Alert states, the transitions log and delivery health (default: none, as for an app without alerting). */
  alerts?: AlertsView;
  /** With PERSISTENCE=kv: the ingest lease and shared points figures for `/status` (default: none). */
  instances?: InstancesView;
  /** Cache of metrics answers by request and data version; a fresh one by default. */
  responseCache?: ResponseCache;
}

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { config, metrics } = deps;
  const stats = metrics.requests;
  const app = new OpenAPIHono<AppEnv>({ defaultHook: invalidQueryHook });

  app.use(requestId({ headerName: "X-Request-ID" }));
  app.use(responseHeaders());
  app.use(requestLog({ stats }));
  if (config.corsOrigins.length > 0) {
    app.use(cors({
      origin: config.corsOrigins.includes("*") ? "*" : config.corsOrigins,
      allowMethods: ["GET", "HEAD", "OPTIONS"],
      allowHeaders: ["Authorization", "X-Request-ID"],
      exposeHeaders: ["X-Request-ID"],
    }));
  }
  app.use(requestLimits());
  if (config.apiToken) {
    app.use(tokenAuth({ token: config.apiToken }));
    app.route("/", authRoutes({ token: config.apiToken }));
  }

  const api = new OpenAPIHono<AppEnv>({ defaultHook: invalidQueryHook });
  const alerts = deps.alerts ?? idleAlerts(config.alerts);
  api.route("/", systemRoutes({ ...deps, alerts, requestStats: stats }));
  api.route("/coherence", coherenceRoutes(deps));
  api.route("/coherence", predictRoutes(deps));
  api.route("/coherence", historyRoutes(deps));
  api.route("/coherence", alertsRoutes({ ...deps, alerts }));
  api.notFound(notFound);
  api.onError(onError);
  app.route("/", api);

  app.route("/", metricsRoutes({ metrics }));
  let document: OpenApiDocument | undefined;
  app.route("/", docsRoutes({ config, document: () => document ??= openApiDocument(app, config) }));
  registerPlainRoutes(app, config);
  app.route("/", pageRoutes(deps, { api }));

  // A known path with a method it does not answer is a 405 with `Allow`; an unknown path a 404.
  app.notFound(notFoundOrNotAllowed(() => app.routes));
  app.onError(onError);
  return app;
}
