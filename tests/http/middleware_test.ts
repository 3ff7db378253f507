import { deepEqual, equal, ok } from "node:assert/strict";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { getLogger, reset } from "@logtape/logtape";
import type { LogLevel } from "../../src/config.ts";
import { configureLogging } from "../../src/logging.ts";
import { requestLog } from "../../src/http/middleware.ts";
import { RequestStats } from "../../src/http/request_stats.ts";

/**
 * Serves two requests through `requestId()` + `requestLog()` with the service's own LogTape set-up at `level`
 * (the JSON Lines sink, batched), and returns the lines written once LogTape is reset (which flushes them).
 */
async function servedLines(level: LogLevel): Promise<Record<string, unknown>[]> {
  const chunks: Uint8Array[] = [];
  const stream = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) });
  const app = new Hono();
  app.use(requestId({ headerName: "X-Request-ID" }));
  app.use(requestLog({ stats: new RequestStats() }));
  app.get("/items/:id", async (c) => {
    await Promise.resolve(); // across an await, as real handlers are
    getLogger(["coherence", "items"]).warn("looked up {id}", { id: c.req.param("id") });
    return c.json({ id: c.req.param("id") });
  });
  app.get("/broken", () => {
    throw new Error("boom");
  });
  app.onError((_error, c) => c.text("failed", 500));
  await configureLogging({ level, stream });
  try {
    equal((await app.request("/items/7", { headers: { "X-Request-ID": "req-7" } })).status, 200);
    equal((await app.request("/broken", { headers: { "X-Request-ID": "req-500" } })).status, 500);
  } finally {
    await reset();
  }
  const text = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  return text.trimEnd().split("\n").map((line) => JSON.parse(line));
}

/** The properties of the lines from logger `name`. */
const from = (lines: Record<string, unknown>[], name: string) =>
  lines.filter((l) => l.logger === name).map((l) => l.properties as Record<string, unknown>);

Deno.test("requestLog() at info writes one JSON access line per request with method, path, route, status, latencyMs, requestId", async () => {
  const lines = await servedLines("info");
  const access = from(lines, "coherence.http");
  equal(access.length, 2);
  const [ok200, failed] = access;
  equal(typeof ok200.latencyMs, "number");
  ok((ok200.latencyMs as number) >= 0);
  deepEqual({ ...ok200, latencyMs: 0 }, {
    requestId: "req-7",
    method: "GET",
    path: "/items/7",
    route: "/items/:id",
    status: 200,
    latencyMs: 0,
  });
  equal(failed.requestId, "req-500");
  equal(failed.status, 500);
  equal(lines.find((l) => (l.properties as Record<string, unknown>).requestId === "req-500")?.level, "ERROR");
});

Deno.test("requestLog() at info: a line logged inside the handler carries the request id", async () => {
  const lines = await servedLines("info");
  deepEqual(from(lines, "coherence.items"), [{ requestId: "req-7", id: "7" }]);
});

Deno.test("requestLog() at warning: no access line for a success, the handler's line keeps its request id, a 5xx is logged", async () => {
  const lines = await servedLines("warning");
  deepEqual(from(lines, "coherence.items"), [{ requestId: "req-7", id: "7" }]);
  const access = from(lines, "coherence.http");
  equal(access.length, 1, "only the 500 is logged");
  equal(access[0].requestId, "req-500");
  equal(access[0].status, 500);
  equal(access[0].route, "/broken");
});
