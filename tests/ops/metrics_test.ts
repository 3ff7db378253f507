/**
 * `/metrics`: the exposition passes `promtool check metrics`, labels are route patterns, the per-(signal,
 * window) gauges equal the snapshot rows, ingest counters add up, and `/status` reads the same instruments.
 *
 * Without promtool the format check is skipped with a loud warning, except under CI=true, where that fails.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { createApp } from "../../src/http/app.ts";
import {
  createProcessRegistry,
  REJECT_REASONS,
  RISK_LEVEL_VALUES,
  ServiceMetrics,
} from "../../src/http/prometheus.ts";
import { histogramQuantile, UNMATCHED_ROUTE } from "../../src/http/request_stats.ts";
import { createStoreRegistry } from "../../src/persistence/registry.ts";
import type { SnapshotRow, SnapshotStore } from "../../src/persistence/snapshot.ts";
import { createSnapshotter, snapshotRows } from "../../src/persistence/snapshotter.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { fakeIngest, series, T0, testConfig } from "../helpers.ts";
import { find, parseSamples, PROMTOOL, promtoolCheck, promtoolInstalled, valueOf } from "./exposition.ts";
import { formatWindow } from "../../src/core/window.ts";
import { idleAlerts } from "../../src/http/alerts_routes.ts";
import type { RejectReason } from "../../src/ingest/normalize.ts";

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
const DELIVERY = {
  target: "alertmanager",
  url: "http://127.0.0.1:9093",
  delivered: 3,
  failed: 1,
  expired: 0,
  dropped: 0,
  outboxDepth: 2,
  lastSuccessAt: null,
  lastFailureAt: null,
  lastError: null,
  nextAttemptAt: null,
  consecutiveFailures: 0,
};

function wired(env: Record<string, string> = {}) {
  const config = testConfig(env);
  const store = new PointStore();
  store.apply(points);
  const snapshots = brokenStore();
  // No alert key yet, one delivery target: every alert metric family is exported.
  const alerts = { ...idleAlerts(config.alerts), delivery: () => [DELIVERY] };
  const metrics: ServiceMetrics = new ServiceMetrics({
    version: config.engineVersion,
    points: store,
    persistence: () => snapshotter.status(),
    alerts,
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
    alerts,
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
        "coherence_window_mean_score",
        "coherence_window_volatility_index_ratio",
        "coherence_window_risk_level",
        "coherence_window_risk",
        "coherence_pooled_window_mean_score",
        "coherence_pooled_window_risk",
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "nodejs_heap_size_used_bytes",
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
  equal(valueOf(samples, "coherence_http_requests_total", { method: "other", status: "405" }), 1);
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
    const window = formatWindow(row.window_sec);
    // The pooled rows have metrics of their own, labelled by window only.
    const pooled = row.signal === "*";
    const metric = pooled ? "coherence_pooled_window_" : "coherence_window_";
    const labels: Record<string, string> = pooled ? { window } : { signal: row.signal, window };
    const msg = JSON.stringify(labels);
    equal(valueOf(samples, `${metric}mean_score`, labels), row.mean ?? undefined, msg);
    equal(valueOf(samples, `${metric}stdev_score`, labels), row.stdev ?? undefined, msg);
    equal(
      valueOf(samples, `${metric}volatility_index_ratio`, labels),
      row.volatility_index ?? undefined,
      msg,
    );
    equal(valueOf(samples, `${metric}points`, labels), row.n, msg);
    equal(valueOf(samples, `${metric}risk_level`, labels), RISK_LEVEL_VALUES[row.risk], msg);
    for (const risk of ["low", "medium", "high", "unknown"]) {
      equal(valueOf(samples, `${metric}risk`, { ...labels, risk }), risk === row.risk ? 1 : 0, msg);
    }
  }
  equal(find(samples, "coherence_pooled_window_points").length, config.windows.length);
  // A lone point: mean but no stdev or volatility (absent, never NaN); risk from the mean alone.
  const lonely = { signal: "lonely", window: "1h" };
  equal(valueOf(samples, "coherence_window_mean_score", lonely), 70);
  equal(valueOf(samples, "coherence_window_stdev_score", lonely), undefined);
  equal(valueOf(samples, "coherence_window_volatility_index_ratio", lonely), undefined);
  equal(valueOf(samples, "coherence_window_risk", { ...lonely, risk: "medium" }), 1);
  equal(valueOf(samples, "coherence_snapshot_timestamp_seconds"), T0 / 1000);
  // Label values are escaped: the odd signal name round-trips.
  equal(valueOf(samples, "coherence_window_mean_score", { signal: 'quote"back\\slash', window: "1h" }), 90);
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
    equal(valueOf(samples, "coherence_window_mean_score", { signal: "a" }), 91);
    equal(find(samples, "coherence_window_mean_score", { signal: "b" }).length, 0);
    equal(find(samples, "coherence_window_mean_score", { signal: "c" }).length, 0, "n = 0: no mean series");
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
  // Code-unit order: "Bravo" < "alpha" < "charlie" < "delta"; the pooled figures always.
  deepEqual([...exported].sort(), ["Bravo", "alpha"]);
  equal(find(samples, "coherence_window_points").length, 4);
  equal(find(samples, "coherence_pooled_window_points").length, 2);
  equal(valueOf(samples, "coherence_metrics_signals_omitted"), 2);
});

/** Units the naming guide replaces by base units (seconds, bytes, ratios from 0 to 1). */
const NOT_BASE_UNITS = new Set(
  "ms us ns millis milliseconds microseconds nanoseconds minutes hours days kb mb gb kilobytes megabytes gigabytes bits percent percentage"
    .split(" "),
);

