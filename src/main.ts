/**
 * The one wiring point: config → logging → store → source → ingest → createApp(deps) → Deno.serve.
 * Nothing here runs at import time; `main()` runs when this file is the entry point.
 */
import { dispose, getLogger } from "@logtape/logtape";
import { type Config, ConfigError, loadConfig, mergeEnvironment } from "./config.ts";
import { PointStore } from "./core/point_store.ts";
import { STORE_FILE_NAMES } from "./core/vocabulary.ts";
import { createApp } from "./http/app.ts";
import { ServiceMetrics } from "./http/prometheus.ts";
import { type CronFn, scheduleIngest } from "./deploy.ts";
import { createDarshanClient } from "./ingest/darshan_client.ts";
import { DIALECTS } from "./ingest/dialect.ts";
import { BUNDLED_FIXTURE, createMockSource } from "./ingest/mock_source.ts";
import { createPoller } from "./ingest/poller.ts";
import type { Source } from "./ingest/source.ts";
import { configureLogging } from "./logging.ts";
import { createStoreRegistry } from "./persistence/registry.ts";
import { openRetryingStore } from "./persistence/retrying_store.ts";
import { createSnapshotter } from "./persistence/snapshotter.ts";
import { join } from "node:path";
import { checkDataDir, checkMockPath, listenError, STARTUP_EXIT_CODE, StartupError } from "./startup.ts";
import { redactUserInfo } from "./core/redact.ts";
import { createAlerting } from "./alerts/alerting.ts";
import type { AlertsView } from "./http/alerts_routes.ts";
import { openRetryingTransitionLog } from "./persistence/retrying_transitions.ts";
import { createDispatcher } from "./alerts/dispatcher.ts";
import type { DeliveryTarget } from "./alerts/target.ts";
import { createWebhookTarget } from "./alerts/webhook_target.ts";
import { createAlertmanagerTarget } from "./alerts/alertmanager_target.ts";
import { formatWindow } from "./core/window.ts";
import type { SnapshotRow } from "./persistence/snapshot.ts";
import { KvSnapshotStore } from "./persistence/kv_store.ts";
import { createSharedInstances, type SharedInstances } from "./shared/instances.ts";
import { resolveInstanceId } from "./shared/lease.ts";

const log = getLogger(["coherence", "main"]);

/** The environment with `.env` (if present in the working directory) underneath: the real environment wins. */
export async function readEnvironment(path = ".env"): Promise<Record<string, string | undefined>> {
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return mergeEnvironment(text, Deno.env.toObject());
}

/** Picks the data source: the live API when DARSHAN_BASE_URL is set, else MOCK_PATH, else the bundled fixture. */
export function createSource(config: Config, { startedAtMs = Date.now() } = {}): Source {
  const { baseUrl, apiKey = "", dialect } = config.darshan;
  if (baseUrl) return createDarshanClient({ ...config.darshan, baseUrl, apiKey, dialect: DIALECTS[dialect] });
  return createMockSource({
    path: config.mock.path ?? BUNDLED_FIXTURE,
    replay: config.mock.replay,
    // The newest record lands on the whole second of start-up, so replayed timestamps read cleanly.
    anchorMs: Math.floor(startedAtMs / 1000) * 1000,
    dialect: DIALECTS[dialect],
  });
}

export interface Service {
  server: Deno.HttpServer<Deno.NetAddr>;
  url: string;
  metrics: ServiceMetrics;
  /** The ingest cron schedule on Deno Deploy; null when the timer loop runs. */
  ingestSchedule: string | null;
  /**
   * Graceful stop: the listener closes at once while in-flight requests finish; ingest stops at the same time
   * (a pull in flight is aborted, a snapshot write in progress completes); then the stores are closed (SQLite
   * checkpoints its WAL). Safe to call more than once.
   */
  shutdown(): Promise<void>;
}

export interface StartOptions {
  onListen?: (url: string) => void;
  /** Wraps the app's handler (tests inject slow requests). */
  wrapHandler?: (handler: Deno.ServeHandler<Deno.NetAddr>) => Deno.ServeHandler<Deno.NetAddr>;
  /** `Deno.cron` stand-in for Deploy mode (tests). */
  cron?: CronFn;
}

/**
 * Where the local Deno KV file lives when PERSISTENCE=kv; undefined on Deno Deploy, where `Deno.openKv()`
 * opens the platform's KV and nothing may be written to the file system.
 */
