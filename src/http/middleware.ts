/** Middleware factories: access log with request context, and the optional inbound bearer token. */
import type { Context, MiddlewareHandler } from "hono";
import { getLogger, withContext } from "@logtape/logtape";
import { matchedRoutes } from "hono/route";
import { timingSafeEqual } from "hono/utils/buffer";
import { levelEnabled } from "../logging.ts";
import { annotateRequestSpan } from "../telemetry.ts";
import { ProblemError } from "./problem.ts";
import { type RequestStats, UNMATCHED_ROUTE } from "./request_stats.ts";

const accessLog = getLogger(["coherence", "http"]);
/** Whether the access log line would be written (skips building it at LOG_LEVEL=warning and above). */
const accessInfoEnabled = levelEnabled(["coherence", "http"], "info");

/**
 * The route pattern a request matched (`/static/:name`, not `/static/page.css`): the last matched route that
 * is not middleware; {@linkcode UNMATCHED_ROUTE} when only middleware matched (an unknown path).
 */
export function matchedRoute(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i].method !== "ALL") return routes[i].path;
  }
  return UNMATCHED_ROUTE;
}

/**
 * Logs one JSON line per request (method, path, route, status, latencyMs, requestId) and runs the handler
 * inside a LogTape context carrying the request id, so every line logged for the request has it. Records the
 * request in `stats` (the Prometheus instruments) by route pattern, and tags the request's trace span.
 */
export function requestLog({ stats }: { stats?: RequestStats } = {}): MiddlewareHandler {
  return async (c, next) => {
    const requestId: string = c.get("requestId" as never) ?? "";
    const started = performance.now();
    annotateRequestSpan({ requestId });
    await withContext({ requestId }, async () => {
      await next();
      const latencyMs = round3(performance.now() - started);
      const status = c.res.status;
      const method = c.req.method;
      const route = matchedRoute(c);
      stats?.record(status, latencyMs, { method, route });
      annotateRequestSpan({ method, route: route === UNMATCHED_ROUTE ? undefined : route });
      const props = { method, path: c.req.path, route, status, latencyMs };
      if (status >= 500) accessLog.error("request", props);
      else if (accessInfoEnabled()) accessLog.info("request", props);
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

/** Longest request URL accepted, characters (longer: 414). */
export const MAX_URL_LENGTH = 4096;
/** Largest request body accepted, bytes (larger, or chunked: 413). */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Refuses oversized requests before any work: a URL longer than `maxUrlLength` (414) or a body larger than
 * `maxBodyBytes` (413; the API takes no bodies). Both answer with problem+json.
 */
export function requestLimits(
  { maxUrlLength = MAX_URL_LENGTH, maxBodyBytes = MAX_BODY_BYTES }: {
    maxUrlLength?: number;
    maxBodyBytes?: number;
  } = {},
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
