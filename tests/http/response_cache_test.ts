import { deepEqual, equal, notEqual, ok } from "node:assert/strict";
import { bodyWithLatency, ResponseCache, splitAtLatency } from "../../src/http/response_cache.ts";
import { PointStore } from "../../src/core/point_store.ts";
import { createApp } from "../../src/http/app.ts";
import { ServiceMetrics } from "../../src/http/prometheus.ts";
import { nonePersistence, T0, testApp, testConfig } from "../helpers.ts";

Deno.test("splitAtLatency() splits a metrics body around meta.latency_ms, and bodyWithLatency() splices a value in", () => {
  const json = JSON.stringify({
    signal: '"latency_ms":9',
    meta: { method: "m", engine_version: "0.1.0", latency_ms: 0.123 },
    warnings: [],
  });
  const body = splitAtLatency(json)!;
  equal(bodyWithLatency(body, 0.123), json);
  const replaced = JSON.parse(bodyWithLatency(body, 0.004));
  equal(replaced.meta.latency_ms, 0.004);
  equal(replaced.signal, '"latency_ms":9');
  equal(splitAtLatency('{"meta":{}}'), null);
});

Deno.test("ResponseCache returns an entry only for the same key, second and data epoch, and drops the oldest when full", () => {
  const cache = new ResponseCache({ maxEntries: 2 });
  const json = (n: number) => `{"n":${n},"meta":{"latency_ms":1}}`;
  cache.set("a", 10, 1, json(1));
  equal(bodyWithLatency(cache.get("a", 10, 1)!, 1), json(1));
  equal(cache.get("a", 11, 1), undefined, "another second");
  cache.set("a", 10, 1, json(1));
  equal(cache.get("a", 10, 2), undefined, "another data epoch");
  equal(cache.get("a", 10, 1), undefined, "a stale entry is dropped");
  cache.set("a", 10, 1, json(1));
  cache.set("b", 10, 1, json(2));
  cache.set("c", 10, 1, json(3));
  equal(cache.size, 2);
  equal(cache.get("a", 10, 1), undefined);
  ok(cache.get("c", 10, 1));
  ok(cache.hits >= 2 && cache.misses >= 3);
});

function points(n: number, signal = "alpha") {
  return Array.from({ length: n }, (_, i) => ({ signal, ts: T0 - i * 60_000, score: 70 + (i % 7) }));
}

Deno.test("GET /coherence/metrics repeats the same answer for the same second and data, with its own latency", async () => {
  const { app } = testApp({ points: points(100) });
  const first = await (await app.request("/coherence/metrics?window=1h")).json();
  const second = await (await app.request("/coherence/metrics?window=1h")).json();
  deepEqual({ ...second, meta: { ...second.meta, latency_ms: 0 } }, {
    ...first,
    meta: { ...first.meta, latency_ms: 0 },
  });
  ok(second.meta.latency_ms >= 0);
});

Deno.test("GET /coherence/metrics answers for the request second: the default end is now truncated to the second", async () => {
  let now = T0 + 999;
  let coverageStartMs: number | null = T0 - 86_400_000;
  const store = new PointStore();
  store.apply(points(100));
  const app = createApp({
    config: testConfig(),
    store,
    ingest: { cycles: () => [], coverageStartMs: () => coverageStartMs, lastSuccessAtMs: () => null },
    persistence: nonePersistence(),
    source: { kind: "mock_file", location: "test", replay: false },
    startedAtMs: T0,
    now: () => now,
    metrics: new ServiceMetrics(),
  });
  const a = await (await app.request("/coherence/metrics?window=1h")).json();
  equal(a.timestamp, "2025-10-29T17:00:00Z");
  equal(a.inputs.end_ts, "2025-10-29T17:00:00Z");
  now = T0 + 1000;
  const b = await (await app.request("/coherence/metrics?window=1h")).json();
  equal(b.timestamp, "2025-10-29T17:00:01Z");
  // The held span moving (ingest coverage) changes warnings, so it invalidates too.
  equal(b.warnings.some((w: { code: string }) => w.code === "window_exceeds_history"), false);
  coverageStartMs = T0 - 60_000;
  const c = await (await app.request("/coherence/metrics?window=1h")).json();
  equal(c.warnings.some((w: { code: string }) => w.code === "window_exceeds_history"), true);
});

Deno.test("GET /coherence/metrics recomputes after ingest changes the data (insert, update or eviction)", async () => {
  const { app, store } = testApp({ points: points(10) });
  const before = await (await app.request("/coherence/metrics?window=1h&signal=alpha")).json();
  equal(before.n, 10);
  store.apply([{ signal: "alpha", ts: T0 - 30_000, score: 99 }]);
  const inserted = await (await app.request("/coherence/metrics?window=1h&signal=alpha")).json();
  equal(inserted.n, 11);
  store.apply([{ signal: "alpha", ts: T0 - 30_000, score: 1 }]);
  const updated = await (await app.request("/coherence/metrics?window=1h&signal=alpha")).json();
  equal(updated.n, 11);
  notEqual(updated.coherenceMean, inserted.coherenceMean);
  store.evictBefore(T0 - 100_000);
  const evicted = await (await app.request("/coherence/metrics?window=1h&signal=alpha")).json();
  equal(evicted.n, 3);
});

Deno.test("GET /coherence/metrics caches per query string and route: predict, errors and other windows stay apart", async () => {
  const { app } = testApp({ points: points(100) });
  const metrics = await (await app.request("/coherence/metrics?window=1h")).json();
  const predict = await (await app.request("/coherence/predict?window=1h")).json();
  notEqual(predict.meta.method, metrics.meta.method);
  const day = await (await app.request("/coherence/metrics?window=24h")).json();
  equal(day.windowSec, 86_400);
  equal((await app.request("/coherence/metrics?window=5x")).status, 400);
  equal((await app.request("/coherence/metrics?window=5x")).status, 400);
  equal((await app.request("/coherence/metrics?window=1h&signal=nope")).status, 404);
  equal((await app.request("/coherence/metrics?window=1h", { method: "POST" })).status, 405);
  const head = await app.request("/coherence/metrics?window=1h", { method: "HEAD" });
  equal(head.status, 200);
});
