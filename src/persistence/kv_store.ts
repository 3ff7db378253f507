/**
 * Deno KV snapshot store (`PERSISTENCE=kv`, for Deno Deploy or a shared self-hosted `denokv`).
 *
 * Keys, laid out so every read is one bounded range scan:
 * - `["snapshots", signal, windowSec, computedAtMs, seq]` → the row (its 12 columns as a plain object).
 *   Within a series, keys sort by time; `seq` orders and disambiguates rows with equal times: a per-store
 *   monotonic string (append wall-clock ms and a counter, base 36, fixed width) plus a random per-store nonce,
 *   so stores in different isolates never overwrite each other's rows. History is a reverse range read from
 *   the end of the series (or down to `[…, sinceMs]`), stopped after `limit` rows, then reversed.
 * - `["snapshot_series", signal, windowSec]` → true: the series registry, set in the same atomic commit as the
 *   series' rows. Retention lists the registry and deletes each series' range below `[…, beforeMs]`, so it
 *   reads only the rows it deletes. (The alternative, a second time-ordered index key per row, would double
 *   every write to make a rare operation cheaper; the registry costs one small key per series.) Registry
 *   entries are never deleted: an emptied series costs one key, and a concurrent append can't be orphaned.
 *
 * Appends commit in atomic batches of at most 500 mutations and ~400 KiB (KV allows 1000 and 800 KiB): a
 * crash or failure mid-append may keep a prefix of whole batches, never a partial row. Values read back are
 * validated with {@linkcode SnapshotRowSchema}; invalid ones are skipped, counted and logged.
 */
import { getLogger } from "@logtape/logtape";
import {
  computedAtMs,
  type HistoryQuery,
  pickColumns,
  type SnapshotRow,
  SnapshotRowSchema,
  type SnapshotStore,
  SnapshotStoreError,
  storeError,
  validateBeforeMs,
  validateQuery,
  validateRows,
} from "./snapshot.ts";
import { KV_COMMIT_BYTES, KV_COMMIT_MUTATIONS, utf8Bytes } from "./kv_limits.ts";

const log = getLogger(["coherence", "persistence"]);

export const KV_ROWS_PREFIX = "snapshots";
export const KV_SERIES_PREFIX = "snapshot_series";

/** An upper bound of what a row adds to a commit: its key (signal, numbers, seq) and serialized value. */
function rowBytes(row: SnapshotRow): number {
  return 2 * utf8Bytes(row.signal) + utf8Bytes(row.source) + utf8Bytes(row.engine_version) + 400;
}

/** Where a KV path points, without credentials (a remote URL may carry a user and password). */
export function kvLocation(path: string | undefined): string {
  if (path === undefined || path === "") return "deno-kv:default";
  try {
    const url = new URL(path);
    if (url.protocol === "http:" || url.protocol === "https:") {
      url.username = "";
      url.password = "";
      url.search = "";
      return `deno-kv:${url.href}`;
    }
  } catch {
    // a file path
  }
  return `deno-kv:${path}`;
}

export interface KvStoreOptions {
  /** Shown as the store's location (default `deno-kv:(shared)`). */
  location?: string;
  /** Close the KV handle when the store is closed (default false: the caller owns it). */
  closeKv?: boolean;
}

export class KvSnapshotStore implements SnapshotStore {
  readonly mode = "kv";
  readonly location: string;
  /** Values the most recent history read skipped because they did not validate. */
  skippedEntries = 0;
  readonly #kv: Deno.Kv;
  readonly #closeKv: boolean;
  readonly #nonce = crypto.getRandomValues(new Uint32Array(1))[0].toString(36).padStart(7, "0");
  #lastMs = 0;
  #counter = 0;
  #closed = false;

  constructor(kv: Deno.Kv, { location = "deno-kv:(shared)", closeKv = false }: KvStoreOptions = {}) {
    this.#kv = kv;
    this.location = location;
    this.#closeKv = closeKv;
  }

  /** The KV handle, for data kept beside the snapshots (the transitions log); owned by this store. */
  get kv(): Deno.Kv {
    return this.#kv;
  }

