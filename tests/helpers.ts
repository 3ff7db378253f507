/** Shared test fixtures: a config, a store with known points, and an app built on fakes. */
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { AsyncLocalStorage } from "node:async_hooks";
import { type Config, loadConfig } from "../src/config.ts";
import { type PointInput, PointStore } from "../src/core/point_store.ts";
import { createApp, type IngestView, type PersistenceView } from "../src/http/app.ts";
import { ServiceMetrics } from "../src/http/prometheus.ts";
import type { IngestCycle } from "../src/schemas.ts";
import { createNoneStore } from "../src/persistence/none_store.ts";
import { createStoreRegistry } from "../src/persistence/registry.ts";
import type { SnapshotStore } from "../src/persistence/snapshot.ts";
import { createSnapshotter, snapshotRows } from "../src/persistence/snapshotter.ts";
import type { AlertsView } from "../src/http/alerts_routes.ts";
import type { DeliveryHealth } from "../src/schemas.ts";
import { createAlerting } from "../src/alerts/alerting.ts";
import { createMemoryTransitionLog } from "../src/persistence/memory_transitions.ts";

export const T0 = Date.parse("2025-10-29T17:00:00Z");

/** A plausible ingest cycle record (a successful pull of 2 pages with one retry), with `overrides`. */
export function ingestCycle(overrides: Partial<IngestCycle> = {}): IngestCycle {
  return {
    requestId: "ingest-1",
    startedAt: "2025-10-29T16:59:00Z",
    finishedAt: "2025-10-29T16:59:01Z",
    ok: true,
    range: { from: "2025-10-28T16:59:00Z", to: "2025-10-29T16:59:00Z" },
    durationMs: 1000,
    upstreamLatencyMs: 120,
    pages: 2,
    retries: 1,
    retryAfterWaitsMs: [1000],
    received: 10,
    accepted: 9,
    inserted: 8,
    updated: 1,
    duplicates: 0,
    rejected: 1,
    rejectedByReason: { score_out_of_range: 1 },
    outOfWindow: 0,
    loopGuardStops: 0,
    evicted: 0,
    error: null,
    ...overrides,
  };
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ PERSISTENCE: "none", ...env });
}

/** `count` points per minute ending at `endMs`, score given per index. */
export function series(
  signal: string,
  endMs: number,
  count: number,
  score: (i: number) => number,
): PointInput[] {
  return Array.from(
    { length: count },
    (_, i) => ({ signal, ts: endMs - (count - 1 - i) * 60_000, score: score(i) }),
  );
}

export function fakeIngest(cycles: IngestCycle[] = [], coverageStartMs: number | null = null): IngestView {
  return { cycles: () => cycles, coverageStartMs: () => coverageStartMs, lastSuccessAtMs: () => null };
}

export function testApp(
  {
    points = [],
    env = {},
    now = T0,
    ingest = fakeIngest(),
    store = new PointStore(),
    snapshots = createNoneStore(),
    alerts,
  }: {
    points?: PointInput[];
    env?: Record<string, string>;
    now?: number;
    ingest?: IngestView;
    store?: PointStore;
    snapshots?: SnapshotStore;
    alerts?: AlertsView;
  } = {},
) {
  store.apply(points);
  const config = testConfig(env);
  const snapshotter = createSnapshotter({
    points: store,
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: "mock_file",
    engineVersion: config.engineVersion,
    now: () => now,
  });
  const registry = createStoreRegistry(snapshots, { dataDir: "/nonexistent" });
  const app = createApp({
    config,
    store,
    ingest,
    persistence: { registry, status: snapshotter.status },
    source: { kind: "mock_file", location: "test", replay: false },
    startedAtMs: now - 5000,
    now: () => now,
    metrics: new ServiceMetrics({
      version: config.engineVersion,
      points: store,
      persistence: snapshotter.status,
      alerts,
      maxSignals: config.metricsMaxSignals,
    }),
    alerts,
  });
  return { app, store, config, snapshotter, registry };
}

/**
 * Alert states and a transitions log built the way the service builds them: the points' snapshot rows at each
 * of `endsMs`, evaluated in turn (ALERT_FOR etc. from `config`), with `delivery` as the targets' health.
 */
export async function testAlerts(
  points: PointInput[] | PointStore,
  config: Config,
  endsMs: readonly number[],
  { delivery = [] }: { delivery?: DeliveryHealth[] } = {},
): Promise<AlertsView> {
  const store = points instanceof PointStore ? points : new PointStore();
  if (!(points instanceof PointStore)) store.apply(points);
  const log = createMemoryTransitionLog();
  const alerting = createAlerting({
    log,
    settings: { ...config.alerts, thresholds: config.thresholds },
    windows: config.windows,
    pause: () => Promise.resolve(),
  });
  await alerting.restore();
  for (const endMs of endsMs) {
    await alerting.evaluate(snapshotRows(store, {
      windows: config.windows,
      endMs,
      thresholds: config.thresholds,
      source: "mock_file",
      engineVersion: config.engineVersion,
    }));
  }
  return { states: alerting.states, status: alerting.status, transitions: log, delivery: () => delivery };
}

/** Runs `fn` with LogTape collecting every record (with implicit contexts), then resets LogTape. */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; records: LogRecord[] }> {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { collect: (record) => records.push(record) },
    loggers: [
      { category: ["coherence"], lowestLevel: "debug", sinks: ["collect"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    return { result: await fn(), records };
  } finally {
    await reset();
  }
}

/** Persistence that keeps nothing, for apps built outside `testApp`. */
export function nonePersistence(): PersistenceView {
  const snapshots = createNoneStore();
  const config = testConfig();
  const snapshotter = createSnapshotter({
    points: new PointStore(),
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: "none",
    engineVersion: config.engineVersion,
  });
  return {
    registry: createStoreRegistry(snapshots, { dataDir: "/nonexistent" }),
    status: snapshotter.status,
  };
}

/**
 * Polls `probe` every `intervalMs` until it gives a value (not undefined) or `timeoutMs` passes. A probe that
 * throws counts as "not yet" (a service still starting); the last error is named if time runs out.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const why = lastError === undefined
    ? ""
    : ` (last error: ${lastError instanceof Error ? lastError.message : lastError})`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${why}`);
}

/** The service's entry point, for tests that run it as a child process. */
export const MAIN = new URL("../src/main.ts", import.meta.url).pathname;

/**
 * Starts `src/main.ts` in a child process (`deno run <flags> src/main.ts`) and reads its stdout until `until`
 * has been printed (by default the first successful ingest cycle). Returns the child, the stdout reader (the
 * caller keeps reading or releases it), what was printed so far and the URL of its "listening" line.
 */
export async function spawnMain(
  { flags = ["--allow-all"], env, clearEnv = false, cwd, until = '"ingest cycle ok"', stderr = "null" }: {
    flags?: string[];
    env: Record<string, string>;
    /** Start from an empty environment (only `env`) instead of this process's. */
    clearEnv?: boolean;
    cwd?: string;
    until?: string;
    stderr?: "null" | "piped" | "inherit";
  },
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, MAIN],
    env,
    clearEnv,
    cwd,
    stdout: "piped",
    stderr,
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes(until)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`service exited early:\n${out}`);
    out += value;
  }
  const url = /"url":"(http:\/\/[^"]+)"/.exec(out)?.[1] ?? "";
  return { child, reader, out, url };
}
