/**
 * The active snapshot store, opened so that a failure to open it (a read-only or missing DATA_DIR, a locked
 * database, a file that is not ours) never stops the service: every operation tries to open the store again
 * and, while it cannot, rejects with the reason — which the snapshotter logs and /status shows. Nothing is
 * ever overwritten to make it work.
 */
import type { StoreMode } from "../core/vocabulary.ts";
import { openSnapshotStore, type OpenStoreOptions, storeFile } from "./open_store.ts";
import { kvLocation } from "./kv_store.ts";
import { errorMessage, type HistoryQuery, type SnapshotRow, type SnapshotStore } from "./snapshot.ts";

export interface RetryingStore extends SnapshotStore {
  /** The last error opening the store, or null once it is open. */
  readonly openError: string | null;
  /** The store once open (the KV transitions log shares its handle), else null. */
  readonly current: SnapshotStore | null;
}

/** The store's {@linkcode SnapshotStore.location} before it could be opened. */
function where(mode: StoreMode, options: OpenStoreOptions): string {
  return mode === "kv" ? kvLocation(options.kvPath) : storeFile(mode, options) ?? "none";
}

/** Opens the store now if it can; otherwise keeps trying on each use. */
export async function openRetryingStore(
  mode: StoreMode,
  options: OpenStoreOptions,
  open: typeof openSnapshotStore = openSnapshotStore,
): Promise<RetryingStore> {
  let store: SnapshotStore | null = null;
  let openError: string | null = null;

  async function ready(): Promise<SnapshotStore> {
    if (store) return store;
    try {
      store = await open(mode, options);
      openError = null;
      return store;
    } catch (error) {
      openError = errorMessage(error);
      throw error;
    }
  }
  await ready().catch(() => {});

  return {
    mode,
    get location() {
      return store?.location ?? where(mode, options);
    },
    get openError() {
      return openError;
    },
    get current() {
      return store;
    },
    async append(rows: readonly SnapshotRow[]) {
      await (await ready()).append(rows);
    },
    async history(query: HistoryQuery) {
      return await (await ready()).history(query);
    },
    async prune(beforeMs: number) {
      return await (await ready()).prune(beforeMs);
    },
    async close() {
      await store?.close();
      store = null;
    },
  };
}
