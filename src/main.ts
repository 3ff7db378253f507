/**
 * The one wiring point: config → logging → store → source → ingest → createApp(deps) → Deno.serve.
 * Nothing here runs at import time; `main()` runs when this file is the entry point.
 */
import { getLogger } from "@logtape/logtape";
import { type Config, ConfigError, loadConfig, mergeEnvironment } from "./config.ts";
import { PointStore } from "./core/point_store.ts";
import { createApp } from "./http/app.ts";
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
  if (config.darshan.baseUrl) {
    return createDarshanClient({
      baseUrl: config.darshan.baseUrl,
      apiKey: config.darshan.apiKey ?? "",
      pageSize: config.darshan.pageSize,
      timeoutMs: config.darshan.timeoutMs,
      maxRetries: config.darshan.maxRetries,
      retryBaseMs: config.darshan.retryBaseMs,
      retryCapMs: config.darshan.retryCapMs,
      retryAfterCapMs: config.darshan.retryAfterCapMs,
      dialect: DIALECTS[config.darshan.dialect],
    });
  }
  return createMockSource({
    path: config.mock.path ?? BUNDLED_FIXTURE,
    replay: config.mock.replay,
    // The newest record lands on the whole second of start-up, so replayed timestamps read cleanly.
    anchorMs: Math.floor(startedAtMs / 1000) * 1000,
    dialect: DIALECTS[config.darshan.dialect],
  });
}

export interface Service {
  server: Deno.HttpServer<Deno.NetAddr>;
  url: string;
  /** Stops ingest and the server (in-flight requests finish). */
  shutdown(): Promise<void>;
}

/** Where the local Deno KV file lives when PERSISTENCE=kv (Deno Deploy uses its own KV instead). */
export function kvPathFor(config: Config): string {
  return join(config.dataDir, "rolling_store.kv");
}

/** Starts the whole service from a config; used by `main()` and by the end-to-end tests. */
export async function startService(
  config: Config,
  { onListen }: { onListen?: (url: string) => void } = {},
): Promise<Service> {
  const startedAtMs = Date.now();
  const store = new PointStore();
  const source = createSource(config, { startedAtMs });
  const storeOptions = { dataDir: config.dataDir, kvPath: kvPathFor(config) };
  const snapshots = await openRetryingStore(config.persistence, storeOptions);
  if (snapshots.openError) {
    log.error("snapshot store unavailable; retrying every cycle", { error: snapshots.openError });
  }
  const registry = createStoreRegistry(snapshots, storeOptions);
  const snapshotter = createSnapshotter({
    points: store,
    snapshots,
    windows: config.windows,
    retentionSec: config.retentionSec,
    thresholds: config.thresholds,
    source: source.kind,
    engineVersion: config.engineVersion,
  });
  const poller = createPoller({
    source,
    store,
    maxWindowSec: Math.max(...config.windows),
    overlapSec: config.ingestOverlapSec,
    intervalSec: config.ingestIntervalSec,
    onCycle: () => snapshotter.afterCycle(),
  });
  const app = createApp({
    config,
    store,
    ingest: poller,
    persistence: { registry, status: snapshotter.status },
    source: { kind: source.kind, location: source.location, replay: source.kind === "mock_replay" },
    startedAtMs,
  });
  let url = "";
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => {
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      url = `http://${host}:${port}`;
      log.info("listening", { url, source: source.kind, location: source.location });
      onListen?.(url);
    },
  }, app.fetch);
  // Ingest starts once the listener is up, so /health answers at once even while a large backfill runs.
  poller.start();
  return {
    server,
    get url() {
      return url;
    },
    async shutdown() {
      await poller.stop();
      await server.shutdown();
      await registry.closeAll();
    },
  };
}

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
  await configureLogging({ level: config.logLevel });
  const service = await startService(config);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await service.shutdown();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  await service.server.finished;
}

if (import.meta.main) await main();