export function kvPathFor(config: Config): string | undefined {
  if (config.kvUrl !== undefined) return config.kvUrl;
  return config.deploy ? undefined : join(config.dataDir, STORE_FILE_NAMES.kv);
}

/** Starts the whole service from a config; used by `main()` and by the end-to-end tests. */
export async function startService(
  config: Config,
  { onListen, wrapHandler, cron }: StartOptions = {},
): Promise<Service> {
  const startedAtMs = Date.now();
  const store = new PointStore();
  const storeOptions = { dataDir: config.dataDir, kvPath: kvPathFor(config) };
  // Deno's KV Connect client reads DENO_KV_ACCESS_TOKEN from the environment: pass on one set only in `.env`.
  if (
    config.kvUrl !== undefined && config.kvAccessToken !== undefined && !Deno.env.get("DENO_KV_ACCESS_TOKEN")
  ) {
    Deno.env.set("DENO_KV_ACCESS_TOKEN", config.kvAccessToken);
  }
  const snapshots = await openRetryingStore(config.persistence, storeOptions);
  if (snapshots.openError) {
    log.error("snapshot store unavailable; retrying every cycle", { error: snapshots.openError });
  }
  // PERSISTENCE=kv: several instances may share the KV. One holds the ingest lease and writes the points it
  // ingests; the others follow them (docs/SCALING.md). All on the snapshot store's KV handle.
  let shared: SharedInstances | null = null;
  if (config.persistence === "kv") {
    if (!(snapshots.current instanceof KvSnapshotStore)) {
      throw new StartupError(
        `Cannot open Deno KV for PERSISTENCE=kv: ${snapshots.openError ?? "no KV handle"}`,
      );
    }
    shared = createSharedInstances({
      kv: snapshots.current.kv,
      store,
      holderId: resolveInstanceId(config.instanceId),
      leaseMs: config.leaseSec * 1000,
      syncMs: config.syncIntervalMs,
      maxWindowSec: config.windows.reduce((a, b) => Math.max(a, b)),
      overlapSec: config.ingestOverlapSec,
      onHolderChange: (isHolder) => void holderChanged(isHolder),
      onApply: () => refreshAlerts(),
    });
  }
  const upstream = createSource(config, { startedAtMs });
  const source = shared ? shared.gateSource(upstream) : upstream;
  const registry = createStoreRegistry(snapshots, storeOptions);
  // The transitions log (also the delivery outbox), then the alert states restored from it before ingest
  // starts: a restarted process never fires twice for one change.
  // With kv it shares the snapshot store's KV handle (two handles on one local KV file contend for its lock).
  const transitions = await openRetryingTransitionLog(config.persistence, {
    ...storeOptions,
    store: snapshots.current ?? undefined,
  });
  if (transitions.openError) {
    log.error("transitions log unavailable; retrying on each use", { error: transitions.openError });
  }
  // Delivery: the transitions log is the outbox; each target keeps its cursor there.
  let listenUrl = "";
  const targets: DeliveryTarget[] = [];
  if (config.alerts.webhook) targets.push(createWebhookTarget(config.alerts.webhook));
  if (config.alerts.alertmanagerUrl) {
    targets.push(createAlertmanagerTarget({
      url: config.alerts.alertmanagerUrl,
      pageUrl: (signal, windowSec) => pageUrl(linkBase(config, listenUrl), signal, windowSec),
      active: () => alerting.active(),
      resendMs: config.alerts.resendSec * 1000,
    }));
  }
  const newDispatcher = () =>
    createDispatcher({
      log: transitions,
      targets,
      maxAgeMs: config.alerts.webhookMaxAgeMs,
      maxOutbox: config.alerts.outboxMax,
    });
  // With several instances only the lease holder delivers: a fresh dispatcher each time it gains the lease
  // (a stopped one cannot restart); between, the last one's status stays readable.
  let dispatcher = newDispatcher();
  const alerting = createAlerting({
    log: transitions,
    settings: {
      forMs: config.alerts.forMs,
      recoveryMargin: config.alerts.recoveryMargin,
      thresholds: config.thresholds,
    },
    windows: config.windows,
    // Kept as long as the snapshots, and never less than a delivery may still be retried.
    retentionMs: Math.max(config.retentionSec * 1000, config.alerts.webhookMaxAgeMs),
    onTransitions: () => dispatcher.wake(),
  });
  await alerting.restore().catch((error) => {
    // Evaluation retries the restore before each cycle and evaluates nothing until it succeeds.
    log.error("alert states not restored; retrying before each evaluation", { error: String(error) });
  });
  const alerts: AlertsView = {
    states: alerting.states,
    status: alerting.status,
    transitions,
    delivery: () => dispatcher.status(),
  };
  let listening = false;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** A follower's alert states, from the transitions log the holder appends to (on each applied version). */
  const refreshAlerts = () => {
    if (shared === null || shared.isHolder()) return;
    const restore = () =>
      alerting.restore({ level: "debug" }).catch((error) =>
        log.warn("alert states not refreshed", { error: String(error) })
      );
    void restore();
    // The holder evaluates alerts just after committing the points: read again one sync interval later.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(restore, config.syncIntervalMs);
  };
  async function holderChanged(isHolder: boolean): Promise<void> {
    if (isHolder) {
      // Continue from the previous holder's alert states, then deliver what it left in the outbox.
      await alerting.restore().catch((error) =>
        log.warn("alert states not restored", { error: String(error) })
      );
      if (shared?.isHolder() && listening) {
        dispatcher = newDispatcher();
        dispatcher.start();
      }
    } else {
      await dispatcher.stop();
    }
  }
  const metrics = new ServiceMetrics({
    version: config.engineVersion,
    points: store,
    persistence: () => snapshotter.status(),
    maxSignals: config.metricsMaxSignals,
    alerts,
  });
  // The rows of the cycle's snapshot, evaluated by the alerts once the snapshot is written.
  let cycleRows: readonly SnapshotRow[] | null = null;
  const snapshotter = createSnapshotter({
    points: store,
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: source.kind,
    engineVersion: config.engineVersion,
    onRows: (rows) => {
      cycleRows = rows;
      metrics.recordSnapshot(rows);
    },
  });
  const poller = createPoller({
    source,
    store,
    maxWindowSec: config.windows.reduce((a, b) => Math.max(a, b)),
    overlapSec: config.ingestOverlapSec,
    intervalSec: config.ingestIntervalSec,
    maxSignals: config.maxSignals,
    onCycle: async (cycle) => {
      metrics.recordCycle(cycle);
      // Several instances: the holder shares the cycle's points first; a holder that stepped down meanwhile
      // writes no snapshot and evaluates nothing (the next holder does).
      if (shared !== null) {
        await shared.afterCycle(cycle, {
          unbounded: source.unbounded,
          coverageStartMs: poller.coverageStartMs(),
        });
        if (!shared.isHolder()) return;
      }
      cycleRows = null;
      await snapshotter.afterCycle(cycle);
      const rows = cycleRows;
      cycleRows = null;
      // Only after an ok cycle (a failed one writes no snapshot); evaluate() never rejects.
      if (cycle.ok && rows !== null) await alerting.evaluate(rows);
    },
  });
  // On Deno Deploy the cron job must be registered during start-up, before the server listens.
  const cronAbort = new AbortController();
  const ingest = scheduleIngest(shared ? shared.gate(poller) : poller, {
    deploy: config.deploy,
    intervalSec: config.ingestIntervalSec,
    cron,
    signal: cronAbort.signal,
    onError: (error) => log.error("ingest cycle failed to run", { error: String(error) }),
  });
  if (ingest.schedule !== null) {
    log.info("ingest scheduled with Deno.cron", {
      schedule: ingest.schedule,
      persistence: config.persistence,
    });
  }
  const app = createApp({
    config,
    store,
    // Followers never run the poller: they take the holder's coverage start from the shared points version.
    ingest: shared
      ? { ...poller, coverageStartMs: () => shared.coverageStartMs(poller.coverageStartMs()) }
      : poller,
    persistence: { registry, status: snapshotter.status },
    source: { kind: source.kind, location: source.location, replay: source.kind === "mock_replay" },
    startedAtMs,
    metrics,
    alerts,
    instances: shared ? { lease: shared.leaseStatus, sync: shared.syncStatus } : undefined,
  });
  // Followers answer from the shared points: loaded before the service listens, then followed.
  if (shared !== null) {
    try {
      await shared.start();
    } catch (error) {
      await transitions.close();
      await registry.closeAll();
      throw new StartupError(`Cannot load the shared points from Deno KV: ${String(error)}`);
    }
  }
  let url = "";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.host,
      port: config.port,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        url = `http://${host}:${port}`;
        listenUrl = url;
        log.info("listening", { url, source: source.kind, location: source.location });
        onListen?.(url);
      },
    }, wrapHandler ? wrapHandler(app.fetch) : app.fetch);
  } catch (error) {
    // A port in use or an address not ours: nothing has started, so close what was opened and say why.
    cronAbort.abort();
    await shared?.stop();
    await transitions.close();
    await registry.closeAll();
    throw listenError(error, config);
  }
  // Delivery starts once the states are restored and the page URL (generatorURL) is known; ingest once the
  // listener is up, so /health answers at once even while a large backfill runs.
  listening = true;
  if (shared === null || shared.isHolder()) dispatcher.start();
  ingest.start();
  let stopping: Promise<void> | null = null;
  return {
    server,
    get url() {
      return url;
    },
    metrics,
    ingestSchedule: ingest.schedule,
    shutdown() {
      stopping ??= (async () => {
        cronAbort.abort();
        clearTimeout(refreshTimer);
        // With several instances, stopping ingest also releases the lease for the next instance.
        await Promise.all([server.shutdown(), shared ? shared.stop() : poller.stop(), dispatcher.stop()]);
        // Nothing can touch the stores any more: close them (SQLite checkpoints and removes its WAL file); the
        // transitions log first, as it may share the KV store's handle.
        await transitions.close();
        await registry.closeAll();
      })();
      return stopping;
    },
  };
}

