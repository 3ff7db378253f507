/** `/docs`: self-hosted Swagger UI, the vendored copy kept equal to the pinned npm package, a strict CSP. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { DOCS_ASSETS } from "../../src/http/docs_routes.ts";
import { staleFiles, VENDORED_FILES } from "../../scripts/vendor_swagger_ui.ts";
import { testApp } from "../helpers.ts";
import { initialState, replay, step } from "../../src/core/alerts.ts";
import { DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";

Deno.test("static/vendor/swagger-ui is byte-identical to the pinned swagger-ui-dist (deno task vendor:swagger-ui)", async () => {
  deepEqual(await staleFiles(), []);
  ok(VENDORED_FILES.includes("LICENSE"), "the licence travels with the copy");
});

Deno.test("GET /docs is a page that loads only same-origin, versioned assets and no inline script", async () => {
  const { app } = testApp();
  const response = await app.request("/docs");
  equal(response.status, 200);
  const csp = response.headers.get("content-security-policy") ?? "";
  match(csp, /script-src 'self'(;|$)/);
  match(csp, /default-src 'self'/);
  const html = await response.text();
  const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  ok(sources.length >= 3);
  for (const source of sources) ok(source.startsWith("/"), `same-origin: ${source}`);
  for (const [, attributes, body] of html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
    ok(attributes.includes("src="), "every script is a file");
    equal(body.trim(), "", "no inline script");
  }
  for (const name of Object.keys(DOCS_ASSETS)) {
    match(html, new RegExp(`/docs/assets/${name.replace(".", "\\.")}\\?v=[0-9a-f]{16}`));
  }
});

Deno.test("GET /docs/assets/* serve with their type, immutable when versioned, gzip on request, 404 otherwise", async () => {
  const { app } = testApp();
  const html = await (await app.request("/docs")).text();
  const versioned = /\/docs\/assets\/swagger-ui-bundle\.js\?v=[0-9a-f]+/.exec(html)![0];
  const plain = await app.request(versioned);
  equal(plain.status, 200);
  equal(plain.headers.get("content-type"), "text/javascript; charset=utf-8");
  equal(plain.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const size = (await plain.arrayBuffer()).byteLength;
  ok(size > 1_000_000, `${size} bytes`);
  const gzipped = await app.request(versioned, { headers: { "Accept-Encoding": "gzip" } });
  equal(gzipped.headers.get("content-encoding"), "gzip");
  const compressed = (await gzipped.arrayBuffer()).byteLength;
  ok(compressed < size / 2, `${compressed} gzip bytes`);
  const unversioned = await app.request("/docs/assets/docs.js");
  equal(unversioned.headers.get("cache-control"), "public, max-age=0, must-revalidate");
  const etag = unversioned.headers.get("etag")!;
  await unversioned.body?.cancel();
  equal((await app.request("/docs/assets/docs.js", { headers: { "If-None-Match": etag } })).status, 304);
  const missing = await app.request("/docs/assets/../../deno.json");
  equal(missing.status, 404);
  const unknown = await app.request("/docs/assets/LICENSE");
  equal(unknown.status, 404);
  equal(unknown.headers.get("content-type"), "application/problem+json");
});

Deno.test("GET /openapi.json is OpenAPI 3.1 with the engine version, and documents the bearer scheme only with API_TOKEN", async () => {
  const plain = await (await testApp().app.request("/openapi.json")).json();
  equal(plain.openapi, "3.1.0");
  equal(plain.info.version, "0.1.0");
  equal(plain.components.securitySchemes, undefined);
  const guarded = await (await testApp({ env: { API_TOKEN: "t0k3n" } }).app.request("/openapi.json", {
    headers: { Authorization: "Bearer t0k3n" },
  })).json();
  equal(guarded.components.securitySchemes.bearerAuth.scheme, "bearer");
  deepEqual(guarded.paths["/health"].get.security, [], "/health is open: security []");
  // Protected operations inherit the document's global security.
  deepEqual(guarded.security, [{ bearerAuth: [] }, { sessionCookie: [] }]);
  equal(guarded.paths["/coherence/metrics"].get.security, undefined);
  ok(!JSON.stringify(guarded).includes("t0k3n"), "the token never appears");
});

Deno.test("README shows docs/alertmanager.yml verbatim (the example that routes severity=high)", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const example = await Deno.readTextFile(new URL("../../docs/alertmanager.yml", import.meta.url));
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
  ok(blocks.includes(example), "the README's yaml block equals docs/alertmanager.yml");
  ok(example.includes('severity = "high"'));
});

Deno.test("docs/METRICS.md's alert worked example is what replay() gives", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/METRICS.md", import.meta.url));
  const section = doc.slice(doc.indexOf("## Alerts: pending and recovery margin"));
  const rows = [...section.matchAll(/^\| (\d\d:\d\d) +\| ([\d.]+) +\|(.*)\|$/gm)].map((m) => ({
    at: m[1],
    mean: Number(m[2]),
    cells: m[3].split("|").map((c) => c.trim()),
  }));
  equal(rows.length, 9);
  const key = { signal: "alpha", windowSec: 3600 };
  const settings = { forMs: 120_000, recoveryMargin: 1, thresholds: DEFAULT_THRESHOLDS };
  const evaluations = rows.map((r) => ({
    ...key,
    atMs: Date.parse(`2025-10-29T${r.at}:00Z`),
    summary: { n: 60, mean: r.mean, stdev: 2, volatilityIndex: 2 / r.mean },
  }));
  let state = initialState(key);
  for (const [i, evaluation] of evaluations.entries()) {
    const result = step(state, evaluation, settings);
    state = result.state;
    const pending = state.pending === null
      ? "—"
      : `${state.pending.level} since ${new Date(state.pending.sinceMs).toISOString().slice(11, 16)}`;
    const transition = result.transition ? `${result.transition.from} → ${result.transition.to}` : "";
    deepEqual(
      rows[i].cells,
      [state.evaluated!.level, state.evaluated!.candidate, state.level, pending, transition],
      rows[i].at,
    );
  }
  equal(replay(key, evaluations, settings).transitions.length, 2);
});
