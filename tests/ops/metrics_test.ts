/**
 * `/metrics`: the exposition passes `promtool check metrics`, labels are route patterns, the per-(signal,
 * window) gauges equal the snapshot rows, ingest counters add up, and `/status` reads the same instruments.
 *
 * Without promtool the format check is skipped with a loud warning, except under CI=true, where that fails.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { createApp } from "../../src/http/app.ts";
import { RISK_LEVEL_VALUES, ServiceMetrics } from "../../src/http/prometheus.ts";
import { histogramQuantile, UNMATCHED_ROUTE } from "../../src/http/request_stats.ts";
import { createStoreRegistry } from "../../src/persistence/registry.ts";
import type { SnapshotRow, SnapshotStore } from "../../src/persistence/snapshot.ts";
import { createSnapshotter, snapshotRows } from "../../src/persistence/snapshotter.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { fakeIngest, series, T0, testConfig } from "../helpers.ts";
import { find, parseSamples, PROMTOOL, promtoolCheck, promtoolInstalled, valueOf } from "./exposition.ts";
import { formatWindow } from "../../src/core/window.ts";

const CI = Deno.env.get("CI") === "true";
const havePromtool = await promtoolInstalled();
if (!havePromtool && !CI) {
  console.warn(
    `\n!!! ${PROMTOOL} not found: SKIPPING the promtool check of /metrics.\n` +
      "!!! Install it with: apt-get update && apt-get install -y prometheus   (CI=true makes this a failure)\n",
  );
}

const points = [
  ...series("alpha", T0, 90, (i) => 85 + (i % 5)),
  ...series("beta", T0, 90, (i) => (i % 2 ? 95 : 30)),
  { signal: "lonely", ts: T0, score: 70 },
  { signal: 'quote"back\\slash', ts: T0, score: 90 },
];

const okCycle: IngestCycle = {
  requestId: "ingest-1",
  startedAt: "2025-10-29T16:59:00Z",
  finishedAt: "2025-10-29T16:59:02Z",
  ok: true,
  range: { from: "2025-10-28T16:59:00Z", to: "2025-10-29T16:59:00Z" },
  durationMs: 2000,
  upstreamLatencyMs: 1500,
  pages: 4,
  retries: 2,
  retryAfterWaitsMs: [1000],
  received: 12,
  accepted: 9,
  inserted: 6,
  updated: 2,
  duplicates: 1,
  rejected: 3,
  rejectedByReason: { score_out_of_range: 2, invalid_timestamp: 1 },
  outOfWindow: 0,
  loopGuardStops: 0,
  evicted: 5,
  error: null,
};
const failedCycle: IngestCycle = {
  ...okCycle,
  requestId: "ingest-2",
  startedAt: "2025-10-29T17:00:00Z",
  finishedAt: "2025-10-29T17:00:01Z",
  ok: false,
  durationMs: 1000,
  pages: 1,
  retries: 5,
  error: "Darshan upstream failed after 5 retries: 503",
};

/** A snapshot store whose reads fail, to produce a 503 on /coherence/history. */
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

/** The service's wiring in miniature: one ServiceMetrics shared by the app, the snapshotter and ingest. */
function wired(env: Record<string, string> = {}) {
  const config = testConfig(env);
  const store = new PointStore();
  store.apply(points);
  const snapshots = brokenStore();
  const metrics: ServiceMetrics = new ServiceMetrics({
    version: config.engineVersion,
    startedAtMs: T0 - 5000,
    points: store,
    persistence: () => snapshotter.status(),
    rss: () => 123_456_789,
  });
  const snapshotter = createSnapshotter({
    points: store,
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: "mock_file",
    engineVersion: config.engineVersion,
    now: () => T0,
    onRows: (rows) => metrics.recordSnapshot(rows),
  });
  const app = createApp({
    config,
    store,
    ingest: fakeIngest(),
    persistence: {
      registry: createStoreRegistry(snapshots, { dataDir: "/nonexistent" }),
      status: snapshotter.status,
    },
    source: { kind: "mock_file", location: "test", replay: false },
    startedAtMs: T0 - 5000,
    now: () => T0,
    metrics,
  });
  return { app, metrics, snapshotter, store, config };
}