/**
 * The base of the links alerts carry: `PUBLIC_URL` when set (the address users reach the service at, behind a
 * proxy or a load balancer), else the address the service listens on.
 */
export function linkBase(config: Pick<Config, "alerts">, listenUrl: string): string {
  return config.alerts.publicUrl ?? listenUrl;
}

/** The page for a signal and window under the service's base URL: the Alertmanager alerts' `generatorURL`. */
export function pageUrl(base: string, signal: string, windowSec: number): string {
  return `${base}/?${new URLSearchParams({ signal, window: formatWindow(windowSec) })}`;
}

/**
 * The URL `--healthcheck` probes: `/health` on this process's PORT, through loopback when the service listens
 * on every address (`0.0.0.0`, `::`).
 */
export function healthcheckUrl(config: Pick<Config, "host" | "port">): string {
  const host = config.host === "0.0.0.0" || config.host === ""
    ? "127.0.0.1"
    : config.host === "::"
    ? "[::1]"
    : config.host.includes(":")
    ? `[${config.host}]`
    : config.host;
  return `http://${host}:${config.port}/health`;
}

/**
 * `coherence-engine --healthcheck`: GET /health of the running service; 0 when it answers 200 with status ok,
 * else 1. The Docker HEALTHCHECK runs it, so the runtime image needs no curl or shell.
 */
