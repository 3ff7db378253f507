/**
 * Ingest end to end: the real client and poller against the mock upstream on port 0 with faults on, feeding
 * the point store the API answers from.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { momentsOf } from "../../src/core/stats.ts";
import { createDarshanClient } from "../../src/ingest/darshan_client.ts";
import { normalizeRecord } from "../../src/ingest/normalize.ts";
import { createPoller } from "../../src/ingest/poller.ts";
import { createApp } from "../../src/http/app.ts";
import { ServiceMetrics } from "../../src/http/prometheus.ts";
import {
  createMockDarshan,
  generateRecords,
  type MockDarshan,
  mulberry32,
} from "../../src/mock/darshan_server.ts";
import { MetricsResponseSchema, StatusSchema } from "../../src/schemas.ts";
import { captureLogs, nonePersistence, testConfig } from "../helpers.ts";

const KEY = "poller-key-9f3a51c2";
const NOW = Date.parse("2025-10-29T18:00:30Z");
const SIGNALS = ["alpha", "beta", "gamma"];

function startMock(faults: Parameters<typeof createMockDarshan>[0]) {
  const mock = createMockDarshan(faults);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, mock.app.fetch);
  return { mock, server, baseUrl: `http://127.0.0.1:${server.addr.port}` };
}

/** The mock's records after corrections: valid ones only, last copy per (signal, timestamp). */
function expected(mock: MockDarshan): Map<string, Map<number, number>> {
  const bySignal = new Map<string, Map<number, number>>();
  mock.records.forEach((record, i) => {
    const r = normalizeRecord(mock.corrections.get(i) ?? record);
    if (!r.ok) return;
    if (!bySignal.has(r.point.signal)) bySignal.set(r.point.signal, new Map());
    bySignal.get(r.point.signal)!.set(r.point.ts, r.point.score);
  });
  return bySignal;
}

function wire(baseUrl: string, apiKey: string, store: PointStore) {
  const config = testConfig({ DARSHAN_BASE_URL: baseUrl, DARSHAN_API_KEY: apiKey });
  const source = createDarshanClient({
    baseUrl,
    apiKey,
    pageSize: 100,
    maxRetries: 10,
    sleep: () => Promise.resolve(),
    random: mulberry32(3),
  });
  let clock = NOW;
  const poller = createPoller({
    source,
    store,
    maxWindowSec: 86_400,
    overlapSec: 300,
    intervalSec: 60,
    now: () => clock,
  });
  const app = createApp({
    config,
    store,
    persistence: nonePersistence(),
    ingest: poller,
    source: { kind: source.kind, location: source.location, replay: false },
    startedAtMs: NOW,
    now: () => clock,
    metrics: new ServiceMetrics(),
  });
  return { poller, app, advance: (ms: number) => (clock += ms) };
}

Deno.test("ingest with faults on holds exactly the valid, deduplicated records and the metrics over them are exact", async () => {
  const records = generateRecords(1500, { random: mulberry32(11), endMs: NOW, signals: SIGNALS });
  const { mock, server, baseUrl } = startMock({
    records,
    apiKey: KEY,
    errorRate: 0.15,
    rateLimitRate: 0.1,
    retryAfterSec: 2,
    malformedRate: 0.1,
    duplicateRate: 0.1,
    correctionRate: 0.05,
    invalidRate: 0.05,
    random: mulberry32(21),
  });
  const store = new PointStore();
  try {
    const { records: logs } = await captureLogs(async () => {
      const { poller, app, advance } = wire(baseUrl, KEY, store);
      const first = await poller.runCycle();
      ok(first.ok, first.error ?? "");
      ok(first.retries > 0, "faults were injected and retried");
      ok(first.rejected > 0 && first.updated + first.duplicates > 0);

      const want = expected(mock);
      deepEqual(store.signals().map((s) => s.signal), SIGNALS);
      for (const signal of SIGNALS) {
        const held = store.points(signal, 0, Number.MAX_SAFE_INTEGER);
        deepEqual(held.map((p) => [p.ts, p.score]), [...want.get(signal)!].sort((a, b) => a[0] - b[0]));
        const scores = held.filter((p) => p.ts > NOW - 3_600_000).map((p) => p.score);
        const body = MetricsResponseSchema.parse(
          await (await app.request(`/coherence/metrics?signal=${signal}&window=1h`)).json(),
        );
        const m = momentsOf(scores);
        equal(body.n, scores.length);
        ok(Math.abs(body.coherenceMean! - m.mean) <= 1e-12 * m.mean);
        ok(Math.abs(body.stdev! - Math.sqrt(m.m2 / (m.n - 1))) <= 1e-12 * body.stdev!);
      }

      // The next cycle pulls only (newest − overlap, now] and changes nothing held.
      advance(30_000);
      const second = await poller.runCycle();
      ok(second.ok);
      equal(second.range?.from, new Date(store.newestMs()! - 300_000).toISOString().replace(".000Z", "Z"));
      equal(second.inserted, 0);
      const status = StatusSchema.parse(await (await app.request("/status")).json());
      equal(status.recentIngests.length, 2);
      ok(!JSON.stringify(status).includes(KEY), "the key is not in /status");
      // Every request upstream carried its cycle's id.
      const ids = new Set(mock.requests.map((r) => r.requestId));
      deepEqual(ids, new Set([first.requestId, second.requestId]));
    });
    ok(
      logs.some((r) => r.properties.requestId === undefined) === false,
      "every ingest log line has the cycle id",
    );
    for (const record of logs) {
      ok(!JSON.stringify(record.properties).includes(KEY), "the key never appears in logs");
    }
  } finally {
    mock.close();
    await server.shutdown();
  }
});

Deno.test("an upstream auth failure shows in /status while /health stays ok and held data is kept", async () => {
  const records = generateRecords(60, { random: mulberry32(1), endMs: NOW, signals: ["alpha"] });
  const { mock, server, baseUrl } = startMock({ records, apiKey: KEY });
  const store = new PointStore();
  store.apply([{ signal: "alpha", ts: NOW - 7_200_000, score: 90 }]);
  try {
    const { poller, app } = wire(baseUrl, "wrong-key-0000", store);
    const cycle = await poller.runCycle();
    equal(cycle.ok, false);
    match(cycle.error ?? "", /401/);
    const status = StatusSchema.parse(await (await app.request("/status")).json());
    equal(status.status, "degraded");
    equal(status.lastIngest?.ok, false);
    match(status.lastIngest?.error ?? "", /401 Unauthorized/);
    ok(!JSON.stringify(status).includes("wrong-key-0000"));
    const health = await app.request("/health");
    equal(health.status, 200);
    equal((await health.json()).status, "ok");
    equal(store.size, 1, "held data is kept");
  } finally {
    mock.close();
    await server.shutdown();
  }
});