async function exercise(app: ReturnType<typeof wired>["app"]) {
  const paths = [
    "/health",
    "/coherence/metrics?window=1h",
    "/coherence/metrics?signal=alpha&window=24h",
    "/coherence/metrics?window=5x",
    "/coherence/metrics?signal=nope",
    "/coherence/signals",
    "/coherence/history?window=1h",
    "/static/page.css",
    "/static/nope.css",
    "/nope/1",
    "/nope/2?x=y",
  ];
  for (const path of paths) await (await app.request(path)).arrayBuffer();
  await (await app.request("/health", { method: "HEAD" })).arrayBuffer();
  await (await app.request("/health", { method: "BREW" })).arrayBuffer();
}

Deno.test({
  name: "GET /metrics passes `promtool check metrics` with every instrument populated",
  ignore: !havePromtool && !CI,
  async fn() {
    const { app, metrics, snapshotter } = wired();
    await snapshotter.afterCycle();
    metrics.recordCycle(okCycle);
    metrics.recordCycle(failedCycle);
    await exercise(app);
    const response = await app.request("/metrics");
    equal(response.status, 200);
    equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const body = await response.text();
    for (
      const name of [
        "coherence_http_requests_total",
        "coherence_http_request_duration_seconds_bucket",
        "coherence_ingest_cycles_total",
        "coherence_ingest_records_total",
        "coherence_ingest_rejected_records_total",
        "coherence_ingest_last_success_timestamp_seconds",
        "coherence_ingest_upstream_latency_seconds_bucket",
        "coherence_window_mean",
        "coherence_window_volatility_index",
        "coherence_window_risk_level",
        "coherence_window_risk",
      ]
    ) ok(body.includes(`\n${name}{`) || body.includes(`\n${name} `), name);
    const { success, output } = await promtoolCheck(body);
    equal(output, "", `promtool complained:\n${output}`);
    ok(success);
  },
});

