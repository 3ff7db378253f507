/**
 * How every error becomes a problem+json answer: the app's `onError` and `notFound` handlers and the query
 * validation hook. One mapping, shared by the app and its API sub-app.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { getLogger } from "@logtape/logtape";
import { WindowError } from "../core/window.ts";
import type { AppEnv } from "./env.ts";
import { problemBody, ProblemError, problemResponse } from "./problem.ts";

const log = getLogger(["coherence", "http"]);

export function notFound(c: Context<AppEnv>): Response {
  return problemResponse(
    c,
    problemBody("not-found", `No route for ${c.req.method} ${c.req.path}`, { requestId: c.get("requestId") }),
  );
}

export function onError(error: Error, c: Context<AppEnv>): Response {
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
