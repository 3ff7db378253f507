/**
 * The OpenAPI 3.1 document (`GET /openapi.json`), generated from the zod schemas the routes validate with.
 *
 * The zod-openapi routes register themselves; the plain Hono routes (`/metrics`, `/docs`, `/openapi.json`, the
 * page and its assets) are registered here by {@linkcode registerPlainRoutes}. Problems every route can answer
 * (413, 414 and, with `API_TOKEN`, 401) are added to each operation, with the `X-Request-ID` header every
 * response carries. `createApp` builds the document once every route is registered and hands it to the docs
 * routes.
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Config } from "../config.ts";
import { STORE_MODES } from "../core/vocabulary.ts";
import { isPublicPath, SESSION_COOKIE } from "./auth.ts";
import { DOCS_ASSETS } from "./docs_routes.ts";
import type { AppEnv } from "./env.ts";
import { MAX_BODY_BYTES, MAX_URL_LENGTH } from "./middleware.ts";
import { EXAMPLE_REQUEST_ID, responseExamples } from "./openapi_examples.ts";
import { problemBody, type ProblemKind, problemSpec } from "./problem.ts";

type Api = OpenAPIHono<AppEnv>;
export type OpenApiDocument = ReturnType<Api["getOpenAPI31Document"]>;

const text = (description: string) => z.string().openapi({ description });
const html = (description: string) => ({ description, content: { "text/html": { schema: text("HTML") } } });

/** The responses of a hashed static asset (`static_assets.ts`) served as one of `types`. */
const assetResponses = (types: Record<string, string>) => ({
  200: {
    description: "The asset",
    content: Object.fromEntries(Object.entries(types).map(([type, name]) => [type, { schema: text(name) }])),
  },
  304: { description: "Not modified (If-None-Match matched the ETag)" },
  404: problemSpec("No such asset"),
});
const SCRIPT_AND_STYLE = { "text/javascript": "JavaScript", "text/css": "CSS" };

/** Registers the routes that are plain Hono handlers, so the document lists every route the app serves. */
export function registerPlainRoutes(api: Api, config: Pick<Config, "apiToken">): void {
  const registry = api.openAPIRegistry;
  if (config.apiToken) {
    registry.registerPath({
      method: "post",
      path: "/auth/login",
      summary: "Sign in to the browser pages with API_TOKEN: sets an HttpOnly session cookie",
      request: {
        body: {
          required: true,
          content: {
            "application/x-www-form-urlencoded": {
              schema: z.object({
                token: z.string().openapi({ description: "The API_TOKEN" }),
                next: z.string().optional().openapi({ description: "Same-site path to go to afterwards" }),
              }),
            },
          },
        },
      },
      responses: {
        303: { description: `Signed in: ${SESSION_COOKIE} cookie set, redirect to next (default /)` },
        401: html("Wrong token: the sign-in page again"),
      },
    });
    registry.registerPath({
      method: "post",
      path: "/auth/logout",
      summary: "Sign out: clears the session cookie",
      responses: { 303: { description: "Cookie cleared, redirect to /" } },
    });
  }
  registry.registerPath({
    method: "get",
    path: "/metrics",
    summary: "Prometheus metrics (text exposition format 0.0.4)",
    description:
      "Requests by route and status, request durations, ingest cycles and records, upstream latency, " +
      "and the latest snapshot's mean, stdev, volatilityIndex, n and risk per (signal, window). See README.",
    responses: {
      200: {
        description: "The exposition",
        content: { "text/plain; version=0.0.4; charset=utf-8": { schema: text("Prometheus text format") } },
      },
    },
  });
  registry.registerPath({
    method: "get",
    path: "/openapi.json",
    summary: "This OpenAPI 3.1 document",
    responses: {
      200: {
        description: "The document",
        content: {
          "application/json": {
            schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
          },
        },
      },
    },
  });
  registry.registerPath({
    method: "get",
    path: "/docs",
    summary: "Interactive API reference (Swagger UI, served locally)",
    responses: { 200: html("HTML page") },
  });
  const assetName = z.object({
    name: z.enum(Object.keys(DOCS_ASSETS) as [string, ...string[]]).openapi({
      description: "Asset file name",
    }),
  });
  registry.registerPath({
    method: "get",
    path: "/docs/assets/{name}",
    summary: "Script and stylesheet of /docs (?v=<hash> URLs are immutable)",
    request: { params: assetName },
    responses: assetResponses(SCRIPT_AND_STYLE),
  });
  registry.registerPath({
    method: "get",
    path: "/",
    summary: "Verification page: chart, risk panel, recent values (server-rendered; islands refresh it)",
    request: {
      query: z.object({
        signal: z.string().optional().openapi({ description: 'Signal, or "*" for all pooled' }),
        window: z.string().optional().openapi({ description: "Window such as 1h" }),
        store: z.enum(STORE_MODES).optional().openapi({
          description: "Snapshot store for the history",
        }),
      }),
    },
    responses: { 200: html("HTML page") },
  });
  for (const method of ["get", "head"] as const) {
    registry.registerPath({
      method,
      path: "/static/{name}",
      summary: "The verification page's assets (?v=<hash> URLs are immutable)",
      request: { params: z.object({ name: z.string().openapi({ example: "page.css" }) }) },
      responses: assetResponses({ ...SCRIPT_AND_STYLE, "image/svg+xml": "SVG" }),
    });
  }
}