/** The metric families of a fully populated exposition: every instrument has at least one series. */
async function populatedExposition(): Promise<string> {
  const { app, metrics, snapshotter } = wired();
  await snapshotter.afterCycle();
  metrics.recordCycle(okCycle);
  await exercise(app);
  return await (await app.request("/metrics")).text();
}

Deno.test("every metric name follows the Prometheus naming guide: _total on counters, base units, _ratio, _score", async () => {
  const types = metricTypes(await populatedExposition());
  ok(types.size > 40, `${types.size} metric families`);
  for (const [name, type] of types) {
    ok(/^(coherence|process|nodejs)_[a-z0-9_]+$/.test(name), `${name}: one application prefix, snake_case`);
    equal(name.endsWith("_total"), type === "counter", `${name} (${type}): _total if and only if a counter`);
    if (type === "histogram") ok(/_(seconds|bytes)$/.test(name), `${name}: a histogram in base units`);
    for (const word of name.split("_")) {
      ok(!NOT_BASE_UNITS.has(word), `${name}: base units only (seconds, bytes, ratio), not ${word}`);
    }
  }
  // The renamed ones (a dashboard using the old names finds nothing: CHANGELOG lists them).
  for (
    const [renamed, old] of [
      ["coherence_window_volatility_index_ratio", "coherence_window_volatility_index"],
      ["coherence_window_mean_score", "coherence_window_mean"],
      ["coherence_window_stdev_score", "coherence_window_stdev"],
      ["process_resident_memory_bytes", "coherence_process_resident_memory_bytes"],
      ["process_start_time_seconds", "coherence_process_start_time_seconds"],
    ]
  ) {
    equal(types.get(renamed), "gauge", renamed);
    ok(!types.has(old), `${old} is gone`);
  }
});

Deno.test("process metrics come from prom-client's default collectors, only those Deno fills with real numbers", async () => {
  const samples = parseSamples(await populatedExposition());
  ok(find(samples, "coherence_process_resident_memory_bytes").length === 0);
  ok(valueOf(samples, "process_resident_memory_bytes")! > 1_000_000, "RSS in bytes");
  ok(valueOf(samples, "process_cpu_seconds_total")! > 0);
  const start = valueOf(samples, "process_start_time_seconds")!;
  ok(Math.abs(start - (Date.now() / 1000 - performance.now() / 1000)) < 5, `start ${start} is this process'`);
  ok(valueOf(samples, "nodejs_heap_size_used_bytes")! > 1_000_000);
  ok(find(samples, "nodejs_heap_space_size_used_bytes").some((s) => s.value > 0));
  ok(find(samples, "nodejs_eventloop_lag_p99_seconds").length === 1);
  // Families Deno cannot fill are dropped, not exported as constant zeros.
  for (
    const name of [
      "nodejs_gc_duration_seconds_count",
      "nodejs_active_handles_total",
      "nodejs_active_resources_total",
    ]
  ) {
    equal(find(samples, name).length, 0, name);
  }
});

Deno.test("createProcessRegistry() reads /proc/self when allowed, else RSS from Deno.memoryUsage() and no zero gauges", async () => {
  // Tests run with --allow-all, which is what Deno needs to read /proc/self.
  const withProc = parseSamples(await createProcessRegistry({ procfs: true }).metrics());
  ok(valueOf(withProc, "process_open_fds")! > 0);
  ok(
    valueOf(withProc, "process_virtual_memory_bytes")! > valueOf(withProc, "process_resident_memory_bytes")!,
  );
  // The service runs with --allow-read only: /proc/self is refused, so its gauges would read 0.
  const without = parseSamples(
    await createProcessRegistry({ procfs: false, rss: () => 123_456_789 }).metrics(),
  );
  equal(valueOf(without, "process_resident_memory_bytes"), 123_456_789);
  for (
    const name of [
      "process_open_fds",
      "process_max_fds",
      "process_virtual_memory_bytes",
      "process_heap_bytes",
    ]
  ) {
    equal(find(without, name).length, 0, name);
  }
  ok(valueOf(without, "process_cpu_seconds_total")! > 0);
});

