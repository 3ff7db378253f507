/**
 * How every error becomes a problem+json answer: the app's `onError` and `notFound` handlers and the query
 * validation hook. One mapping, shared by the app and its API sub-app.
 */
import type { Context } from "hono";
import { STATUS_CODES } from "node:http";
import { HTTPException } from "hono/http-exception";
import { getLogger } from "@logtape/logtape";
import { WindowError } from "../core/window.ts";
import type { AppEnv } from "./env.ts";
import { problemBody, ProblemError, type ProblemKind, problemResponse, sendProblem } from "./problem.ts";

const log = getLogger(["coherence", "http"]);

/**
 * The problem type of each client-error status a Hono `HTTPException` carries (Hono and its middleware throw
 * them: a bad body, a wrong method, a limit). Any other 4xx is RFC 9457's `about:blank` with the status text.
 */
export const HTTP_EXCEPTION_KINDS: Readonly<Partial<Record<number, ProblemKind>>> = Object.freeze({
  400: "bad-request",
  401: "unauthorized",
  404: "not-found",
  405: "method-not-allowed",
  413: "payload-too-large",
  414: "uri-too-long",
  415: "unsupported-media-type",
  429: "too-many-requests",
});

/** Headers an `HTTPException`'s own response carries (`Allow`, `Retry-After`, `WWW-Authenticate`…). */
function exceptionHeaders(error: HTTPException): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of error.res?.headers ?? []) {
    if (name !== "content-type" && name !== "content-length") headers[name] = value;
  }
  return headers;
}

/** A route as Hono lists it (`app.routes`): middleware has method `ALL`. */
export interface RouteEntry {
  method: string;
  path: string;
}

const METHOD_ORDER = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** A Hono route path (`/static/:name`, `/docs/*`) as a regular expression over request paths. */
function routePattern(path: string): RegExp {
  const source = path.split("/").map((part) =>
    part === "*" ? ".*" : part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  ).join("/");
  return new RegExp(`^${source}/?$`);
}

/**
 * The methods each request path answers, from the app's routes (middleware excluded); a route that answers
 * GET also answers HEAD. Read from `routes()` on first use, once every route is registered.
 */
export function allowedMethods(routes: () => readonly RouteEntry[]): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | undefined;
  return (path) => {
    table ??= routes().filter((r) => r.method !== "ALL")
      .map((r) => ({ pattern: routePattern(r.path), method: r.method }));
    const methods = new Set(table.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has("GET")) methods.add("HEAD");
    return METHOD_ORDER.filter((m) => methods.has(m));
  };
}

/**
 * The app's not-found handler: a path some route answers with other methods is a 405 `method-not-allowed`
 * with an `Allow` header listing them; any other path is a 404 `not-found`.
 */
export function notFoundOrNotAllowed(routes: () => readonly RouteEntry[]) {
  const allowed = allowedMethods(routes);
  return (c: Context<AppEnv>): Response => {
    const methods = allowed(c.req.path);
    if (methods.length === 0 || methods.includes(c.req.method)) return notFound(c);
    const allow = methods.join(", ");
    return sendProblem(c, "method-not-allowed", `${c.req.path} answers ${allow}, not ${c.req.method}`, {
      Allow: allow,
    });
  };
}

export function notFound(c: Context<AppEnv>): Response {
  return sendProblem(c, "not-found", `No route for ${c.req.method} ${c.req.path}`);
}

export function onError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ProblemError) {
    const headers: Record<string, string> = error.kind === "unauthorized"
      ? { "WWW-Authenticate": 'Bearer realm="coherence-engine"' }
      : {};
    return sendProblem(c, error.kind, error.message, headers);
  }
  if (error instanceof WindowError) return sendProblem(c, "invalid-window", error.message);
  if (error instanceof HTTPException && error.status < 500) {
    const kind = HTTP_EXCEPTION_KINDS[error.status];
    const body = kind === undefined
      ? {
        type: "about:blank",
        title: STATUS_CODES[error.status] ?? "Client error",
        status: error.status,
        detail: "",
      }
      : problemBody(kind, "");
    body.detail = error.message || body.title;
    return problemResponse(c, { ...body, requestId: c.get("requestId") }, exceptionHeaders(error));
  }
  log.error("unhandled error", {
    method: c.req.method,
    path: c.req.path,
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  return sendProblem(c, "internal", "The service failed to answer; the error is logged");
}

/** Turns a zod query validation failure into a 400 problem naming the parameter. */
export function invalidQueryHook(
  result: { success: boolean; error?: { issues: { path: PropertyKey[]; message: string }[] } },
): void {
  if (result.success || !result.error) return;
  const issue = result.error.issues[0];
  const name = String(issue.path[0] ?? "query");
  throw new ProblemError("invalid-parameter", `Query parameter "${name}" is not valid: ${issue.message}`);
}