/** The document's tags: one per area, in the order Swagger UI shows them. */
export const TAGS = [
  { name: "system", description: "Liveness and the service's own status" },
  { name: "metrics", description: "Window metrics, forecast, series and the known signals" },
  { name: "history", description: "Persisted metric snapshots" },
  { name: "alerts", description: "Alert states (pending included) and the transitions log" },
  { name: "monitoring", description: "Prometheus exposition" },
  { name: "docs", description: "This document and its interactive reference" },
  { name: "page", description: "The verification page and its assets" },
  { name: "auth", description: "Browser sign-in with API_TOKEN (only when API_TOKEN is set)" },
] as const;
type Tag = (typeof TAGS)[number]["name"];

/** `operationId` and tag of every operation, by `<method> <path>`; the document refuses an operation not here. */
export const OPERATIONS: Readonly<Record<string, { operationId: string; tag: Tag }>> = Object.freeze({
  "get /health": { operationId: "getHealth", tag: "system" },
  "get /status": { operationId: "getStatus", tag: "system" },
  "get /coherence/metrics": { operationId: "getMetrics", tag: "metrics" },
  "get /coherence/predict": { operationId: "getPrediction", tag: "metrics" },
  "get /coherence/predict/backtest": { operationId: "getPredictionBacktest", tag: "metrics" },
  "get /coherence/series": { operationId: "getSeries", tag: "metrics" },
  "get /coherence/signals": { operationId: "listSignals", tag: "metrics" },
  "get /coherence/history": { operationId: "getHistory", tag: "history" },
  "get /coherence/alerts": { operationId: "listAlerts", tag: "alerts" },
  "get /coherence/transitions": { operationId: "listTransitions", tag: "alerts" },
  "get /metrics": { operationId: "getPrometheusMetrics", tag: "monitoring" },
  "get /openapi.json": { operationId: "getOpenApiDocument", tag: "docs" },
  "get /docs": { operationId: "getApiReference", tag: "docs" },
  "get /docs/assets/{name}": { operationId: "getApiReferenceAsset", tag: "docs" },
  "get /": { operationId: "getPage", tag: "page" },
  "get /static/{name}": { operationId: "getPageAsset", tag: "page" },
  "head /static/{name}": { operationId: "headPageAsset", tag: "page" },
  "post /auth/login": { operationId: "signIn", tag: "auth" },
  "post /auth/logout": { operationId: "signOut", tag: "auth" },
});

/**
 * The OpenAPI 3.1 document of `api` as configured: every operation has its `operationId`, tag and examples,
 * and also documents the 413 and 414 problems and the `X-Request-ID` request and response header. With
 * `API_TOKEN` the bearer scheme applies to the whole document (and 401 to each protected operation) while
 * `/health`, sign-in and `/static/*` say `security: []`; without it the document's `security` is empty.
 */
