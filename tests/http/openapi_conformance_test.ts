/**
 * Every real answer conforms to the published document: each response of every route (typical, empty-window,
 * edge and error cases) is checked against `/openapi.json` — the status and content type are documented for
 * the operation, and the body validates against the documented schema — with an independent JSON Schema
 * 2020-12 validator (ajv's 2020 build + ajv-formats), not with the zod schemas that generated the document.
 */
import { equal, ok } from "node:assert/strict";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { fakeIngest, ingestCycle, series, T0, testAlerts, testApp, testConfig } from "../helpers.ts";

// ajv-formats is CommonJS: its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const TOKEN = "s3cret-token-for-tests";

const cycle: IngestCycle = ingestCycle();

const points = [
  ...series("alpha", T0, 90, (i) => 85 + (i % 5)),
  ...series("gamma", T0, 90, (i) => (i % 2 ? 95 : 36)),
  ...series("unit", T0, 5, (i) => 0.5 + i / 100),
  { signal: "zero", ts: T0, score: 0 },
  { signal: "zero", ts: T0 - 60_000, score: 0 },
  { signal: "one", ts: T0, score: 100 },
];

interface Operation {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { content?: Record<string, { schema?: unknown; example?: unknown }> }>;
}
// deno-lint-ignore no-explicit-any
type Document = any;

/** A validator for the document's schemas: refs `#/components/...` resolve inside the served document. */
function validatorFor(document: Document) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // OpenAPI's own keywords around and inside the schemas: annotations for a JSON Schema validator.
  ajv.addVocabulary(["example", "components", "discriminator", "xml", "externalDocs"]);
  const base = "urn:coherence-engine:openapi";
  ajv.addSchema({ $id: base, components: { schemas: document.components.schemas } });
  const cache = new Map<string, ValidateFunction>();
  return (schema: unknown): ValidateFunction => {
    const text = JSON.stringify(schema).replaceAll('"#/components/', `"${base}#/components/`);
    let validate = cache.get(text);
    if (validate === undefined) {
      validate = ajv.compile(JSON.parse(text));
      cache.set(text, validate);
    }
    return validate;
  };
}

/** The operation documenting `method path`, matching templates such as `/static/{name}`. */
function operationOf(document: Document, method: string, path: string): Operation | undefined {
  for (const [template, item] of Object.entries<Record<string, Operation>>(document.paths)) {
    const pattern = new RegExp(
      "^" + template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+") + "$",
    );
    if (pattern.test(path)) return item[method.toLowerCase()];
  }
  return undefined;
}

type Case = { method?: string; path: string; headers?: Record<string, string>; status: number };

/** Requests `c` and checks the answer against the document; returns the parsed body when JSON. */
async function conforms(
  app: ReturnType<typeof testApp>["app"],
  document: Document,
  validate: ReturnType<typeof validatorFor>,
  c: Case,
) {
  const method = c.method ?? "GET";
  const res = await app.request(c.path, { method, headers: c.headers });
  const label = `${method} ${c.path}`;
  equal(res.status, c.status, `${label}: status`);
  const text = await res.text();
  const type = (res.headers.get("content-type") ?? "").split(";")[0].trim();
  const path = new URL(c.path, "http://x").pathname;
  const operation = operationOf(document, method === "HEAD" ? "HEAD" : method, path);
  // Answers no operation can document (a 404 for an unknown path, a 405 for a method a route does not
  // answer) are problems: they must match the Problem schema.
  const documented = operation?.responses[String(c.status)];
  if (operation === undefined || documented === undefined) {
    ok(c.status === 404 || c.status === 405, `${label}: ${c.status} is not documented`);
    equal(type, "application/problem+json", label);
    const validateProblem = validate({ $ref: "#/components/schemas/Problem" });
    ok(validateProblem(JSON.parse(text)), `${label}: ${JSON.stringify(validateProblem.errors)}`);
    return;
  }
  if (documented.content === undefined) {
    equal(text, "", `${label}: a response documented without content has no body`);
    return;
  }
  const media = Object.entries(documented.content).find(([name]) => name.split(";")[0].trim() === type);
  ok(media !== undefined, `${label}: content type ${type} is not documented for ${c.status}`);
  if (method === "HEAD") return;
  if (type.endsWith("json")) {
    ok(!/NaN|Infinity/.test(text), `${label}: no NaN or Infinity`);
    const check = validate(media[1].schema);
    const body: { status?: number } = JSON.parse(text);
    ok(check(body), `${label}: ${JSON.stringify(check.errors, null, 2)}\n${text.slice(0, 2000)}`);
    if (type === "application/problem+json") equal(body.status, res.status, `${label}: problem status`);
  } else {
    const check = validate(media[1].schema);
    ok(check(text), `${label}: ${JSON.stringify(check.errors)}`);
  }
}

