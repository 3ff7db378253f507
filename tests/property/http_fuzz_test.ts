/** HTTP fuzz: any query parameters on any route give a 2xx or a 4xx problem+json, never a 5xx. */
import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { ProblemSchema } from "../../src/schemas.ts";
import { series, T0, testApp } from "../helpers.ts";

const ROUTES = [
  "/health",
  "/status",
  "/coherence/metrics",
  "/coherence/predict",
  "/coherence/signals",
  "/coherence/series",
  "/coherence/history",
  "/",
  "/metrics",
  "/openapi.json",
  "/docs",
  "/static/page.css",
];
const NAMES = ["window", "signal", "end", "from", "to", "points", "since", "limit", "store", "x"];

const interesting = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "1h",
    "0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "99999999999999999999d",
    "*",
    "alpha",
    "2025-10-29T17:00:00Z",
    "2025-02-30T00:00:00Z",
    "9".repeat(30),
    "%00",
    "../../etc/passwd",
    "'; DROP TABLE rolling_metrics; --",
    "<script>",
    "1000",
    "1001",
    "sqlite",
    "csv",
    "kv",
  ),
  fc.integer().map(String),
  fc.double().map(String),
);

Deno.test("every route answers any query parameters without a 5xx, with problem+json for every error", async () => {
  const { app } = testApp({ points: series("alpha", T0, 120, (i) => 80 + (i % 7)) });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...ROUTES),
      fc.array(fc.tuple(fc.constantFrom(...NAMES), interesting), { maxLength: 5 }),
      async (route, params) => {
        const query = new URLSearchParams(params).toString();
        const res = await app.request(`${route}?${query}`);
        ok(res.status < 500, `${route}?${query} → ${res.status}`);
        // "/" is the HTML page: a bad selection falls back to the defaults there, so it has no problem+json.
        if (res.status >= 400 && route !== "/") {
          equal(res.headers.get("content-type"), "application/problem+json", `${route}?${query}`);
          const body = ProblemSchema.parse(await res.json());
          equal(body.status, res.status);
        } else {
          await res.body?.cancel();
        }
      },
    ),
    { numRuns: 3000 },
  );
});
