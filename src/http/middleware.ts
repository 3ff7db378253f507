/** Middleware factories: access log with request context, and the optional inbound bearer token. */
import type { MiddlewareHandler } from "hono";
import { getLogger, withContext } from "@logtape/logtape";
import { timingSafeEqual } from "hono/utils/buffer";
import { ProblemError } from "./problem.ts";
import type { RequestStats } from "./request_stats.ts";

const accessLog = getLogger(["coherence", "http"]);

/**
 * Logs one JSON line per request (method, path, status, latencyMs, requestId) and runs the handler inside a
 * LogTape context carrying the request id, so every line logged for the request has it.
 */
export function requestLog({ stats }: { stats?: RequestStats } = {}): MiddlewareHandler {
  return async (c, next) => {
    const requestId: string = c.get("requestId" as never) ?? "";
    const started = performance.now();
    await withContext({ requestId }, async () => {
      await next();
      const latencyMs = round3(performance.now() - started);
      const status = c.res.status;
      stats?.record(status, latencyMs);
      const props = { method: c.req.method, path: c.req.path, status, latencyMs };
      if (status >= 500) accessLog.error("request", props);
      else accessLog.info("request", props);
    });
  };
}

/**
 * Requires `Authorization: Bearer <token>` (compared in constant time) on every path but the exempt ones.
 */
export function bearerToken(
  { token, exempt = ["/health"] }: { token: string; exempt?: string[] },
): MiddlewareHandler {
  return async (c, next) => {
    if (exempt.includes(c.req.path)) return await next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !(await timingSafeEqual(match[1].trim(), token))) {
      throw new ProblemError(
        "unauthorized",
        match ? "The bearer token is not valid" : "This service requires Authorization: Bearer <API_TOKEN>",
      );
    }
    await next();
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Refuses oversized requests before any work: a URL longer than `maxUrlLength` (414) or a body larger than
 * `maxBodyBytes` (413; the API takes no bodies). Both answer with problem+json.
 */
export function requestLimits(
  { maxUrlLength = 4096, maxBodyBytes = 16 * 1024 }: { maxUrlLength?: number; maxBodyBytes?: number } = {},
): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.url.length > maxUrlLength) {
      throw new ProblemError(
        "uri-too-long",
        `The request URL is ${c.req.url.length} characters; at most ${maxUrlLength} are accepted`,
      );
    }
    const length = Number(c.req.header("content-length") ?? "0");
    if (length > maxBodyBytes || (c.req.header("transfer-encoding") ?? "").includes("chunked")) {
      throw new ProblemError(
        "payload-too-large",
        `Request bodies are limited to ${maxBodyBytes} bytes (this API reads none)`,
      );
    }
    await next();
  };
}
