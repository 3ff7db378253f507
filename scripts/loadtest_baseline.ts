/**
 * The load test's ceiling: a bare Hono app on Deno whose one route returns a constant JSON body (the service's
 * own metrics response, read from a file, so the size is the same), with no middleware. Started by
 * `scripts/loadtest.ts`:
 *
 *   deno run --allow-net=127.0.0.1 --allow-read scripts/loadtest_baseline.ts <port> <body.json>
 *
 * @module
 */
import { Hono } from "hono";

if (import.meta.main) {
  const [port, bodyPath] = Deno.args;
  const body: unknown = JSON.parse(await Deno.readTextFile(bodyPath));
  const app = new Hono();
  app.get("/coherence/metrics", (c) => c.json(body));
  app.get("/health", (c) => c.json({ status: "ok" }));
  Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen() {} }, app.fetch);
}
