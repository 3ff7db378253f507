/**
 * `/openapi.json` covers exactly the routes the app serves (walking `app.routes`), with and without API_TOKEN,
 * and every documented response — each status and media type of each operation — is produced by a real
 * request whose body validates against both the zod schema the route declares and the JSON Schema the
 * document publishes for it.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { z } from "zod";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import type { SnapshotStore } from "../../src/persistence/snapshot.ts";
import { ProblemSchema } from "../../src/schemas.ts";
import { series, T0, testAlerts, testApp, testConfig } from "../helpers.ts";

const TOKEN = "docs-test-token";
const points = [
  ...series("alpha", T0, 90, (i) => 85 + (i % 5)),
  ...series("beta", T0, 90, (i) => (i % 2 ? 95 : 30)),
];

function brokenStore(): SnapshotStore {
  return {
    mode: "sqlite",
    location: "/broken/rolling_store.db",
    append: () => Promise.resolve(),
    history: () => Promise.reject(new Error("disk I/O error")),
    prune: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}

async function apps() {
  const alerts = await testAlerts(points, testConfig(), [T0 - 120_000, T0 - 60_000, T0]);
  const main = testApp({ points, snapshots: openSqliteStore(":memory:"), alerts });
  await main.snapshotter.afterCycle();
  const brokenAlerts = {
    ...alerts,
    transitions: { list: () => Promise.reject(new Error("disk I/O error")) },
  };
  return {
    main: main.app,
    token: testApp({ points, env: { API_TOKEN: TOKEN }, alerts }).app,
    broken: testApp({ points, snapshots: brokenStore(), alerts: brokenAlerts }).app,
  };
}
type AppName = keyof Awaited<ReturnType<typeof apps>>;

type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};
type Operation = {
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
  security?: unknown[];
};

async function documentOf(app: Awaited<ReturnType<typeof apps>>["main"], auth = false): Promise<Document> {
  const headers: Record<string, string> = auth ? { Authorization: `Bearer ${TOKEN}` } : {};
  return await (await app.request("/openapi.json", { headers })).json();
}

/** `(METHOD, /path/{param})` of every route the app serves, middleware excluded. */
function servedRoutes(app: { routes: { method: string; path: string }[] }): string[] {
  return [
    ...new Set(
      app.routes.filter((r) => r.method !== "ALL").map((r) =>
        `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`
      ),
    ),
  ].sort();
}

function documentedRoutes(document: Document): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

Deno.test("/openapi.json documents exactly the routes the app serves, with and without API_TOKEN", async () => {
  const { main, token } = await apps();
  const plain = await documentOf(main);
  equal(plain.openapi, "3.1.0");
  deepEqual(documentedRoutes(plain), servedRoutes(main));
  const guarded = await documentOf(token, true);
  deepEqual(documentedRoutes(guarded), servedRoutes(token));
  ok(documentedRoutes(guarded).includes("POST /auth/login"));
  for (const required of ["GET /metrics", "GET /", "GET /static/{name}", "GET /docs", "GET /openapi.json"]) {
    ok(documentedRoutes(plain).includes(required), required);
  }
});

Deno.test("/openapi.json references only schemas it defines, and documents the request-id header", async () => {
  const { main } = await apps();
  const document = await documentOf(main);
  const text = JSON.stringify(document);
  for (const [, kind, name] of text.matchAll(/"#\/components\/(\w+)\/([^"]+)"/g)) {
    ok((document.components as Record<string, Record<string, unknown>>)[kind]?.[name], `${kind}/${name}`);
  }
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses)) {
        ok(JSON.stringify(response).includes("#/components/headers/X-Request-ID"));
      }
    }
  }
});

/** A real request that must produce one documented response. */
interface Probe {
  app?: AppName;
  path: string;
  init?: RequestInit;
}

const BIG_URL_PAD = "?pad=" + "x".repeat(5000);

