/** `GET /metrics`: the Prometheus text exposition of the service's one registry. */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import type { ServiceMetrics } from "./prometheus.ts";

export function metricsRoutes({ metrics }: { metrics: ServiceMetrics }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/metrics", async (c) => {
    const body = await metrics.exposition();
    return c.body(body, 200, { "Content-Type": metrics.contentType, "Cache-Control": "no-store" });
  });
  return app;
}