Deno.test("request series are labelled by route pattern and method, never by raw path", async () => {
  const { app, metrics } = wired();
  await exercise(app);
  const samples = parseSamples(await metrics.exposition());
  const requests = find(samples, "coherence_http_requests_total");
  const routes = new Set(requests.map((s) => s.labels.route));
  deepEqual([...routes].sort(), [
    UNMATCHED_ROUTE,
    "/coherence/history",
    "/coherence/metrics",
    "/coherence/signals",
    "/health",
    "/static/:name",
  ]);
  equal(valueOf(samples, "coherence_http_requests_total", { method: "GET", route: UNMATCHED_ROUTE }), 2);
  equal(valueOf(samples, "coherence_http_requests_total", { route: "/static/:name", status: "200" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { route: "/static/:name", status: "404" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { route: "/coherence/metrics", status: "400" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { route: "/coherence/metrics", status: "404" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { route: "/coherence/history", status: "503" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { method: "HEAD", route: "/health" }), 1);
  equal(valueOf(samples, "coherence_http_requests_total", { method: "other", status: "404" }), 1);
  equal(
    valueOf(samples, "coherence_http_request_duration_seconds_count", { method: "GET", route: "/health" }),
    1,
  );
});

Deno.test("/status reports request count, 5xx errors and p95 from the same instruments as /metrics", async () => {
  const { app, metrics } = wired();
  await exercise(app);
  // Read the registry directly (no request of its own), then ask /status, which does not count itself.
  const samples = parseSamples(await metrics.exposition());
  const status = await (await app.request("/status")).json();
  const total = find(samples, "coherence_http_requests_total").reduce((sum, s) => sum + s.value, 0);
  const errors = find(samples, "coherence_http_requests_total")
    .filter((s) => Number(s.labels.status) >= 500)
    .reduce((sum, s) => sum + s.value, 0);
  equal(status.requests.count, total);
  equal(status.requests.count, 13);
  equal(status.requests.errors, errors);
  equal(status.requests.errors, 1);
  equal(status.requests.errorRate, 1 / 13);
  const byLe = new Map<number, number>();
  for (const s of find(samples, "coherence_http_request_duration_seconds_bucket")) {
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  const buckets = [...byLe].sort((a, b) => a[0] - b[0]).map(([le, cumulative]) => ({ le, cumulative }));
  const p95 = histogramQuantile(0.95, buckets);
  ok(p95 !== null);
  equal(status.requests.p95LatencyMs, Math.round(p95 * 1e6) / 1e3);
});

Deno.test("histogramQuantile() interpolates inside the bucket like Prometheus' histogram_quantile", () => {
  const buckets = [
    { le: 0.1, cumulative: 0 },
    { le: 1, cumulative: 10 },
    { le: 2, cumulative: 20 },
    { le: Infinity, cumulative: 20 },
  ];
  equal(histogramQuantile(0.5, buckets), 1);
  equal(histogramQuantile(0.75, buckets), 1.5);
  equal(histogramQuantile(0.25, buckets), 0.1 + 0.9 * 0.5);
  equal(histogramQuantile(0.95, [{ le: 1, cumulative: 1 }, { le: Infinity, cumulative: 20 }]), 1);
  equal(histogramQuantile(0.95, [{ le: 1, cumulative: 0 }, { le: Infinity, cumulative: 0 }]), null);
  equal(histogramQuantile(0.5, []), null);
});

Deno.test("the window gauges equal the snapshot rows the snapshotter computed, per (signal, window)", async () => {
  const { metrics, snapshotter, store, config } = wired();
  await snapshotter.afterCycle();
  const rows = snapshotRows(store, {
    windows: config.windows,
    endMs: T0,
    thresholds: config.thresholds,
    source: "mock_file",
    engineVersion: config.engineVersion,
  });
  const samples = parseSamples(await metrics.exposition());
  equal(rows.length, 2 * 5);
  for (const row of rows) {
    const labels = { signal: row.signal, window: formatWindow(row.window_sec) };
    equal(valueOf(samples, "coherence_window_mean", labels), row.mean ?? undefined, JSON.stringify(labels));
    equal(valueOf(samples, "coherence_window_stdev", labels), row.stdev ?? undefined);
    equal(valueOf(samples, "coherence_window_volatility_index", labels), row.volatility_index ?? undefined);
    equal(valueOf(samples, "coherence_window_points", labels), row.n);
    equal(valueOf(samples, "coherence_window_risk_level", labels), RISK_LEVEL_VALUES[row.risk]);
    for (const risk of ["low", "medium", "high", "unknown"]) {
      equal(valueOf(samples, "coherence_window_risk", { ...labels, risk }), risk === row.risk ? 1 : 0);
    }
  }
  // A lone point: mean but no stdev or volatility (absent, never NaN); risk from the mean alone.
  const lonely = { signal: "lonely", window: "1h" };
  equal(valueOf(samples, "coherence_window_mean", lonely), 70);
  equal(valueOf(samples, "coherence_window_stdev", lonely), undefined);
  equal(valueOf(samples, "coherence_window_volatility_index", lonely), undefined);
  equal(valueOf(samples, "coherence_window_risk", { ...lonely, risk: "medium" }), 1);
  equal(valueOf(samples, "coherence_snapshot_timestamp_seconds"), T0 / 1000);
  // Label values are escaped: the odd signal name round-trips.
  equal(valueOf(samples, "coherence_window_mean", { signal: 'quote"back\\slash', window: "1h" }), 90);
});

Deno.test("recordSnapshot() replaces the previous snapshot: signals gone from the data lose their series", () => {
  const metrics = new ServiceMetrics();
  const row = (signal: string, mean: number | null): SnapshotRow => ({
    computed_at: "2025-10-29T17:00:00Z",
    signal,
    window_sec: 3600,
    start_ts: "2025-10-29T16:00:00Z",
    end_ts: "2025-10-29T17:00:00Z",
    n: mean === null ? 0 : 10,
    mean,
    stdev: null,
    volatility_index: null,
    risk: mean === null ? "unknown" : "low",
    source: "test",
    engine_version: "0.1.0",
  });
  metrics.recordSnapshot([row("a", 90), row("b", 85)]);
  metrics.recordSnapshot([row("a", 91), row("c", null)]);
  return metrics.exposition().then((text) => {
    const samples = parseSamples(text);
    equal(valueOf(samples, "coherence_window_mean", { signal: "a" }), 91);
    equal(find(samples, "coherence_window_mean", { signal: "b" }).length, 0);
    equal(find(samples, "coherence_window_mean", { signal: "c" }).length, 0, "n = 0: no mean series");
    equal(valueOf(samples, "coherence_window_points", { signal: "c" }), 0);
    equal(valueOf(samples, "coherence_window_risk_level", { signal: "c" }), -1);
  });
});

Deno.test("recordCycle() counts cycles by outcome, records by outcome and rejections by reason", async () => {
  const { metrics } = wired();
  metrics.recordCycle(okCycle);
  metrics.recordCycle(failedCycle);
  const samples = parseSamples(await metrics.exposition());
  equal(valueOf(samples, "coherence_ingest_cycles_total", { outcome: "ok" }), 1);
  equal(valueOf(samples, "coherence_ingest_cycles_total", { outcome: "failed" }), 1);
  equal(valueOf(samples, "coherence_ingest_records_total", { outcome: "inserted" }), 6);
  equal(valueOf(samples, "coherence_ingest_records_total", { outcome: "updated" }), 2);
  equal(valueOf(samples, "coherence_ingest_records_total", { outcome: "duplicate" }), 1);
  equal(valueOf(samples, "coherence_ingest_records_total", { outcome: "rejected" }), 3);
  equal(valueOf(samples, "coherence_ingest_rejected_records_total", { reason: "score_out_of_range" }), 2);
  equal(valueOf(samples, "coherence_ingest_rejected_records_total", { reason: "invalid_timestamp" }), 1);
  equal(valueOf(samples, "coherence_ingest_pages_total"), 5);
  equal(valueOf(samples, "coherence_ingest_retries_total"), 7);
  equal(valueOf(samples, "coherence_ingest_evicted_points_total"), 5);
  equal(
    valueOf(samples, "coherence_ingest_last_cycle_timestamp_seconds"),
    Date.parse(failedCycle.finishedAt) / 1000,
  );
  equal(
    valueOf(samples, "coherence_ingest_last_success_timestamp_seconds"),
    Date.parse(okCycle.startedAt) / 1000,
  );
  equal(valueOf(samples, "coherence_ingest_last_cycle_success"), 0);
  // The failed cycle's upstream latency counts as the ok one's does.
  equal(valueOf(samples, "coherence_ingest_upstream_latency_seconds_count"), 2);
  equal(valueOf(samples, "coherence_ingest_upstream_latency_seconds_sum"), 3);
  equal(valueOf(samples, "coherence_ingest_cycle_duration_seconds_count"), 2);
  equal(valueOf(samples, "coherence_points_held"), 182);
  equal(valueOf(samples, "coherence_signals_known"), 4);
  equal(valueOf(samples, "coherence_process_resident_memory_bytes"), 123_456_789);
  equal(valueOf(samples, "coherence_build_info", { version: "0.1.0", deno: Deno.version.deno }), 1);
});

Deno.test("snapshot write tallies are exposed as counters", async () => {
  const { metrics, snapshotter } = wired();
  await snapshotter.afterCycle();
  const samples = parseSamples(await metrics.exposition());
  equal(valueOf(samples, "coherence_snapshot_rows_written_total"), snapshotter.status().rowsWritten);
  equal(valueOf(samples, "coherence_snapshot_write_failures_total"), 0);
});

Deno.test("/metrics requires the token when API_TOKEN is set, like every route but /health", async () => {
  const { app } = wired({ API_TOKEN: "s3cret" });
  equal((await app.request("/metrics")).status, 401);
  const allowed = await app.request("/metrics", { headers: { Authorization: "Bearer s3cret" } });
  equal(allowed.status, 200);
  const body = await allowed.text();
  ok(!body.includes("s3cret"));
  ok(body.includes('coherence_http_requests_total{method="GET",route="/metrics",status="401"} 1'));
});

Deno.test("recordSnapshot() exports per-signal series for the first METRICS_MAX_SIGNALS signals by name and counts the rest", async () => {
  const metrics = new ServiceMetrics({ maxSignals: 2 });
  const row = (signal: string, window_sec: number): SnapshotRow => ({
    computed_at: "2025-10-29T17:00:00Z",
    signal,
    window_sec,
    start_ts: "2025-10-29T16:00:00Z",
    end_ts: "2025-10-29T17:00:00Z",
    n: 3,
    mean: 80,
    stdev: 1,
    volatility_index: 0.0125,
    risk: "low",
    source: "test",
    engine_version: "0.1.0",
  });
  const names = ["delta", "Bravo", "alpha", "charlie", "*"];
  metrics.recordSnapshot([...names.map((s) => row(s, 3600)), ...names.map((s) => row(s, 86_400))]);
  const samples = parseSamples(await metrics.exposition());
  const exported = new Set(find(samples, "coherence_window_points").map((s) => s.labels.signal));
  // Code-unit order: "Bravo" < "alpha" < "charlie" < "delta"; the pooled "*" always.
  deepEqual([...exported].sort(), ["*", "Bravo", "alpha"]);
  equal(find(samples, "coherence_window_points").length, 6);
  equal(valueOf(samples, "coherence_metrics_signals_omitted"), 2);
});

Deno.test("ServiceMetrics.exposition(), formatted one metric at a time, is prom-client's registry.metrics() text", async () => {
  const { app, metrics, snapshotter } = wired();
  await exercise(app);
  await snapshotter.afterCycle();
  const text = await metrics.exposition();
  ok(text.includes('coherence_window_mean{signal="alpha"'), "the window gauges are populated");
  equal(text, await metrics.registry.metrics());
});
