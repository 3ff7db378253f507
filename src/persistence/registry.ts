/**
 * The snapshot stores the history API can read: the active one (written after every cycle) and, on request,
 * the others where their data exists (a CSV or database left in DATA_DIR by an earlier run in another mode).
 * Inactive stores are opened only if their file exists, so reading never creates files.
 */
import type { StoreMode } from "../core/vocabulary.ts";
import { openSnapshotStore, type OpenStoreOptions, storeFile } from "./open_store.ts";
import type { SnapshotStore } from "./snapshot.ts";

export interface StoreRegistry {
  readonly active: SnapshotStore;
  /** The store for `mode`, or null when it holds nothing here (no file). Rejects if the file is not ours. */
  get(mode: StoreMode): Promise<SnapshotStore | null>;
  closeAll(): Promise<void>;
}

export function createStoreRegistry(active: SnapshotStore, options: OpenStoreOptions): StoreRegistry {
  const opened = new Map<StoreMode, Promise<SnapshotStore | null>>([[
    active.mode,
    Promise.resolve(active),
  ]]);

  async function open(mode: StoreMode): Promise<SnapshotStore | null> {
    const file = storeFile(mode, options);
    const exists = file !== undefined && await Deno.stat(file).then(() => true, () => false);
    return mode === "none" || exists ? await openSnapshotStore(mode, options) : null;
  }

  return {
    active,
    get(mode) {
      let store = opened.get(mode);
      if (!store) {
        store = open(mode);
        // A failed open (a foreign file) is retried on the next request rather than cached.
        store.catch(() => opened.delete(mode));
        opened.set(mode, store);
      }
      return store;
    },
    async closeAll() {
      for (const store of opened.values()) {
        const s = await store.catch(() => null);
        await s?.close().catch(() => {});
      }
      opened.clear();
    },
  };
}
