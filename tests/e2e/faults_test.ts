/**
 * Faults end to end: the real client, poller, snapshotter and API against an upstream that goes down, times
 * out or drips; a full DATA_DIR. The service keeps answering from what it holds and says what is wrong.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { PointStore } from "../../src/core/point_store.ts";
import { toRfc3339 } from "../../src/core/report.ts";
import { createDarshanClient } from "../../src/ingest/darshan_client.ts";
import { normalizeRecord } from "../../src/ingest/normalize.ts";
import { createPoller } from "../../src/ingest/poller.ts";
import { createApp } from "../../src/http/app.ts";
import { ServiceMetrics } from "../../src/http/prometheus.ts";
import { createMockDarshan, generateRecords, mulberry32 } from "../../src/mock/darshan_server.ts";
import { createStoreRegistry } from "../../src/persistence/registry.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import { openCsvStore } from "../../src/persistence/csv_store.ts";
import { openRetryingStore } from "../../src/persistence/retrying_store.ts";
import type { SnapshotStore } from "../../src/persistence/snapshot.ts";
import { createSnapshotter } from "../../src/persistence/snapshotter.ts";
import { StatusSchema } from "../../src/schemas.ts";
import { testConfig } from "../helpers.ts";

const KEY = "fault-key-7d2c90";
const T0 = Date.parse("2025-10-29T12:00:00Z");
const MINUTE = 60_000;

/** Serves `handler` on a free loopback port. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return { server, baseUrl: `http://127.0.0.1:${server.addr.port}` };
}

/** The whole service in-process, on a fake clock, with a real client and a given snapshot store. */
function service(baseUrl: string, snapshots: SnapshotStore, clientOptions: Record<string, number> = {}) {
  let clock = T0;
  const store = new PointStore();
  const config = testConfig({ DARSHAN_BASE_URL: baseUrl, DARSHAN_API_KEY: KEY, DEFAULT_WINDOWS: "1h,24h" });
  const source = createDarshanClient({
    baseUrl,
    apiKey: KEY,
    pageSize: 50,
    maxRetries: 2,
    timeoutMs: 2000,
    sleep: () => Promise.resolve(),
    now: () => clock,
    ...clientOptions,
  });
  const snapshotter = createSnapshotter({
    points: store,
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: source.kind,
    engineVersion: config.engineVersion,
    now: () => clock,
  });
  const poller = createPoller({
    source,
    store,
    maxWindowSec: 86_400,
    overlapSec: 300,
    intervalSec: 60,
    now: () => clock,
    onCycle: (cycle) => snapshotter.afterCycle(cycle),
  });
  const app = createApp({
    config,
    store,
    ingest: poller,
    persistence: {
      registry: createStoreRegistry(snapshots, { dataDir: "/nonexistent" }),
      status: snapshotter.status,
    },
    source: { kind: source.kind, location: source.location, replay: false },
    startedAtMs: T0,
    now: () => clock,
    metrics: new ServiceMetrics(),
  });
  const status = async () => StatusSchema.parse(await (await app.request("/status")).json());
  return { store, poller, app, status, advance: (ms: number) => (clock += ms), now: () => clock };
}

