/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with `type`, `title`,
 * `status` (equal to the HTTP status) and a `detail` that says what was wrong.
 */
import type { Context } from "hono";
import type { AppEnv } from "./env.ts";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { type Problem, ProblemSchema } from "../schemas.ts";

export const PROBLEM_BASE = "https://coherence-engine.dev/problems/";

export type ProblemKind =
  | "bad-request"
  | "invalid-parameter"
  | "invalid-window"
  | "invalid-end"
  | "unknown-signal"
  | "not-found"
  | "method-not-allowed"
  | "unauthorized"
  | "store-unavailable"
  | "uri-too-long"
  | "payload-too-large"
  | "unsupported-media-type"
  | "too-many-requests"
  | "internal";

const TITLES: Record<ProblemKind, [number, string]> = {
  "bad-request": [400, "Bad request"],
  "invalid-parameter": [400, "Invalid query parameter"],
  "invalid-window": [400, "Invalid window"],
  "invalid-end": [400, "Invalid end time"],
  "unknown-signal": [404, "Unknown signal"],
  "not-found": [404, "Not found"],
  "method-not-allowed": [405, "Method not allowed"],
  unauthorized: [401, "Unauthorized"],
  "store-unavailable": [503, "Snapshot store unavailable"],
  "uri-too-long": [414, "URI too long"],
  "payload-too-large": [413, "Payload too large"],
  "unsupported-media-type": [415, "Unsupported media type"],
  "too-many-requests": [429, "Too many requests"],
  internal: [500, "Internal error"],
};

/** A domain error that maps to one problem response. */
export class ProblemError extends Error {
  override name = "ProblemError";
  constructor(readonly kind: ProblemKind, detail: string, options?: ErrorOptions) {
    super(detail, options);
  }
  get status(): number {
    return TITLES[this.kind][0];
  }
}

export function problemBody(kind: ProblemKind, detail: string, extra: Partial<Problem> = {}): Problem {
  const [status, title] = TITLES[kind];
  return { type: `${PROBLEM_BASE}${kind}`, title, status, detail, ...extra };
}

/** The `kind` problem with `detail` and the request's id, as a response. */
export function sendProblem(
  c: Context<AppEnv>,
  kind: ProblemKind,
  detail: string,
  headers?: Record<string, string>,
): Response {
  return problemResponse(c, problemBody(kind, detail, { requestId: c.get("requestId") }), headers);
}

/** The problem as a response through the Hono context, keeping headers set earlier (X-Request-ID). */
export function problemResponse(c: Context, body: Problem, headers: Record<string, string> = {}): Response {
  return c.newResponse(JSON.stringify(body), body.status as ContentfulStatusCode, {
    ...headers,
    "content-type": "application/problem+json",
  });
}

/** An OpenAPI response that is a problem, for a route's `responses`. */
export const problemSpec = (description: string) => ({
  content: { "application/problem+json": { schema: ProblemSchema } },
  description,
});

/** The problems every route that takes a query with `signal` answers. */
export const QUERY_PROBLEMS = { 400: problemSpec("Invalid query"), 404: problemSpec("Unknown signal") };