export function openApiDocument(api: Api, config: Config): OpenApiDocument {
  const document = api.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Coherence Engine",
      version: config.engineVersion,
      description: "Rolling-window coherence metrics (mean, stdev, volatilityIndex, drift risk) with their " +
        "inputs, formulas, thresholds and the rule that fired. Errors are application/problem+json (RFC 9457).",
    },
    servers: [{ url: "/", description: "This service (paths are relative to where it is served)" }],
    tags: TAGS.filter((tag) => tag.name !== "auth" || config.apiToken).map((tag) => ({ ...tag })),
    security: config.apiToken ? [{ bearerAuth: [] }, { sessionCookie: [] }] : [],
  });
  // No licence has been chosen for this service yet (the owner decides); until then, all rights are reserved.
  // An SPDX `LicenseRef-` names a licence outside the SPDX list (3.1 only, hence set on the built document).
  document.info.license = { name: "Proprietary (all rights reserved)", identifier: "LicenseRef-Proprietary" };
  const components = document.components ??= {};
  components.schemas ??= {};
  components.headers = {
    ...components.headers,
    "X-Request-ID": {
      description:
        "The request's id: the one sent, or a generated UUID; also in every log line of the request",
      schema: { type: "string" },
    },
  };
  components.parameters = {
    ...components.parameters,
    "X-Request-ID": {
      name: "X-Request-ID",
      in: "header",
      required: false,
      description: "Optional request id, echoed in the response and in every log line of the request",
      schema: { type: "string", maxLength: 255 },
    },
  };
  if (config.apiToken) {
    components.securitySchemes = {
      ...components.securitySchemes,
      bearerAuth: { type: "http", scheme: "bearer", description: "Authorization: Bearer <API_TOKEN>" },
      sessionCookie: {
        type: "apiKey",
        in: "cookie",
        name: SESSION_COOKIE,
        description: "Session cookie from POST /auth/login (for browsers)",
      },
    };
  }
  const examples = responseExamples(config);
  const problem = (description: string, kind: ProblemKind, detail: string) => ({
    description,
    content: {
      "application/problem+json": {
        schema: { $ref: "#/components/schemas/Problem" },
        example: problemBody(kind, detail, { requestId: EXAMPLE_REQUEST_ID }),
      },
    },
  });
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ["get", "head", "post", "put", "patch", "delete", "options"] as const) {
      const operation = item[method];
      if (operation === undefined) continue;
      const known = OPERATIONS[`${method} ${path}`];
      if (known === undefined) throw new Error(`Cannot document ${method} ${path}: it has no operationId`);
      operation.operationId = known.operationId;
      operation.tags = [known.tag];
      operation.parameters = [...(operation.parameters ?? []), {
        $ref: "#/components/parameters/X-Request-ID",
      }];
      const responses = operation.responses ??= {};
      responses["413"] ??= problem(
        `Payload too large: bodies over ${MAX_BODY_BYTES} bytes (or chunked) are refused; the API reads none`,
        "payload-too-large",
        `Request bodies are limited to ${MAX_BODY_BYTES} bytes (this API reads none)`,
      );
      responses["414"] ??= problem(
        `URI too long: URLs over ${MAX_URL_LENGTH} characters are refused`,
        "uri-too-long",
        `The request URL is 5000 characters; at most ${MAX_URL_LENGTH} are accepted`,
      );
      if (config.apiToken && isPublicPath(path)) {
        operation.security = [];
      } else if (config.apiToken) {
        const unauthorized = problem(
          "Missing or wrong `Authorization: Bearer <API_TOKEN>` (or session cookie)",
          "unauthorized",
          "This service requires Authorization: Bearer <API_TOKEN>",
        );
        if (method === "get" && !path.startsWith("/coherence/")) {
          // A browser (Accept: text/html) gets the sign-in page instead.
          Object.assign(unauthorized.content, {
            "text/html": { schema: { type: "string" }, example: "<!doctype html>…sign-in form…" },
          });
        }
        responses["401"] ??= unauthorized;
      }
      for (const [status, response] of Object.entries(responses)) {
        if ("$ref" in response) continue;
        response.headers = {
          ...response.headers,
          "X-Request-ID": { $ref: "#/components/headers/X-Request-ID" },
        };
        const content: Record<string, { example?: unknown; examples?: unknown }> = response.content ?? {};
        for (const [type, media] of Object.entries(content)) {
          if ("example" in media || "examples" in media) continue;
          const example = examples(known.operationId, Number(status), type);
          if (example !== undefined) media.example = example;
        }
      }
    }
  }
  return document;
}