Deno.test("upstream down for several cycles and back: no gap in the held data, no duplicate rows, /status truthful", async () => {
  // One record per minute for alpha over 3 hours; the mock only serves what is inside (from, to].
  const records = generateRecords(180, {
    random: mulberry32(4),
    endMs: T0 + 120 * MINUTE,
    signals: ["alpha"],
  });
  const mock = createMockDarshan({ records, apiKey: KEY });
  let down = false;
  const { server, baseUrl } = serve((req) =>
    down ? new Response("maintenance", { status: 503 }) : mock.app.fetch(req)
  );
  const snapshots = openSqliteStore(":memory:");
  try {
    const s = service(baseUrl, snapshots);
    ok((await s.poller.runCycle()).ok);
    let status = await s.status();
    equal(status.status, "ok");
    const heldBefore = s.store.size;

    down = true;
    for (let i = 0; i < 5; i++) {
      s.advance(10 * MINUTE);
      const cycle = await s.poller.runCycle();
      equal(cycle.ok, false);
      match(cycle.error ?? "", /after 3 attempts/);
      equal(cycle.retries, 2, "the failed cycle reports the retries its error speaks of");
      status = await s.status();
      equal(status.status, "degraded");
      match(status.lastIngest?.error ?? "", /503/);
      equal(status.lastSuccessfulIngestAt, toRfc3339(T0), "the last success stays the one before the outage");
      equal(s.store.size, heldBefore, "held data is kept");
      const metrics = await s.app.request("/coherence/metrics?signal=alpha&window=24h");
      equal(metrics.status, 200, "the API keeps answering from what it holds");
      await metrics.body?.cancel();
    }

    down = false;
    s.advance(10 * MINUTE);
    const back = await s.poller.runCycle();
    ok(back.ok, back.error ?? "");
    status = await s.status();
    equal(status.status, "ok");
    // Everything up to now is held: the outage left no gap.
    const want = records.map((r) => normalizeRecord(r)).filter((r) => r.ok).map((r) => r.ok ? r.point : null)
      .filter((p) => p !== null && p.ts <= s.now()).map((p) => [p!.ts, p!.score]);
    deepEqual(s.store.points("alpha", 0, Number.MAX_SAFE_INTEGER).map((p) => [p.ts, p.score]), want);
    // One snapshot per successful cycle, none repeated: the outage is a gap in the history, not rows.
    const rows = await snapshots.history({ signal: "alpha", windowSec: 3600, limit: 100 });
    equal(rows.length, 2);
    equal(new Set(rows.map((r) => r.computed_at)).size, 2);
  } finally {
    mock.close();
    await server.shutdown();
    await snapshots.close();
  }
});

Deno.test("every upstream request timing out fails the cycle with a timeout error and keeps the held data", async () => {
  const records = generateRecords(30, { random: mulberry32(5), endMs: T0, signals: ["alpha"] });
  const mock = createMockDarshan({ records, apiKey: KEY });
  let slow = false;
  const { server, baseUrl } = serve(async (req) => {
    if (slow) await new Promise((r) => setTimeout(r, 400));
    return mock.app.fetch(req);
  });
  const snapshots = openSqliteStore(":memory:");
  try {
    const s = service(baseUrl, snapshots, { timeoutMs: 50 });
    ok((await s.poller.runCycle()).ok);
    slow = true;
    s.advance(MINUTE);
    const started = performance.now();
    const cycle = await s.poller.runCycle();
    equal(cycle.ok, false);
    match(cycle.error ?? "", /tim(ed|e) ?out/i);
    ok(performance.now() - started < 3000, "three attempts of 50 ms, not the upstream's pace");
    equal(s.store.size, 30);
    const status = await s.status();
    equal(status.status, "degraded");
  } finally {
    slow = false;
    mock.close();
    await server.shutdown();
    await snapshots.close();
  }
});

Deno.test("a slow-drip response (headers, then a byte at a time) is cut off by the timeout", async () => {
  const { server, baseUrl } = serve(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode('{"data":[],"next_cursor":null}');
        let i = 0;
        timer = setInterval(() => {
          if (i < bytes.length) controller.enqueue(bytes.subarray(i, ++i));
          else {
            clearInterval(timer);
            controller.close();
          }
        }, 40);
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return new Response(body, { headers: { "content-type": "application/json" } });
  });
  const snapshots = openSqliteStore(":memory:");
  try {
    const s = service(baseUrl, snapshots, { timeoutMs: 200, maxRetries: 1 });
    const started = performance.now();
    const cycle = await s.poller.runCycle();
    equal(cycle.ok, false, "a 31-byte body at 25 bytes/s takes 1.2 s; the timeout is 200 ms");
    ok(performance.now() - started < 1200);
    equal((await s.app.request("/health")).status, 200);
  } finally {
    await server.shutdown();
    await snapshots.close();
  }
});

