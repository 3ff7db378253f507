import { deepEqual, equal, match, ok } from "node:assert/strict";
import { momentsOf } from "../../src/core/stats.ts";
import { captureLogs, fakeIngest, series, T0, testApp } from "../helpers.ts";

const alpha = series("alpha", T0, 120, (i) => 85 + (i % 5)); // 2 h, low risk
const beta = series("beta", T0, 120, (i) => 70 + (i % 3)); // medium by mean
const points = [...alpha, ...beta];

async function json(res: Response) {
  return await res.json();
}

Deno.test("GET /health answers ok with the version and uptime", async () => {
  const { app } = testApp();
  const res = await app.request("/health");
  equal(res.status, 200);
  deepEqual(await json(res), { status: "ok", version: "0.1.0", uptimeSec: 5 });
});

Deno.test("GET /coherence/metrics uses the first DEFAULT_WINDOWS entry and pools all signals as *", async () => {
  const { app } = testApp({ points });
  const body = await json(await app.request("/coherence/metrics"));
  equal(body.signal, "*");
  equal(body.windowSec, 3600);
  equal(body.n, 120); // 60 points per signal in (T0 − 1h, T0]
  const expected = momentsOf([...alpha.slice(60), ...beta.slice(60)].map((p) => p.score));
  ok(Math.abs(body.coherenceMean - expected.mean) < 1e-12);
  ok(Math.abs(body.stdev - Math.sqrt(expected.m2 / 119)) < 1e-12);
  equal(body.timestamp, "2025-10-29T17:00:00Z");
  deepEqual(body.inputs, {
    start_ts: "2025-10-29T16:00:00Z",
    end_ts: "2025-10-29T17:00:00Z",
    source: "mock_file",
  });
  equal(body.meta.method, "mean/stdev rule-based");
  equal(body.meta.engine_version, "0.1.0");
  ok(body.meta.latency_ms >= 0);
});

Deno.test("GET /coherence/metrics?signal= reports one signal with its risk, rule and nearest boundary", async () => {
  const { app } = testApp({ points });
  const body = await json(await app.request("/coherence/metrics?window=1h&signal=beta"));
  equal(body.signal, "beta");
  equal(body.n, 60);
  equal(body.predictedDriftRisk, "medium");
  equal(body.explain.rule.level, "medium");
  match(body.explain.rule.text, /medium because 60 ≤ mean 71 < 80/);
  equal(body.explain.nearestBoundary.rule, "mean");
  equal(body.explain.nearestBoundary.changesAt, 80);
  match(body.explain.nearestBoundary.text, /the mean would have to rise 9 to 80 \(the mean cut-off 80\)/);
  deepEqual(body.explain.thresholds, {
    highVolatilityAbove: 0.25,
    mediumVolatilityAbove: 0.1,
    highMeanBelow: 60,
    mediumMeanBelow: 80,
  });
  deepEqual(body.warnings, []);
});

Deno.test("GET /coherence/metrics echoes configured thresholds and applies them", async () => {
  const { app } = testApp({ points, env: { RISK_MEDIUM_MEAN_BELOW: "70", RISK_HIGH_MEAN_BELOW: "50" } });
  const body = await json(await app.request("/coherence/metrics?signal=beta"));
  equal(body.explain.thresholds.mediumMeanBelow, 70);
  equal(body.predictedDriftRisk, "low");
});

Deno.test("GET /coherence/metrics?end= answers the window (end − w, end]: the start is excluded, the end included", async () => {
  const { app } = testApp({ points });
  // Points sit on whole minutes; a 2-minute window ending on a point holds exactly 2 points.
  const body = await json(
    await app.request("/coherence/metrics?signal=alpha&window=2m&end=2025-10-29T16:30:00Z"),
  );
  equal(body.n, 2);
  equal(body.explain.window.oldestPoint, "2025-10-29T16:29:00Z");
  equal(body.explain.window.newestPoint, "2025-10-29T16:30:00Z");
  equal(body.inputs.start_ts, "2025-10-29T16:28:00Z");
  const epoch = await json(
    await app.request(
      `/coherence/metrics?signal=alpha&window=2m&end=${Date.parse("2025-10-29T16:30:00Z") / 1000}`,
    ),
  );
  equal(epoch.n, 2);
});