export async function healthcheck(
  config: Pick<Config, "host" | "port">,
  { fetch = globalThis.fetch, timeoutMs = 3000, print = console.error }: {
    fetch?: typeof globalThis.fetch;
    timeoutMs?: number;
    print?: (line: string) => void;
  } = {},
): Promise<number> {
  if (config.port === 0) {
    print("healthcheck: PORT=0 picks a random port; set PORT to probe the service");
    return 1;
  }
  const url = healthcheckUrl(config);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.json().catch(() => null);
    if (response.status === 200 && body?.status === "ok") return 0;
    print(`healthcheck: ${url} answered ${response.status}`);
  } catch (error) {
    print(`healthcheck: ${url} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return 1;
}

/** Longest a graceful stop may take before the process exits anyway, ms. */
const SHUTDOWN_GRACE_MS = 30_000;

export async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(await readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`Invalid configuration: ${problem}`);
      Deno.exit(2);
    }
    throw error;
  }
  if (Deno.args[0] === "--healthcheck") Deno.exit(await healthcheck(config));
  await configureLogging({ level: config.logLevel });
  let service: Service;
  try {
    await checkDataDir(config);
    await checkMockPath(config);
    service = await startService(config);
  } catch (error) {
    if (!(error instanceof StartupError)) throw error;
    console.error(redactUserInfo(error.message));
    Deno.exit(STARTUP_EXIT_CODE);
  }
  if (config.deploy) return; // Deploy manages the isolate's life: no signals, and start-up must complete.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    const deadline = setTimeout(() => {
      log.error("graceful stop took too long; exiting", { graceMs: SHUTDOWN_GRACE_MS });
      Deno.exit(1);
    }, SHUTDOWN_GRACE_MS);
    await service.shutdown();
    clearTimeout(deadline);
    log.info("stopped", { signal });
    await dispose(); // flushes the log sink
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await service.server.finished;
}

if (import.meta.main) await main();