  /** Increasing within this store (even if the clock steps back), unique across stores. */
  #nextSeq(): string {
    const now = Math.max(Date.now(), this.#lastMs);
    if (now === this.#lastMs) this.#counter++;
    else {
      this.#lastMs = now;
      this.#counter = 0;
    }
    return now.toString(36).padStart(9, "0") + this.#counter.toString(36).padStart(4, "0") + this.#nonce;
  }

  #checkOpen(): void {
    if (this.#closed) throw new SnapshotStoreError(`Snapshot store "${this.location}" is closed`);
  }

  async append(rows: readonly SnapshotRow[]): Promise<void> {
    this.#checkOpen();
    validateRows(rows);
    let stored = 0;
    try {
      let atomic = this.#kv.atomic();
      let mutations = 0;
      let bytes = 0;
      let pending = 0;
      let series = new Set<string>();
      for (const row of rows) {
        const id = JSON.stringify([row.signal, row.window_sec]);
        const size = rowBytes(row);
        if (
          pending > 0 && (mutations + 2 > KV_COMMIT_MUTATIONS || bytes + 2 * size > KV_COMMIT_BYTES)
        ) {
          await this.#commit(atomic);
          stored += pending;
          atomic = this.#kv.atomic();
          mutations = bytes = pending = 0;
          series = new Set();
        }
        atomic.set(
          [KV_ROWS_PREFIX, row.signal, row.window_sec, computedAtMs(row), this.#nextSeq()],
          pickColumns(row),
        );
        mutations++;
        pending++;
        bytes += size;
        if (!series.has(id)) {
          series.add(id);
          atomic.set([KV_SERIES_PREFIX, row.signal, row.window_sec], true);
          mutations++;
          bytes += utf8Bytes(row.signal) + 100;
        }
      }
      if (pending > 0) await this.#commit(atomic);
    } catch (error) {
      const kept = stored > 0 ? ` (the first ${stored} were stored)` : "";
      throw storeError(`Cannot append ${rows.length} snapshot rows to "${this.location}"${kept}`, error);
    }
  }

  async #commit(atomic: Deno.AtomicOperation): Promise<void> {
    const result = await atomic.commit();
    if (!result.ok) {
      throw new Error("Cannot commit snapshot rows: Deno KV refused the atomic operation", { cause: result });
    }
  }

  async history(query: HistoryQuery): Promise<SnapshotRow[]> {
    this.#checkOpen();
    validateQuery(query);
    if (query.limit === 0) return [];
    const prefix = [KV_ROWS_PREFIX, query.signal, query.windowSec];
    const selector: Deno.KvListSelector = query.sinceMs === undefined
      ? { prefix }
      : { prefix, start: [...prefix, query.sinceMs] };
    const rows: SnapshotRow[] = [];
    let skipped = 0;
    try {
      const entries = this.#kv.list(selector, { reverse: true, batchSize: Math.min(query.limit, 1000) });
      for await (const entry of entries) {
        const result = SnapshotRowSchema.safeParse(entry.value);
        if (!result.success) {
          skipped++;
          continue;
        }
        rows.push(result.data);
        if (rows.length === query.limit) break;
      }
    } catch (error) {
      throw storeError(`Cannot read snapshot history from "${this.location}"`, error);
    }
    if (skipped > 0) {
      log.warn("Skipped {count} invalid snapshot values in {location}", {
        count: skipped,
        location: this.location,
      });
    }
    this.skippedEntries = skipped;
    return rows.reverse();
  }

  async prune(beforeMs: number): Promise<number> {
    this.#checkOpen();
    validateBeforeMs(beforeMs);
    let deleted = 0;
    try {
      for await (const series of this.#kv.list({ prefix: [KV_SERIES_PREFIX] })) {
        const prefix = [KV_ROWS_PREFIX, ...series.key.slice(1)];
        let atomic = this.#kv.atomic();
        let pending = 0;
        for await (const entry of this.#kv.list({ prefix, end: [...prefix, beforeMs] }, { batchSize: 500 })) {
          atomic.delete(entry.key);
          if (++pending === KV_COMMIT_MUTATIONS) {
            await this.#commit(atomic);
            deleted += pending;
            atomic = this.#kv.atomic();
            pending = 0;
          }
        }
        if (pending > 0) {
          await this.#commit(atomic);
          deleted += pending;
        }
      }
    } catch (error) {
      throw storeError(`Cannot prune snapshots in "${this.location}" (${deleted} deleted)`, error);
    }
    return deleted;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#closeKv) this.#kv.close();
    }
    return Promise.resolve();
  }
}

/** A store over a KV handle the caller opened (for instance one shared with other data, or `:memory:`). */
export function createKvStore(kv: Deno.Kv, options?: KvStoreOptions): KvSnapshotStore {
  return new KvSnapshotStore(kv, options);
}

/** Opens KV at `path` (a file, `:memory:`, a `denokv` URL; omitted: the default, Deploy's own) and owns it. */
export async function openKvStore(path?: string): Promise<KvSnapshotStore> {
  const location = kvLocation(path);
  let kv: Deno.Kv;
  try {
    kv = await Deno.openKv(path === "" ? undefined : path);
  } catch (error) {
    throw storeError(`Cannot open snapshot store "${location}"`, error);
  }
  return new KvSnapshotStore(kv, { location, closeKv: true });
}
