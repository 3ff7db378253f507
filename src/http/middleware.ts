/** Middleware factories: response headers, access log with request context, request limits. */
import type { Context, MiddlewareHandler } from "hono";
import { getLogger, withContext } from "@logtape/logtape";
import { matchedRoutes } from "hono/route";
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

/**
 * The security headers every response carries: a CSP allowing only the service itself (framing included),
 * no MIME sniffing, no framing in older browsers, no referrer. Kept to what protects this service: every
 * header costs time on every response.
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  [
    "Content-Security-Policy",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  ],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["Referrer-Policy", "no-referrer"],
];

/**
 * Sets `X-Request-ID` and the {@linkcode SECURITY_HEADERS} on every response, including those handlers build
 * themselves (static assets) and error responses. The values are fixed, so nothing is built per request.
 */
export function responseHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const headers = c.res.headers;
    headers.set("X-Request-ID", c.get("requestId" as never));
    for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  };
}
