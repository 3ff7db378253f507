/** Wrong methods on known routes are 405 with `Allow`; unknown signals are 404 on every route taking `signal`. */
import { equal, match } from "node:assert/strict";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import { ProblemSchema } from "../../src/schemas.ts";
import { series, T0, testApp } from "../helpers.ts";

const points = series("alpha", T0, 30, (i) => 85 + (i % 5));

Deno.test("a wrong method on every known route is a 405 method-not-allowed problem with Allow", async () => {
  const { app } = testApp({ points });
  const cases: [string, string][] = [
    ["POST", "/coherence/metrics"],
    ["DELETE", "/coherence/predict"],
    ["PUT", "/coherence/series"],
    ["POST", "/coherence/signals"],
    ["PATCH", "/coherence/history"],
    ["POST", "/health"],
    ["POST", "/status"],
    ["POST", "/metrics"],
    ["POST", "/openapi.json"],
    ["DELETE", "/docs"],
    ["POST", "/docs/assets/docs.js"],
    ["POST", "/static/page.css"],
    ["PUT", "/static/anything.js"],
    ["POST", "/"],
    ["OPTIONS", "/coherence/metrics"],
  ];
  for (const [method, path] of cases) {
    const res = await app.request(path, { method });
    equal(res.status, 405, `${method} ${path}`);
    equal(res.headers.get("allow"), "GET, HEAD", `${method} ${path}`);
    equal(res.headers.get("content-type"), "application/problem+json");
    const body = ProblemSchema.parse(await res.json());
    equal(body.type, `${PROBLEM_BASE}method-not-allowed`);
    equal(body.status, 405);
    match(body.detail, new RegExp(`answers GET, HEAD, not ${method}`));
  }
});

Deno.test("with API_TOKEN, sign-in answers only POST: GET /auth/login is a 405 with Allow: POST", async () => {
  const { app } = testApp({ env: { API_TOKEN: "s3cret" } });
  const res = await app.request("/auth/login");
  equal(res.status, 405);
  equal(res.headers.get("allow"), "POST");
});

Deno.test("an unknown path is still a 404 not-found, and a known method is never a 405", async () => {
  const { app } = testApp({ points });
  const res = await app.request("/coherence/nothing", { method: "POST" });
  equal(res.status, 404);
  equal(ProblemSchema.parse(await res.json()).type, `${PROBLEM_BASE}not-found`);
  equal((await app.request("/coherence/metrics", { method: "HEAD" })).status, 200);
});

Deno.test("an unknown signal is a 404 unknown-signal problem on every route that takes signal", async () => {
  const { app } = testApp({ points });
  for (const route of ["metrics", "predict", "series", "history"]) {
    const res = await app.request(`/coherence/${route}?signal=nope`);
    equal(res.status, 404, route);
    const body = ProblemSchema.parse(await res.json());
    equal(body.type, `${PROBLEM_BASE}unknown-signal`, route);
    match(body.detail, /Unknown signal "nope": known signals are alpha/);
  }
});

Deno.test("the page falls back to all signals with a notice for an unknown signal (not a 404)", async () => {
  const { app } = testApp({ points });
  const res = await app.request("/?signal=nope");
  equal(res.status, 200);
  match(await res.text(), /nope/);
});