Deno.test("GET /coherence/metrics warns when n < 2 and gives null statistics for an empty window", async () => {
  const { app } = testApp({ points });
  const empty = await json(
    await app.request("/coherence/metrics?signal=alpha&window=1h&end=2025-10-28T00:00:00Z"),
  );
  equal(empty.n, 0);
  equal(empty.coherenceMean, null);
  equal(empty.stdev, null);
  equal(empty.volatilityIndex, null);
  equal(empty.predictedDriftRisk, "unknown");
  equal(empty.warnings[0].code, "no_data");
  const single = await json(await app.request("/coherence/metrics?signal=alpha&window=60s"));
  equal(single.n, 1);
  equal(single.stdev, null);
  ok(single.warnings.some((w: { code: string }) => w.code === "too_few_samples"));
});

Deno.test("GET /coherence/metrics warns about stale data and windows longer than the held history", async () => {
  const { app } = testApp({ points, now: T0 + 3_600_000, ingest: fakeIngest([], T0 - 86_400_000) });
  const body = await json(await app.request("/coherence/metrics?signal=alpha&window=2d"));
  const codes = body.warnings.map((w: { code: string }) => w.code);
  deepEqual(codes.sort(), ["stale_data", "window_exceeds_history"]);
});

Deno.test("GET /coherence/predict answers the metrics schema with a forecast method", async () => {
  const { app } = testApp({ points });
  const body = await json(await app.request("/coherence/predict?window=1h&signal=alpha"));
  equal(body.predictedDriftRisk, "low");
  match(body.meta.method, /forecast/);
});

Deno.test("GET /coherence/signals lists signals with counts and newest timestamps", async () => {
  const { app } = testApp({ points });
  deepEqual(await json(await app.request("/coherence/signals")), {
    signals: [
      { signal: "alpha", n: 120, oldest: "2025-10-29T15:01:00Z", newest: "2025-10-29T17:00:00Z" },
      { signal: "beta", n: 120, oldest: "2025-10-29T15:01:00Z", newest: "2025-10-29T17:00:00Z" },
    ],
    count: 2,
  });
});

const badRequests: [string, number, string, RegExp][] = [
  ["/coherence/metrics?window=5x", 400, "invalid-window", /Cannot parse window "5x"/],
  ["/coherence/metrics?window=0", 400, "invalid-window", /empty/],
  ["/coherence/metrics?window=31d", 400, "invalid-window", /maximum is 30d/],
  ["/coherence/metrics?window=-1h", 400, "invalid-window", /Cannot parse window/],
  ["/coherence/metrics?end=yesterday", 400, "invalid-end", /Cannot parse end "yesterday"/],
  ["/coherence/metrics?end=2025-10-29T17:00:00", 400, "invalid-end", /RFC 3339/],
  [
    "/coherence/metrics?signal=zeta",
    404,
    "unknown-signal",
    /Unknown signal "zeta": known signals are alpha, beta/,
  ],
  ["/coherence/predict?signal=zeta", 404, "unknown-signal", /Unknown signal/],
  [
    `/coherence/metrics?window=${"9".repeat(40)}`,
    400,
    "invalid-parameter",
    /"window" is not valid: at most 32/,
  ],
  [`/coherence/metrics?signal=${"a".repeat(300)}`, 400, "invalid-parameter", /"signal" is not valid/],
  ["/nope", 404, "not-found", /No route for GET \/nope/],
  ["/coherence/nope", 404, "not-found", /No route/],
];

for (const [path, status, kind, detail] of badRequests) {
  Deno.test(`GET ${path.slice(0, 60)} is a ${status} problem+json (${kind})`, async () => {
    const { app } = testApp({ points });
    const res = await app.request(path);
    equal(res.status, status);
    equal(res.headers.get("content-type"), "application/problem+json");
    const body = await json(res);
    equal(body.status, status);
    equal(body.type, `https://coherence-engine.dev/problems/${kind}`);
    match(body.detail, detail);
    ok(typeof body.title === "string" && body.title.length > 0);
    ok(!JSON.stringify(body).includes("    at "), "no stack trace");
  });
}

