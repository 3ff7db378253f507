/**
 * Opens the snapshot store for a persistence mode: the one call `main.ts` makes.
 *
 * | mode     | where ({@linkcode storeFile})                    |
 * | -------- | ------------------------------------------------ |
 * | `sqlite` | `DATA_DIR/rolling_store.db`                      |
 * | `csv`    | `DATA_DIR/rolling_store.csv`                     |
 * | `kv`     | `kvPath`, or the default KV (on Deploy, its own) |
 * | `none`   | nothing                                          |
 *
 * `DATA_DIR` is created if missing, for the file modes only (on Deploy, with `kv`, the file system is
 * read-only).
 */
import { dirname, join } from "node:path";
import { STORE_FILE_NAMES, type StoreMode } from "../core/vocabulary.ts";
import { openCsvStore } from "./csv_store.ts";
import { openKvStore } from "./kv_store.ts";
import { createNoneStore } from "./none_store.ts";
import { type SnapshotStore, SnapshotStoreError, storeError } from "./snapshot.ts";
import { openSqliteStore } from "./sqlite_store.ts";

export interface OpenStoreOptions {
  /** Directory of the SQLite and CSV files. */
  dataDir: string;
  /** Deno KV path or URL for `kv`; omitted: `Deno.openKv()`'s default. */
  kvPath?: string;
}

/**
 * The file `mode` keeps: `DATA_DIR/<file name>` for sqlite and csv, `kvPath` for kv (undefined: the default
 * KV, which has no file here), undefined for none.
 */
export function storeFile(mode: StoreMode, { dataDir, kvPath }: OpenStoreOptions): string | undefined {
  if (mode === "kv") return kvPath;
  const name = STORE_FILE_NAMES[mode];
  return name ? join(dataDir, name) : undefined;
}

async function ensureDir(dataDir: string): Promise<void> {
  try {
    await Deno.mkdir(dataDir, { recursive: true });
  } catch (error) {
    throw storeError(`Cannot create DATA_DIR "${dataDir}"`, error);
  }
}

/** Opens the store for `mode`; rejects with {@linkcode SnapshotStoreError} (naming the file) if it cannot. */
export async function openSnapshotStore(
  mode: StoreMode,
  options: OpenStoreOptions,
): Promise<SnapshotStore> {
  const { dataDir, kvPath } = options;
  switch (mode) {
    case "sqlite":
      await ensureDir(dataDir);
      return openSqliteStore(storeFile(mode, options)!);
    case "csv":
      await ensureDir(dataDir);
      return await openCsvStore(storeFile(mode, options)!);
    case "kv":
      // A local KV file lives in DATA_DIR like the others; URLs (a remote denokv) and the default need no folder.
      if (kvPath !== undefined && !/^[a-z]+:\/\//i.test(kvPath) && kvPath !== ":memory:") {
        await ensureDir(dirname(kvPath));
      }
      return await openKvStore(kvPath);
    case "none":
      return createNoneStore();
    default:
      throw new SnapshotStoreError(
        `Unknown persistence mode "${String(mode)}": expected sqlite, csv, kv or none`,
      );
  }
}