Deno.test("pooled figures have metrics of their own: sum by (window) over signals never counts the pool", async () => {
  const { metrics, snapshotter, config } = wired();
  await snapshotter.afterCycle();
  const samples = parseSamples(await metrics.exposition());
  for (
    const name of ["mean_score", "stdev_score", "volatility_index_ratio", "points", "risk_level", "risk"]
  ) {
    equal(find(samples, `coherence_window_${name}`, { signal: "*" }).length, 0, `no signal="*" in ${name}`);
    ok(find(samples, `coherence_pooled_window_${name}`).every((s) => !("signal" in s.labels)));
  }
  for (const window of config.windows.map(formatWindow)) {
    // What `sum by (window) (coherence_window_points)` computes: the real signals only, equal to the pool.
    const sum = find(samples, "coherence_window_points", { window }).reduce((total, s) => total + s.value, 0);
    ok(sum > 0);
    equal(sum, valueOf(samples, "coherence_pooled_window_points", { window }), window);
  }
});

/** REJECT_REASONS is exactly RejectReason: a reason added to or missing from either fails type checking. */
type Listed = (typeof REJECT_REASONS)[number];
const sameReasons: [Exclude<RejectReason, Listed> | Exclude<Listed, RejectReason>] extends [never] ? true
  : never = true;

Deno.test("counters with a fixed label set are exported at 0 before anything happens", async () => {
  ok(sameReasons);
  const samples = parseSamples(await new ServiceMetrics().exposition());
  deepEqual(
    find(samples, "coherence_ingest_rejected_records_total").map((s) => [s.labels.reason, s.value]).sort(),
    [...REJECT_REASONS].sort().map((reason) => [reason, 0]),
  );
  ok(REJECT_REASONS.includes("signal_limit") && REJECT_REASONS.includes("score_out_of_range"));
  for (const outcome of ["ok", "failed"]) {
    equal(valueOf(samples, "coherence_ingest_cycles_total", { outcome }), 0, outcome);
  }
  for (const outcome of ["inserted", "updated", "duplicate", "rejected"]) {
    equal(valueOf(samples, "coherence_ingest_records_total", { outcome }), 0, outcome);
  }
  for (
    const name of [
      "coherence_ingest_pages_total",
      "coherence_ingest_retries_total",
      "coherence_ingest_evicted_points_total",
      "coherence_ingest_out_of_window_records_total",
      "coherence_ingest_loop_guard_stops_total",
      "coherence_ingest_retry_after_waits_total",
      "coherence_ingest_retry_after_wait_seconds_total",
    ]
  ) equal(valueOf(samples, name), 0, name);
});

Deno.test("README's metrics table names exactly the metric families /metrics exports", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(
    readme.indexOf("## Metrics for Prometheus"),
    readme.indexOf("## API reference"),
  );
  const documented = new Set<string>();
  for (const [, cell] of section.matchAll(/^\| ([^|]+)\|/gm)) {
    for (const [, name] of cell.matchAll(/`([a-z][a-z0-9_]*)`/g)) documented.add(name);
  }
  const exported = [...metricTypes(await populatedExposition()).keys()];
  deepEqual([...documented].sort(), exported.sort());
});

Deno.test({
  name: "docs/prometheus-rules.yml passes `promtool check rules`",
  ignore: !havePromtool && !CI,
  async fn() {
    const path = new URL("../../docs/prometheus-rules.yml", import.meta.url).pathname;
    const rules = await Deno.readTextFile(path);
    ok(rules.includes("alert: CoherenceDriftRiskHigh"));
    const { success, output } = await promtoolCheckRules(path);
    ok(success, output);
    ok(/SUCCESS: [1-9]\d* rules found/.test(output), output);
  },
});

/** Metric family name → type, from the `# TYPE` lines. */
function metricTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(name, type);
  return types;
}

/** `promtool check rules <path>`: its exit status and everything it printed. */
async function promtoolCheckRules(path: string): Promise<{ success: boolean; output: string }> {
  const { success, stdout, stderr } = await new Deno.Command(PROMTOOL, { args: ["check", "rules", path] })
    .output();
  const decoder = new TextDecoder();
  return { success, output: (decoder.decode(stdout) + decoder.decode(stderr)).trim() };
}
Deno.test("ServiceMetrics.exposition(), formatted one metric at a time, is prom-client's registry.metrics() text, then the process metrics", async () => {
  const { app, metrics, snapshotter } = wired();
  await exercise(app);
  await snapshotter.afterCycle();
  const text = await metrics.exposition();
  ok(text.includes('coherence_window_mean_score{signal="alpha"'), "the window gauges are populated");
  const service = await metrics.registry.metrics();
  equal(text.slice(0, service.length + 1), `${service}\n`);
  ok(text.slice(service.length).includes("process_resident_memory_bytes"), "then the process metrics");
});