/** One probe per documented `METHOD path status media` (media "" for a response without content). */
function probes(document: Document, appName: AppName): Map<string, Probe> {
  const specific: Record<string, Probe> = {
    "GET /health 200 application/json": { path: "/health" },
    "GET /status 200 application/json": { path: "/status" },
    "GET /coherence/metrics 200 application/json": { path: "/coherence/metrics?signal=alpha&window=1h" },
    "GET /coherence/metrics 400 application/problem+json": { path: "/coherence/metrics?window=5x" },
    "GET /coherence/metrics 404 application/problem+json": { path: "/coherence/metrics?signal=nope" },
    "GET /coherence/predict 200 application/json": { path: "/coherence/predict?window=24h" },
    "GET /coherence/predict 400 application/problem+json": { path: "/coherence/predict?end=soon" },
    "GET /coherence/predict 404 application/problem+json": { path: "/coherence/predict?signal=nope" },
    "GET /coherence/predict/backtest 200 application/json": { path: "/coherence/predict/backtest?window=1h" },
    "GET /coherence/predict/backtest 400 application/problem+json": {
      path: "/coherence/predict/backtest?points=0",
    },
    "GET /coherence/predict/backtest 404 application/problem+json": {
      path: "/coherence/predict/backtest?signal=nope",
    },
    "GET /coherence/series 200 application/json": { path: "/coherence/series?signal=beta&points=10" },
    "GET /coherence/series 400 application/problem+json": { path: "/coherence/series?points=1" },
    "GET /coherence/series 404 application/problem+json": { path: "/coherence/series?signal=nope" },
    "GET /coherence/signals 200 application/json": { path: "/coherence/signals" },
    "GET /coherence/history 200 application/json": { path: "/coherence/history?signal=alpha&window=1h" },
    "GET /coherence/history 400 application/problem+json": { path: "/coherence/history?limit=0" },
    "GET /coherence/history 404 application/problem+json": { path: "/coherence/history?signal=nope" },
    "GET /coherence/history 503 application/problem+json": { app: "broken", path: "/coherence/history" },
    "GET /coherence/alerts 200 application/json": { path: "/coherence/alerts?state=active" },
    "GET /coherence/alerts 400 application/problem+json": { path: "/coherence/alerts?state=bad" },
    "GET /coherence/alerts 404 application/problem+json": { path: "/coherence/alerts?signal=nope" },
    "GET /coherence/transitions 200 application/json": { path: "/coherence/transitions?signal=beta" },
    "GET /coherence/transitions 400 application/problem+json": { path: "/coherence/transitions?limit=0" },
    "GET /coherence/transitions 404 application/problem+json": { path: "/coherence/transitions?signal=nope" },
    "GET /coherence/transitions 503 application/problem+json": {
      app: "broken",
      path: "/coherence/transitions",
    },
    "GET /metrics 200 text/plain; version=0.0.4; charset=utf-8": { path: "/metrics" },
    "GET /openapi.json 200 application/json": { path: "/openapi.json" },
    "GET /docs 200 text/html": { path: "/docs" },
    "GET /docs/assets/{name} 200 text/javascript": { path: "/docs/assets/docs.js" },
    "GET /docs/assets/{name} 200 text/css": { path: "/docs/assets/swagger-ui.css" },
    "GET /docs/assets/{name} 304 ": {
      path: "/docs/assets/docs.js",
      init: { headers: { "If-None-Match": "*" } },
    },
    "GET /docs/assets/{name} 404 application/problem+json": { path: "/docs/assets/nope.js" },
    "GET / 200 text/html": { path: "/?signal=alpha&window=1h" },
    "GET /static/{name} 200 text/javascript": { path: "/static/islands.js" },
    "GET /static/{name} 200 text/css": { path: "/static/page.css" },
    "GET /static/{name} 200 image/svg+xml": { path: "/static/favicon.svg" },
    "GET /static/{name} 304 ": { path: "/static/page.css", init: { headers: { "If-None-Match": "*" } } },
    "GET /static/{name} 404 application/problem+json": { path: "/static/nope.css" },
    "HEAD /static/{name} 200 text/javascript": { path: "/static/islands.js", init: { method: "HEAD" } },
    "HEAD /static/{name} 200 text/css": { path: "/static/page.css", init: { method: "HEAD" } },
    "HEAD /static/{name} 200 image/svg+xml": { path: "/static/favicon.svg", init: { method: "HEAD" } },
    "HEAD /static/{name} 304 ": {
      path: "/static/page.css",
      init: { method: "HEAD", headers: { "If-None-Match": "*" } },
    },
    "HEAD /static/{name} 404 application/problem+json": {
      path: "/static/nope.css",
      init: { method: "HEAD" },
    },
    "POST /auth/login 303 ": { path: "/auth/login", init: form({ token: TOKEN, next: "/docs" }) },
    "POST /auth/login 401 text/html": { path: "/auth/login", init: form({ token: "wrong" }) },
    "POST /auth/logout 303 ": { path: "/auth/logout", init: { method: "POST" } },
  };
  const result = new Map<string, Probe>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const base = specific[
        `${method.toUpperCase()} ${path} 200 ${Object.keys(operation.responses["200"]?.content ?? {})[0]}`
      ] ??
        specific[`${method.toUpperCase()} ${path} 303 `];
      for (const [status, response] of Object.entries(operation.responses)) {
        for (const media of Object.keys(response.content ?? { "": null })) {
          const key = `${method.toUpperCase()} ${path} ${status} ${media}`;
          const init = { ...base?.init, method: method.toUpperCase() };
          if (specific[key]) result.set(key, { app: appName, ...specific[key] });
          else if (status === "413") {
            result.set(key, {
              app: appName,
              path: base.path,
              init: { ...init, headers: { "Content-Length": "99999" } },
            });
          } else if (status === "414") {
            result.set(key, { app: appName, path: base.path + BIG_URL_PAD, init });
          } else if (status === "401" && media === "application/problem+json") {
            result.set(key, {
              app: appName,
              path: base.path,
              init: { ...init, headers: { Authorization: "Bearer nope" } },
            });
          } else if (status === "401" && media === "text/html") {
            result.set(key, {
              app: appName,
              path: base.path,
              init: { ...init, headers: { Accept: "text/html" } },
            });
          } else throw new Error(`No probe for the documented response ${key}`);
        }
      }
    }
  }
  return result;
}