const DATA_CASES: Case[] = [
  { path: "/health", status: 200 },
  { path: "/status", status: 200 },
  { path: "/coherence/signals", status: 200 },
  { path: "/coherence/metrics", status: 200 },
  { path: "/coherence/metrics?window=24h", status: 200 },
  { path: "/coherence/metrics?signal=alpha&window=30s", status: 200 },
  { path: "/coherence/metrics?window=30s", status: 200 },
  { path: "/coherence/metrics?signal=alpha&end=2020-01-01T00:00:00Z", status: 200 },
  { path: "/coherence/metrics?signal=gamma&window=1h", status: 200 },
  { path: "/coherence/metrics?signal=unit&window=1h", status: 200 },
  { path: "/coherence/metrics?signal=zero&window=1h", status: 200 },
  { path: "/coherence/metrics?signal=one&window=1h", status: 200 },
  { path: "/coherence/metrics?signal=*&end=1761757380", status: 200 },
  { path: "/coherence/predict?window=5m", status: 200 },
  { path: "/coherence/predict?window=30s&end=2020-01-01T00:00:00Z", status: 200 },
  { path: "/coherence/series", status: 200 },
  { path: "/coherence/series?signal=gamma&window=5m&points=50", status: 200 },
  { path: "/coherence/series?window=30s&from=2020-01-01T00:00:00Z&to=2020-01-01T00:10:00Z", status: 200 },
  { path: "/coherence/series?to=2025-10-29T16:00:00.250Z&points=2", status: 200 },
  { path: "/coherence/history?signal=alpha&window=1h", status: 200 },
  { path: "/coherence/history", status: 200 },
  { path: "/coherence/history?store=csv", status: 200 },
  { path: "/coherence/history?store=none", status: 200 },
  { path: "/coherence/history?signal=alpha&since=2030-01-01T00:00:00Z", status: 200 },
  { path: "/coherence/alerts", status: 200 },
  { path: "/coherence/alerts?signal=gamma&window=1h&state=active&limit=1", status: 200 },
  { path: "/coherence/alerts?state=pending", status: 200 },
  { path: "/coherence/transitions", status: 200 },
  { path: "/coherence/transitions?signal=*&window=24h&since=2020-01-01T00:00:00Z&limit=5", status: 200 },
  { path: "/metrics", status: 200 },
  { path: "/openapi.json", status: 200 },
  { path: "/docs", status: 200 },
  { path: "/docs/assets/docs.js", status: 200 },
  { path: "/docs/assets/nope.js", status: 404 },
  { path: "/", status: 200 },
  { path: "/?signal=nope&window=bad", status: 200 },
  { path: "/static/page.css", status: 200 },
  { method: "HEAD", path: "/static/page.css", status: 200 },
  { path: "/static/page.css", headers: { "If-None-Match": "*" }, status: 304 },
  { path: "/static/nope.css", status: 404 },
  // 400s
  { path: "/coherence/metrics?window=bad", status: 400 },
  { path: "/coherence/metrics?window=0s", status: 400 },
  { path: "/coherence/metrics?window=999d", status: 400 },
  { path: "/coherence/metrics?end=never", status: 400 },
  { path: "/coherence/metrics?window=" + "9".repeat(40), status: 400 },
  { path: "/coherence/predict?window=bad", status: 400 },
  { path: "/coherence/series?points=0", status: 400 },
  { path: "/coherence/series?points=abc", status: 400 },
  { path: "/coherence/series?from=2025-10-29T17:00:00Z&to=2025-10-29T16:00:00Z", status: 400 },
  { path: "/coherence/history?limit=0", status: 400 },
  { path: "/coherence/history?store=paper", status: 400 },
  { path: "/coherence/history?since=never", status: 400 },
  { path: "/coherence/alerts?state=bad", status: 400 },
  { path: "/coherence/alerts?limit=0", status: 400 },
  { path: "/coherence/transitions?limit=1001", status: 400 },
  { path: "/coherence/transitions?since=never", status: 400 },
  // 404s
  { path: "/coherence/metrics?signal=nobody", status: 404 },
  { path: "/coherence/predict?signal=nobody", status: 404 },
  { path: "/coherence/series?signal=nobody", status: 404 },
  { path: "/coherence/history?signal=nobody", status: 404 },
  { path: "/coherence/alerts?signal=nobody", status: 404 },
  { path: "/coherence/transitions?signal=nobody", status: 404 },
  { path: "/missing", status: 404 },
  // 405s
  { method: "POST", path: "/coherence/metrics", status: 405 },
  { method: "DELETE", path: "/health", status: 405 },
  { method: "PUT", path: "/metrics", status: 405 },
  { method: "POST", path: "/docs", status: 405 },
  { method: "POST", path: "/static/page.css", status: 405 },
  { method: "POST", path: "/", status: 405 },
  // 413, 414
  { method: "GET", path: "/coherence/metrics", headers: { "Content-Length": "999999" }, status: 413 },
  { path: "/coherence/metrics?window=1h&x=" + "a".repeat(5000), status: 414 },
];

