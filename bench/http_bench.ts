/**
 * The full /coherence/metrics handler (routing, middleware, validation, window query, report, JSON) through
 * app.request, over stores holding 100k and 1M points in the window. The clock is fixed, so a repeated
 * request is answered from the response cache ("cached"); a distinct `end=` per request measures the
 * computation itself ("computed").
 */
import { loadConfig } from "../src/config.ts";
import { PointStore } from "../src/core/point_store.ts";
import { createApp } from "../src/http/app.ts";
import { ServiceMetrics } from "../src/http/prometheus.ts";
import { nonePersistence } from "../tests/helpers.ts";

const END = Date.parse("2025-10-29T18:00:00Z");

function appWith(points: number) {
  const store = new PointStore();
  const ts = new Float64Array(points);
  const score = new Float64Array(points);
  const stepMs = Math.floor((24 * 3600 * 1000) / points);
  for (let i = 0; i < points; i++) {
    ts[i] = END - (points - 1 - i) * stepMs;
    score[i] = 80 + 10 * Math.sin(i / 500) + ((i * 7919) % 13) / 2;
  }
  store.applyColumns("alpha", ts, score);
  const app = createApp({
    config: loadConfig({ PERSISTENCE: "none" }),
    store,
    persistence: nonePersistence(),
    ingest: { cycles: () => [], coverageStartMs: () => null, lastSuccessAtMs: () => null },
    source: { kind: "mock_file", location: "bench", replay: false },
    startedAtMs: END,
    now: () => END,
    metrics: new ServiceMetrics(),
  });
  return app;
}

const app100k = appWith(100_000);
const app1m = appWith(1_000_000);

const CACHED: [string, typeof app1m, string][] = [
  [
    "GET /coherence/metrics?window=24h&signal=alpha, 100k points in window (cached)",
    app100k,
    "?window=24h&signal=alpha",
  ],
  [
    "GET /coherence/metrics?window=24h&signal=alpha, 1M points in window (cached)",
    app1m,
    "?window=24h&signal=alpha",
  ],
  ["GET /coherence/metrics?window=24h (pooled), 1M points in window (cached)", app1m, "?window=24h"],
];
for (const [name, app, query] of CACHED) {
  Deno.bench(name, { group: "handler" }, async () => {
    await (await app.request(`/coherence/metrics${query}`)).arrayBuffer();
  });
}

let endOffsetMs = 0;
Deno.bench(
  "GET /coherence/metrics?window=24h&signal=alpha&end=…, 1M points in window (computed)",
  { group: "handler" },
  async () => {
    // A distinct end (1 ms earlier each time; the window still holds about 1M points) is a cache miss.
    const res = await app1m.request(`/coherence/metrics?window=24h&signal=alpha&end=${END - ++endOffsetMs}`);
    await res.arrayBuffer();
  },
);

// Issue 14: the forecast costs about what the metrics answer costs (within 2×), over the same 1M-point window.
let metricsOffsetMs = 0;
Deno.bench(
  "GET /coherence/metrics?window=24h&signal=alpha&end=…, 1M points (computed)",
  { group: "predict vs metrics", baseline: true },
  async () => {
    const res = await app1m.request(
      `/coherence/metrics?window=24h&signal=alpha&end=${END - ++metricsOffsetMs}`,
    );
    await res.arrayBuffer();
  },
);

let predictOffsetMs = 0;
Deno.bench(
  "GET /coherence/predict?window=24h&signal=alpha&end=…, 1M points (computed)",
  { group: "predict vs metrics" },
  async () => {
    const res = await app1m.request(
      `/coherence/predict?window=24h&signal=alpha&end=${END - ++predictOffsetMs}`,
    );
    await res.arrayBuffer();
  },
);

let shortOffsetMs = 0;
Deno.bench(
  "GET /coherence/predict?window=1h&signal=alpha&end=…, 1M held, ~42k in window (computed)",
  { group: "predict vs metrics" },
  async () => {
    const res = await app1m.request(`/coherence/predict?window=1h&signal=alpha&end=${END - ++shortOffsetMs}`);
    await res.arrayBuffer();
  },
);

Deno.bench(
  "GET /coherence/predict/backtest?window=1h&horizon=1h&signal=alpha&points=1000, 1M held points",
  { group: "backtest" },
  async () => {
    const res = await app1m.request(
      "/coherence/predict/backtest?window=1h&horizon=1h&signal=alpha&points=1000",
    );
    await res.arrayBuffer();
  },
);