function form(fields: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  };
}

/** The zod schema a route declares for a response, from the app's OpenAPI registry (the document's source). */
function declaredSchema(
  app: Awaited<ReturnType<typeof apps>>["main"],
  method: string,
  path: string,
  status: string,
  media: string,
): z.ZodType | undefined {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const { route } = definition;
    if (route.method !== method || route.path !== path) continue;
    const response = route.responses[status];
    if (!response || "$ref" in response) return undefined;
    const schema = (response.content as Record<string, { schema?: unknown }> | undefined)?.[media]?.schema;
    return schema instanceof z.ZodType ? schema : undefined;
  }
  return undefined;
}

/** The document's own JSON Schema for a response, as a zod validator (its $refs resolved against components). */
function publishedSchema(document: Document, schema: unknown): z.ZodType {
  const rewrite = (value: unknown) =>
    JSON.parse(JSON.stringify(value).replaceAll("#/components/schemas/", "#/$defs/"));
  return z.fromJSONSchema({ ...rewrite(schema), $defs: rewrite(document.components.schemas) });
}

for (const variant of ["main", "token"] as const) {
  Deno.test(`every response /openapi.json documents${variant === "token" ? " with API_TOKEN" : ""} is produced by a real request and validates against its schemas`, async () => {
    const all = await apps();
    const app = all[variant];
    const authed = variant === "token";
    const document = await documentOf(app, authed);
    const checked: string[] = [];
    for (const [key, probe] of probes(document, variant)) {
      const [method, path, status, ...rest] = key.split(" ");
      const media = rest.join(" ");
      const headers = new Headers(probe.init?.headers);
      const wantsUnauthorized = status === "401";
      if (authed && !wantsUnauthorized && !headers.has("Authorization")) {
        headers.set("Authorization", `Bearer ${TOKEN}`);
      }
      const response = await all[probe.app ?? variant].request(probe.path, { ...probe.init, headers });
      equal(response.status, Number(status), `${key}: got ${response.status}`);
      ok(response.headers.get("x-request-id"), `${key}: X-Request-ID`);
      const contentType = response.headers.get("content-type") ?? "";
      if (media === "") {
        equal(await response.text(), "", `${key}: no body`);
      } else {
        ok(contentType.startsWith(media.split(";")[0]), `${key}: content-type ${contentType}`);
        const schema = document.paths[path][method.toLowerCase()].responses[status].content![media].schema;
        const text = await response.text();
        if (method === "HEAD") {
          equal(text, "", `${key}: HEAD has no body`);
        } else if (media.includes("json")) {
          const body = JSON.parse(text);
          const declared = declaredSchema(app, method.toLowerCase(), path, status, media) ??
            (media === "application/problem+json" ? ProblemSchema : undefined);
          ok(declared, `${key}: a zod schema is declared`);
          const parsed = declared.safeParse(body);
          ok(parsed.success, `${key}: zod: ${JSON.stringify(parsed.error?.issues?.slice(0, 3))}`);
          const published = publishedSchema(document, schema).safeParse(body);
          ok(
            published.success,
            `${key}: published schema: ${JSON.stringify(published.error?.issues?.slice(0, 3))}`,
          );
          if (media === "application/problem+json") {
            equal(body.status, Number(status), `${key}: problem status`);
          }
        } else {
          ok(publishedSchema(document, schema).safeParse(text).success, key);
          ok(text.length > 0, `${key}: a body`);
        }
      }
      checked.push(key);
    }
    ok(checked.length > 40, `${checked.length} responses checked`);
  });
}
