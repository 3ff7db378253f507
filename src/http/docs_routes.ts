/**
 * `GET /openapi.json` (OpenAPI 3.1, generated from the zod schemas the routes validate with) and `GET /docs`
 * (Swagger UI, served by the service itself from `static/vendor/`: no CDN, works offline and in the binary).
 *
 * The document lists every route the app serves: the zod-openapi routes register themselves; the plain Hono
 * routes (`/metrics`, `/docs`, `/openapi.json`, the page and its assets) are registered here by
 * {@linkcode registerPlainRoutes}. Problems every route can answer (413, 414 and, with `API_TOKEN`, 401) are
 * added to each operation, with the `X-Request-ID` header every response carries.
 */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { Hono } from "hono";
import { compress } from "hono/compress";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { STORE_MODES } from "../core/vocabulary.ts";
import { ProblemSchema } from "../schemas.ts";
import type { AppEnv } from "./app.ts";
import { SESSION_COOKIE } from "./auth.ts";
import { MAX_BODY_BYTES, MAX_URL_LENGTH } from "./middleware.ts";
import { problemBody, problemResponse } from "./problem.ts";

/** `static/vendor/` at the repository root, located from this module so `deno compile --include static` embeds it. */
export const VENDOR_DIR = join(import.meta.dirname ?? ".", "..", "..", "static", "vendor");

/** The files `/docs` needs, by the name they are served under (`/docs/assets/<name>`). */
export const DOCS_ASSETS: Readonly<Record<string, { file: string; contentType: string }>> = Object.freeze({
  "swagger-ui.css": { file: "swagger-ui/swagger-ui.css", contentType: "text/css; charset=utf-8" },
  "swagger-ui-bundle.js": {
    file: "swagger-ui/swagger-ui-bundle.js",
    contentType: "text/javascript; charset=utf-8",
  },
  "docs.js": { file: "docs.js", contentType: "text/javascript; charset=utf-8" },
});

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "public, max-age=0, must-revalidate";

type Api = OpenAPIHono<AppEnv>;
type OpenApiDocument = ReturnType<Api["getOpenAPI31Document"]>;

const problemContent = { "application/problem+json": { schema: ProblemSchema } };
const text = (description: string) => z.string().openapi({ description });

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
        401: {
          description: "Wrong token: the sign-in page again",
          content: { "text/html": { schema: text("HTML") } },
        },
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
    responses: { 200: { description: "HTML page", content: { "text/html": { schema: text("HTML") } } } },
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
    responses: {
      200: {
        description: "The asset",
        content: {
          "text/javascript": { schema: text("JavaScript") },
          "text/css": { schema: text("CSS") },
        },
      },
      304: { description: "Not modified (If-None-Match matched the ETag)" },
      404: { description: "No such asset", content: problemContent },
    },
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
    responses: { 200: { description: "HTML page", content: { "text/html": { schema: text("HTML") } } } },
  });
  for (const method of ["get", "head"] as const) {
    registry.registerPath({
      method,
      path: "/static/{name}",
      summary: "The verification page's assets (?v=<hash> URLs are immutable)",
      request: { params: z.object({ name: z.string().openapi({ example: "page.css" }) }) },
      responses: {
        200: {
          description: "The asset",
          content: {
            "text/javascript": { schema: text("JavaScript") },
            "text/css": { schema: text("CSS") },
            "image/svg+xml": { schema: text("SVG") },
          },
        },
        304: { description: "Not modified (If-None-Match matched the ETag)" },
        404: { description: "No such asset", content: problemContent },
      },
    });
  }
}

/** Paths that answer without API_TOKEN (see `auth.ts`). */
function isPublic(path: string): boolean {
  return path === "/health" || path.startsWith("/auth/") || path.startsWith("/static/");
}