Deno.test("an unexpected failure is a 500 problem without a stack trace", async () => {
  const { app, store } = testApp({ points });
  store.window = () => {
    throw new Error("boom at /secret/path.ts:1:1");
  };
  const res = await app.request("/coherence/metrics");
  equal(res.status, 500);
  equal(res.headers.get("content-type"), "application/problem+json");
  const body = await json(res);
  equal(body.status, 500);
  ok(!JSON.stringify(body).includes("boom"));
});

Deno.test("X-Request-ID is echoed when given and generated when not", async () => {
  const { app } = testApp({ points });
  const echoed = await app.request("/health", { headers: { "X-Request-ID": "abc-123" } });
  equal(echoed.headers.get("x-request-id"), "abc-123");
  const generated = await app.request("/coherence/metrics");
  match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  const problem = await app.request("/nope", { headers: { "X-Request-ID": "req-9" } });
  equal(problem.headers.get("x-request-id"), "req-9");
  equal((await json(problem)).requestId, "req-9");
});

Deno.test("GET /status reports version, uptime, source, windows, persistence and request figures", async () => {
  const { app } = testApp({ points });
  await app.request("/health");
  await app.request("/nope");
  const body = await json(await app.request("/status"));
  equal(body.version, "0.1.0");
  equal(body.uptimeSec, 5);
  equal(body.startedAt, "2025-10-29T16:59:55Z");
  deepEqual(body.source, { kind: "mock_file", location: "test", replay: false });
  deepEqual(body.windows, [{ window: "1h", windowSec: 3600 }, { window: "24h", windowSec: 86400 }]);
  equal(body.defaultWindow, "1h");
  equal(body.persistence.mode, "none");
  deepEqual(body.signals, ["alpha", "beta"]);
  equal(body.points, 240);
  equal(body.requests.count, 2);
  equal(body.requests.errors, 0);
  ok(body.requests.p95LatencyMs >= 0);
  equal(body.lastIngest, null);
});

Deno.test("API_TOKEN protects every route but /health with a bearer token", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: "s3cret-token" } });
  equal((await app.request("/health")).status, 200);
  const denied = await app.request("/coherence/metrics");
  equal(denied.status, 401);
  equal(denied.headers.get("content-type"), "application/problem+json");
  equal(denied.headers.get("www-authenticate"), 'Bearer realm="coherence-engine"');
  equal((await app.request("/status", { headers: { Authorization: "Bearer wrong" } })).status, 401);
  const allowed = await app.request("/coherence/metrics", {
    headers: { Authorization: "Bearer s3cret-token" },
  });
  equal(allowed.status, 200);
});

Deno.test("each request logs one line with method, path, status, latency and request id; metrics log their numbers", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: "s3cret-token" } });
  const { records } = await captureLogs(async () => {
    await app.request("/coherence/metrics?signal=alpha", {
      headers: { "X-Request-ID": "req-log-1", Authorization: "Bearer s3cret-token" },
    });
  });
  const request = records.filter((r) => r.category.join(".") === "coherence.http");
  equal(request.length, 1);
  const props = request[0].properties;
  equal(props.method, "GET");
  equal(props.path, "/coherence/metrics");
  equal(props.status, 200);
  equal(props.requestId, "req-log-1");
  equal(typeof props.latencyMs, "number");
  const metrics = records.filter((r) => r.category.join(".") === "coherence.metrics");
  equal(metrics.length, 1);
  const m = metrics[0].properties;
  equal(m.requestId, "req-log-1");
  equal(m.signal, "alpha");
  equal(m.windowSec, 3600);
  equal(m.n, 60);
  equal(m.risk, "low");
  for (const key of ["mean", "volatilityIndex", "latencyMs"]) ok(typeof m[key] === "number", key);
  ok(!JSON.stringify(records).includes("s3cret-token"), "the token never appears in logs");
});

