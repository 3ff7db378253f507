/**
 * Opens the transitions log for a persistence mode, beside the snapshots ({@linkcode openSnapshotStore}):
 *
 * | mode     | where                                                                             |
 * | -------- | --------------------------------------------------------------------------------- |
 * | `sqlite` | tables `risk_transitions`, `alert_delivery` in `DATA_DIR/rolling_store.db`        |
 * | `csv`    | `DATA_DIR/risk_transitions.csv`, cursors in `DATA_DIR/alert_delivery.json`        |
 * | `kv`     | the snapshot `store`'s KV handle, or `kv`, or `kvPath`, or the default KV           |
 * | `none`   | memory (bounded)                                                                  |
 *
 * `DATA_DIR` is created if missing, for the file modes only.
 */
import { dirname, join } from "node:path";
import { STORE_FILE_NAMES, type StoreMode } from "../core/vocabulary.ts";
import { openCsvTransitionLog } from "./csv_transitions.ts";
import { createKvTransitionLog, openKvTransitionLog } from "./kv_transitions.ts";
import { createMemoryTransitionLog } from "./memory_transitions.ts";
import { kvLocation, KvSnapshotStore } from "./kv_store.ts";
import { type SnapshotStore, SnapshotStoreError, storeError } from "./snapshot.ts";
import { openSqliteTransitionLog } from "./sqlite_transitions.ts";
import type { TransitionLog } from "./transitions.ts";

export interface OpenTransitionLogOptions {
  /** Directory of the SQLite and CSV files. */
  dataDir: string;
  /** Deno KV path or URL for `kv`; omitted: `Deno.openKv()`'s default. Ignored when `kv` is given. */
  kvPath?: string;
  /** An open KV handle for `kv` (not closed with the log). */
  kv?: Deno.Kv;
  /**
   * The snapshot store already open for `mode`: with `kv`, the log shares its KV handle (two handles on one
   * local KV file in one process contend for its lock: "database is locked"). Close the log before the store.
   */
  store?: SnapshotStore;
  /** The bound of the `none` mode's memory log. */
  maxTransitions?: number;
}

async function ensureDir(dir: string): Promise<void> {
  try {
    await Deno.mkdir(dir, { recursive: true });
  } catch (error) {
    throw storeError(`Cannot create DATA_DIR "${dir}"`, error);
  }
}

/** Opens the transitions log for `mode`; rejects with {@linkcode SnapshotStoreError} (naming the file) if it cannot. */
export async function openTransitionLog(
  mode: StoreMode,
  options: OpenTransitionLogOptions,
): Promise<TransitionLog> {
  const { dataDir, kvPath } = options;
  const kv = options.kv ?? (options.store instanceof KvSnapshotStore ? options.store.kv : undefined);
  switch (mode) {
    case "sqlite":
      await ensureDir(dataDir);
      return openSqliteTransitionLog(join(dataDir, STORE_FILE_NAMES.sqlite));
    case "csv":
      await ensureDir(dataDir);
      return await openCsvTransitionLog(dataDir);
    case "kv":
      if (kv !== undefined) return createKvTransitionLog(kv, { location: kvLocation(kvPath) });
      if (kvPath !== undefined && !/^[a-z]+:\/\//i.test(kvPath) && kvPath !== ":memory:") {
        await ensureDir(dirname(kvPath));
      }
      return await openKvTransitionLog(kvPath);
    case "none":
      return createMemoryTransitionLog({ maxTransitions: options.maxTransitions });
    default:
      throw new SnapshotStoreError(
        `Unknown persistence mode "${String(mode)}": expected sqlite, csv, kv or none`,
      );
  }
}