Deno.test("a full DATA_DIR: the snapshot write fails, /status says so, ingest goes on, and earlier rows survive", async () => {
  const dir = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=16k", "tmpfs", dir] })
    .output();
  equal(mount.code, 0, `mounting a 16 KiB tmpfs needs root: ${new TextDecoder().decode(mount.stderr)}`);
  const records = generateRecords(120, {
    random: mulberry32(6),
    endMs: T0,
    signals: ["alpha", "beta", "gamma"],
  });
  const mock = createMockDarshan({ records, apiKey: KEY });
  const { server, baseUrl } = serve((req) => mock.app.fetch(req));
  const snapshots = await openCsvStore(join(dir, "rolling_store.csv"));
  try {
    const s = service(baseUrl, snapshots);
    let failures = 0;
    for (let i = 0; i < 60 && failures === 0; i++) {
      const cycle = await s.poller.runCycle();
      ok(cycle.ok, "ingest goes on while the disk is full");
      failures = (await s.status()).persistence.writeFailures;
      s.advance(MINUTE);
    }
    ok(failures > 0, "the 16 KiB disk filled up");
    const status = await s.status();
    match(status.persistence.lastWrite?.error ?? "", /space|ENOSPC|full/i);
    equal(status.lastIngest?.ok, true);
    // Every row written before the disk filled is still readable and whole.
    const rows = await snapshots.history({ signal: "*", windowSec: 3600, limit: 1000 });
    ok(rows.length > 0);
    ok(rows.every((r) => r.engine_version === "0.1.0" && r.window_sec === 3600));
  } finally {
    mock.close();
    await server.shutdown();
    await snapshots.close();
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("csv on a full DATA_DIR: the rows /coherence/history serves are exactly the rows counted as written", async () => {
  const dir = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "size=16k", "tmpfs", dir] })
    .output();
  equal(mount.code, 0, `mounting a 16 KiB tmpfs needs root: ${new TextDecoder().decode(mount.stderr)}`);
  const signals = ["alpha", "beta", "gamma"];
  const records = generateRecords(120, { random: mulberry32(12), endMs: T0, signals });
  const mock = createMockDarshan({ records, apiKey: KEY });
  const { server, baseUrl } = serve((req) => mock.app.fetch(req));
  const snapshots = await openCsvStore(join(dir, "rolling_store.csv"));
  try {
    const s = service(baseUrl, snapshots);
    // Keep cycling well past the first failed write: every later append fails part-way or not at all.
    for (let i = 0; i < 60 && (await s.status()).persistence.writeFailures < 5; i++) {
      ok((await s.poller.runCycle()).ok);
      s.advance(MINUTE);
    }
    const { persistence } = await s.status();
    ok(persistence.writeFailures >= 5, "the 16 KiB disk filled up");
    let served = 0;
    for (const signal of [...signals, "*"]) {
      for (const window of ["1h", "24h"]) {
        const res = await s.app.request(
          `/coherence/history?signal=${encodeURIComponent(signal)}&window=${window}&limit=10000`,
        );
        equal(res.status, 200);
        served += (await res.json()).count;
      }
    }
    ok(persistence.rowsWritten > 0);
    equal(served, persistence.rowsWritten, "no row of a failed append is served");
    equal(snapshots.skippedLines, 0, "and no torn line is left behind");
  } finally {
    mock.close();
    await server.shutdown();
    await snapshots.close();
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a read-only DATA_DIR: every write fails with the reason in /status while ingest and the API go on", async () => {
  const dir = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", "ro,size=16k", "tmpfs", dir] })
    .output();
  equal(mount.code, 0, `mounting a read-only tmpfs needs root: ${new TextDecoder().decode(mount.stderr)}`);
  const records = generateRecords(60, { random: mulberry32(8), endMs: T0, signals: ["alpha"] });
  const mock = createMockDarshan({ records, apiKey: KEY });
  const { server, baseUrl } = serve((req) => mock.app.fetch(req));
  const snapshots = await openRetryingStore("csv", { dataDir: join(dir, "data") });
  try {
    ok(snapshots.openError !== null, "the store cannot be opened on a read-only file system");
    const s = service(baseUrl, snapshots);
    for (let i = 0; i < 3; i++) {
      ok((await s.poller.runCycle()).ok, "ingest goes on");
      s.advance(MINUTE);
    }
    const status = await s.status();
    equal(status.persistence.writeFailures, 3);
    match(status.persistence.lastWrite?.error ?? "", /read-only|EROFS/i);
    const metrics = await s.app.request("/coherence/metrics?signal=alpha");
    equal(metrics.status, 200);
    // 60 one-minute points ending at T0; three cycles later the 1 h window ends at T0 + 3 min.
    equal((await metrics.json()).n, 57);
  } finally {
    mock.close();
    await server.shutdown();
    await snapshots.close();
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
});