Deno.test("GET /coherence/series gives evenly spaced window ends, each equal to /coherence/metrics at that end", async () => {
  const { app } = testApp({ points });
  const body = await json(await app.request("/coherence/series?signal=alpha&window=30m&points=5"));
  equal(body.signal, "alpha");
  equal(body.windowSec, 1800);
  equal(body.points.length, 5);
  equal(body.to, "2025-10-29T17:00:00Z");
  equal(
    body.from,
    "2025-10-29T15:01:00Z",
    "defaults to the start of held data when that is later than to − 24h",
  );
  equal(body.stepSec, (119 * 60) / 4);
  for (const point of body.points) {
    const metrics = await json(
      await app.request(`/coherence/metrics?signal=alpha&window=30m&end=${point.timestamp}`),
    );
    equal(point.n, metrics.n);
    equal(point.coherenceMean, metrics.coherenceMean);
    equal(point.stdev, metrics.stdev);
    equal(point.predictedDriftRisk, metrics.predictedDriftRisk);
  }
});

Deno.test("GET /coherence/series refuses bad ranges and point counts with problem+json", async () => {
  const { app } = testApp({ points });
  for (
    const [path, status, detail] of [
      ["/coherence/series?points=1", 400, /expected 2 to 1000/],
      ["/coherence/series?points=abc", 400, /"points" is not valid/],
      ["/coherence/series?from=2025-10-29T18:00:00Z&to=2025-10-29T17:00:00Z", 400, /"from" .* is after "to"/],
      ["/coherence/series?to=later", 400, /Cannot parse to "later"/],
      ["/coherence/series?signal=zeta", 404, /Unknown signal "zeta"/],
      ["/coherence/series?window=2x", 400, /Cannot parse window "2x"/],
    ] as const
  ) {
    const res = await app.request(path);
    equal(res.status, status, path);
    match((await json(res)).detail, detail);
  }
});

Deno.test("responses carry security headers: a self-only CSP with frame-ancestors, nosniff, no framing", async () => {
  const { app } = testApp({ points });
  const res = await app.request("/coherence/metrics");
  const csp = res.headers.get("content-security-policy") ?? "";
  match(csp, /default-src 'self'/);
  match(csp, /frame-ancestors 'none'/);
  match(csp, /script-src 'self'/);
  equal(res.headers.get("x-content-type-options"), "nosniff");
  equal(res.headers.get("x-frame-options"), "DENY");
  equal(res.headers.get("referrer-policy"), "no-referrer");
  const problem = await app.request("/nope");
  equal(problem.headers.get("x-content-type-options"), "nosniff");
});

Deno.test("CORS is off unless CORS_ORIGINS is set, and then allows only those origins", async () => {
  const off = testApp({ points }).app;
  const plain = await off.request("/health", { headers: { Origin: "https://evil.example" } });
  equal(plain.headers.get("access-control-allow-origin"), null);
  const on = testApp({ points, env: { CORS_ORIGINS: "https://dash.example.com" } }).app;
  const allowed = await on.request("/health", { headers: { Origin: "https://dash.example.com" } });
  equal(allowed.headers.get("access-control-allow-origin"), "https://dash.example.com");
  const other = await on.request("/health", { headers: { Origin: "https://evil.example" } });
  equal(other.headers.get("access-control-allow-origin"), null);
});

Deno.test("oversized URLs and request bodies are refused with problem+json before any work", async () => {
  const { app } = testApp({ points });
  const long = await app.request(`/coherence/metrics?x=${"a".repeat(5000)}`);
  equal(long.status, 414);
  equal(long.headers.get("content-type"), "application/problem+json");
  const body = await app.request("/coherence/metrics", {
    method: "POST",
    body: "x".repeat(20_000),
    headers: { "content-length": "20000" },
  });
  equal(body.status, 413);
  equal((await json(body)).status, 413);
});

Deno.test("GET /coherence/series points carry the warnings /coherence/metrics gives at each end", async () => {
  const { app } = testApp({ points, ingest: fakeIngest([], T0 - 90 * 60_000) });
  const body = await json(await app.request("/coherence/series?signal=alpha&window=1h&points=4"));
  const codes = new Set<string>();
  for (const point of body.points) {
    const metrics = await json(
      await app.request(`/coherence/metrics?signal=alpha&window=1h&end=${point.timestamp}`),
    );
    deepEqual(point.warnings, metrics.warnings);
    for (const warning of point.warnings) codes.add(warning.code);
  }
  ok(codes.has("window_exceeds_history"), "the early windows reach before the held history");
});