const AUTH_CASES: Case[] = [
  { path: "/health", status: 200 },
  { path: "/coherence/metrics", status: 401 },
  { path: "/coherence/metrics", headers: { Authorization: "Bearer wrong" }, status: 401 },
  { path: "/coherence/metrics", headers: { Authorization: `Bearer ${TOKEN}` }, status: 200 },
  { path: "/status", status: 401 },
  { path: "/metrics", status: 401 },
  { path: "/", headers: { Accept: "text/html" }, status: 401 },
  { path: "/openapi.json", headers: { Authorization: `Bearer ${TOKEN}` }, status: 200 },
  { path: "/static/page.css", status: 200 },
  {
    method: "POST",
    path: "/auth/login",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "11" },
    status: 401,
  },
  { method: "POST", path: "/auth/logout", status: 303 },
];

async function documentOf(app: ReturnType<typeof testApp>["app"], headers: Record<string, string> = {}) {
  const res = await app.request("/openapi.json", { headers });
  equal(res.status, 200);
  return await res.json();
}

Deno.test("every answer of every route conforms to /openapi.json (ajv, JSON Schema 2020-12)", async () => {
  const snapshots = openSqliteStore(":memory:");
  const ends = [0, 1, 2, 3].map((i) => T0 - (3 - i) * 60_000);
  const alerts = await testAlerts(points, testConfig({ PERSISTENCE: "sqlite" }), ends);
  const { app, snapshotter } = testApp({
    points,
    snapshots,
    env: { PERSISTENCE: "sqlite" },
    ingest: fakeIngest([cycle], T0 - 86_400_000),
    alerts,
  });
  try {
    await snapshotter.afterCycle();
    const document = await documentOf(app);
    const validate = validatorFor(document);
    for (const c of DATA_CASES) await conforms(app, document, validate, c);
  } finally {
    await snapshots.close();
  }
});

Deno.test("with API_TOKEN, the 401s, the open routes and sign-in conform to /openapi.json", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  const document = await documentOf(app, { Authorization: `Bearer ${TOKEN}` });
  const validate = validatorFor(document);
  for (const c of AUTH_CASES) {
    if (c.path === "/auth/login") {
      const res = await app.request(c.path, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "token=wrong",
      });
      equal(res.status, 401);
      await res.body?.cancel();
      continue;
    }
    await conforms(app, document, validate, c);
  }
});

Deno.test("a null nearestBoundary (empty window) is valid under the published Explain schema", async () => {
  const { app } = testApp({ points });
  const document = await documentOf(app);
  const body = await (await app.request("/coherence/metrics?window=30s&end=2020-01-01T00:00:00Z")).json();
  equal(body.explain.nearestBoundary, null);
  const check = validatorFor(document)({ $ref: "#/components/schemas/Explain" });
  ok(check(body.explain), JSON.stringify(check.errors));
});

Deno.test("every documented example validates against the schema it illustrates", async () => {
  for (const env of [{}, { API_TOKEN: TOKEN }] as Record<string, string>[]) {
    const { app } = testApp({ points, env });
    const document = await documentOf(app, { Authorization: `Bearer ${TOKEN}` });
    const validate = validatorFor(document);
    for (const [path, item] of Object.entries<Record<string, Operation>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          for (const [type, media] of Object.entries(response.content ?? {})) {
            const label = `${method} ${path} ${status} ${type}`;
            ok(media.example !== undefined, `${label}: has an example`);
            const check = validate(media.schema);
            ok(check(media.example), `${label}: ${JSON.stringify(check.errors)}`);
          }
        }
      }
    }
  }
});

Deno.test("every operation has an operationId (unique) and a declared tag; servers, license and security are set", async () => {
  for (const env of [{}, { API_TOKEN: TOKEN }] as Record<string, string>[]) {
    const { app } = testApp({ points, env });
    const document = await documentOf(app, { Authorization: `Bearer ${TOKEN}` });
    const declared = new Set(document.tags.map((t: { name: string }) => t.name));
    const ids = new Set<string>();
    for (const [path, item] of Object.entries<Record<string, Operation>>(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        ok(operation.operationId, `${method} ${path}: operationId`);
        ok(!ids.has(operation.operationId), `${operation.operationId} is unique`);
        ids.add(operation.operationId);
        ok((operation.tags ?? []).length > 0, `${method} ${path}: tag`);
        if (!path.startsWith("/auth/")) {
          ok(Object.keys(operation.responses).some((s) => s.startsWith("2")), `${method} ${path}: a 2xx`);
        }
        for (const tag of operation.tags ?? []) ok(declared.has(tag), `${tag} is declared`);
      }
    }
    equal(document.servers[0].url, "/");
    ok(document.info.license.name);
    if ("API_TOKEN" in env) {
      equal(document.components.securitySchemes.bearerAuth.scheme, "bearer");
      ok(document.security.some((s: Record<string, unknown>) => "bearerAuth" in s));
      equal(document.paths["/health"].get.security.length, 0, "/health is open");
      equal(document.paths["/static/{name}"].get.security.length, 0, "/static/* is open");
    } else {
      equal(document.security.length, 0, "no security without API_TOKEN");
    }
  }
});