/**
 * The OpenAPI 3.1 document of `api` as configured: every operation also documents the 413 and 414 problems,
 * the `X-Request-ID` request and response header, and — when `API_TOKEN` is set — the bearer scheme and 401.
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
  });
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
  const problem = (description: string) => ({
    description,
    content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
  });
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ["get", "head", "post", "put", "patch", "delete", "options"] as const) {
      const operation = item[method];
      if (operation === undefined) continue;
      operation.parameters = [...(operation.parameters ?? []), {
        $ref: "#/components/parameters/X-Request-ID",
      }];
      const responses = operation.responses ??= {};
      responses["413"] ??= problem(
        `Payload too large: bodies over ${MAX_BODY_BYTES} bytes (or chunked) are refused; the API reads none`,
      );
      responses["414"] ??= problem(`URI too long: URLs over ${MAX_URL_LENGTH} characters are refused`);
      if (config.apiToken && !isPublic(path)) {
        operation.security = [{ bearerAuth: [] }, { sessionCookie: [] }];
        const unauthorized = problem(
          "Missing or wrong `Authorization: Bearer <API_TOKEN>` (or session cookie)",
        );
        if (method === "get" && !path.startsWith("/coherence/")) {
          // A browser (Accept: text/html) gets the sign-in page instead.
          Object.assign(unauthorized.content, { "text/html": { schema: { type: "string" } } });
        }
        responses["401"] ??= unauthorized;
      }
      for (const response of Object.values(responses)) {
        if ("$ref" in response) continue;
        response.headers = {
          ...response.headers,
          "X-Request-ID": { $ref: "#/components/headers/X-Request-ID" },
        };
      }
    }
  }
  return document;
}

interface LoadedAsset {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
  hash: string;
  etag: string;
}

export interface DocsOptions {
  api: Api;
  config: Config;
  dir?: string;
  readFile?: (path: string) => Promise<Uint8Array<ArrayBuffer>>;
}

/** `/openapi.json`, `/docs` and `/docs/assets/:name`. */
export function docsRoutes(
  { api, config, dir = VENDOR_DIR, readFile = Deno.readFile }: DocsOptions,
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let document: OpenApiDocument | null = null;
  const loaded = new Map<string, Promise<LoadedAsset | null>>();

  function asset(name: string): Promise<LoadedAsset | null> {
    const entry = Object.hasOwn(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
    if (entry === undefined) return Promise.resolve(null);
    let promise = loaded.get(name);
    if (promise === undefined) {
      promise = (async () => {
        try {
          const body = await readFile(join(dir, entry.file));
          const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
          const hash = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
          return { body, contentType: entry.contentType, hash, etag: `"${hash}"` };
        } catch (error) {
          loaded.delete(name);
          if (error instanceof Deno.errors.NotFound) return null;
          throw error;
        }
      })();
      loaded.set(name, promise);
    }
    return promise;
  }

  async function assetUrl(name: string): Promise<string> {
    const loadedAsset = await asset(name);
    return loadedAsset ? `/docs/assets/${name}?v=${loadedAsset.hash}` : `/docs/assets/${name}`;
  }

  app.get("/openapi.json", (c) => {
    // Built on first use, when every route is registered; the app's routes never change afterwards.
    document ??= openApiDocument(api, config);
    return c.json(document, 200, { "Cache-Control": "no-cache" });
  });

  app.get("/docs", async (c) => {
    const [css, bundle, init] = await Promise.all(
      ["swagger-ui.css", "swagger-ui-bundle.js", "docs.js"].map(assetUrl),
    );
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Coherence Engine API ${escapeHtml(config.engineVersion)}</title>
<link rel="stylesheet" href="${css}">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-url="/openapi.json"></div>
<script src="${bundle}"></script>
<script src="${init}"></script>
</body>
</html>
`;
    return c.html(html, 200, { "Cache-Control": "no-cache" });
  });

  app.use("/docs/assets/*", compress());
  app.get("/docs/assets/:name", async (c) => {
    const name = c.req.param("name");
    const found = await asset(name);
    if (found === null) {
      return problemResponse(
        c,
        problemBody("not-found", `No docs asset "${name}"`, { requestId: c.get("requestId") }),
      );
    }
    const headers: Record<string, string> = {
      "Content-Type": found.contentType,
      "Cache-Control": c.req.query("v") === found.hash ? IMMUTABLE : REVALIDATE,
      ETag: found.etag,
      "X-Content-Type-Options": "nosniff",
    };
    const ifNoneMatch = c.req.header("If-None-Match");
    const tags = ifNoneMatch?.split(",").map((tag) => tag.trim().replace(/^W\//, "")) ?? [];
    if (tags.some((tag) => tag === "*" || tag === found.etag)) {
      delete headers["Content-Type"];
      return c.body(null, 304, headers);
    }
    return c.body(found.body, 200, headers);
  });

  return app;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
