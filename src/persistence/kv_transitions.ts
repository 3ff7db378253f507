/**
 * The transitions log in Deno KV (`PERSISTENCE=kv`), in the same KV as the snapshots. Keys:
 * - `["transitions", atMs, id]` → the transition: keys sort in log order `(at, id)`, so `after(cursor)` is one
 *   range list starting just past `[…, cursor.atMs, cursor.id]`, and `list({since})` a reverse range.
 * - `["transitions_by_id", id]` → atMs: an append checks it is absent (`versionstamp: null`) in the same atomic
 *   commit, so a retried or concurrent append of the same id lands once.
 * - `["transitions_latest", windowSec, signal]` → the key's newest transition, for `latest()`; set in the same
 *   commit, guarded by a check on its versionstamp, and only by a newer transition.
 * - `["alert_delivery", target]` → `{atMs, id}`, a delivery target's cursor.
 *
 * An append commits in atomic batches of at most 25 transitions and ~400 KiB (KV allows 1000 mutations, 100
 * checks and 800 KiB a commit); a transition whose value would pass 60 KB is refused before anything is written
 * (KV's limit is 64 KiB). A crash may keep a prefix of whole batches, never part of one; a batch whose checks
 * fail (another writer raced it) is re-read and retried. `list` with a signal or window filter scans the log
 * from its newest end (bounded by `since` and `limit`; transitions are rare and `prune` bounds the log). Values
 * read back are validated with {@linkcode TransitionSchema}; invalid ones are skipped and logged.
 */
import { getLogger } from "@logtape/logtape";
import type { Transition } from "../core/alerts.ts";
import { errorMessage, SnapshotStoreError, storeError } from "./snapshot.ts";
import { parseCursor, validateLimit, validateTarget } from "./transition_checks.ts";
import { validateTransitions } from "./transition_records.ts";
import {
  compareTransitions,
  type DeliveryCursor,
  type TransitionLog,
  type TransitionQuery,
  TransitionSchema,
} from "./transitions.ts";
import { kvLocation } from "./kv_store.ts";
import { KV_COMMIT_BYTES, KV_COMMIT_MUTATIONS } from "./kv_limits.ts";

const log = getLogger(["coherence", "persistence"]);

export const KV_TRANSITIONS_PREFIX = "transitions";
export const KV_TRANSITIONS_BY_ID_PREFIX = "transitions_by_id";
export const KV_TRANSITIONS_LATEST_PREFIX = "transitions_latest";
export const KV_DELIVERY_PREFIX = "alert_delivery";
/** The largest transition value accepted, in bytes of JSON (KV's value limit is 64 KiB). */
export const KV_MAX_TRANSITION_BYTES = 60_000;
const BATCH_TRANSITIONS = 25;
const ATTEMPTS = 5;
const encoder = new TextEncoder();

function keyOf(t: Transition): Deno.KvKey {
  return [KV_TRANSITIONS_PREFIX, Date.parse(t.at), t.id];
}

function latestKeyOf(t: Pick<Transition, "signal" | "windowSec">): Deno.KvKey {
  return [KV_TRANSITIONS_LATEST_PREFIX, t.windowSec, t.signal];
}

/** `kv.getMany` for any number of keys (it takes at most 10 at a time). */
async function getAll(kv: Deno.Kv, keys: readonly Deno.KvKey[]): Promise<Deno.KvEntryMaybe<unknown>[]> {
  const out: Deno.KvEntryMaybe<unknown>[] = [];
  for (let i = 0; i < keys.length; i += 10) out.push(...await kv.getMany(keys.slice(i, i + 10)));
  return out;
}

export interface KvTransitionLogOptions {
  /** Shown in errors (default `deno-kv:(shared)`). */
  location?: string;
  /** Close the KV handle when the log is closed (default false: the caller owns it). */
  closeKv?: boolean;
}

export class KvTransitionLog implements TransitionLog {
  readonly location: string;
  /** Values the most recent read skipped because they did not validate. */
  skippedEntries = 0;
  readonly #kv: Deno.Kv;
  readonly #closeKv: boolean;
  #closed = false;

  constructor(kv: Deno.Kv, { location = "deno-kv:(shared)", closeKv = false }: KvTransitionLogOptions = {}) {
    this.#kv = kv;
    this.location = location;
    this.#closeKv = closeKv;
  }

  /** Runs `op` on an open log; its failures as store errors saying `doing`. */
  async #run<T>(doing: string, op: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new SnapshotStoreError(`Transitions log "${this.location}" is closed`);
    try {
      return await op();
    } catch (error) {
      throw storeError(doing, error);
    }
  }

  /** The validated transitions among `values`, counting the rest in `skippedEntries`. */
  #valid(values: readonly unknown[]): Transition[] {
    const out: Transition[] = [];
    for (const value of values) {
      const parsed = TransitionSchema.safeParse(value);
      if (parsed.success) out.push(parsed.data);
    }
    const skipped = values.length - out.length;
    if (skipped > 0) {
      log.warn("Skipped {count} invalid transition values in {location}", {
        count: skipped,
        location: this.location,
      });
    }
    this.skippedEntries = skipped;
    return out;
  }

  append(transitions: readonly Transition[]): Promise<void> {
    const doing = `Cannot append ${transitions.length} transitions to "${this.location}"`;
    return this.#run(doing, async () => {
      const valid = validateTransitions(transitions, doing);
      const batches: Transition[][] = [];
      let batch: Transition[] = [];
      let bytes = 0;
      const seen = new Set<string>();
      for (const t of valid) {
        if (seen.has(t.id)) continue;
        seen.add(t.id);
        const size = encoder.encode(JSON.stringify(t)).length;
        if (size > KV_MAX_TRANSITION_BYTES) {
          throw new SnapshotStoreError(
            `${doing}: transition ${JSON.stringify(t.id)} is ${size} bytes, more than the ` +
              `${KV_MAX_TRANSITION_BYTES} a KV value may hold; nothing was written`,
          );
        }
        if (
          batch.length > 0 && (batch.length === BATCH_TRANSITIONS || bytes + 2 * size + 300 > KV_COMMIT_BYTES)
        ) {
          batches.push(batch);
          batch = [];
          bytes = 0;
        }
        batch.push(t);
        bytes += 2 * size + 300;
      }
      if (batch.length > 0) batches.push(batch);
      let stored = 0;
      try {
        for (const b of batches) {
          await this.#commitBatch(b);
          stored += b.length;
        }
      } catch (error) {
        if (stored === 0) throw error;
        throw new Error(`${errorMessage(error)} (the first ${stored} were stored)`, { cause: error });
      }
    });
  }

  /** Commits the transitions of `batch` not held yet, and the newer latest ones, in one atomic operation. */
  async #commitBatch(batch: readonly Transition[]): Promise<void> {
    const kv = this.#kv;
    for (let attempt = 1;; attempt++) {
      const held = await getAll(kv, batch.map((t) => [KV_TRANSITIONS_BY_ID_PREFIX, t.id]));
      const fresh = batch.filter((_, i) => held[i].versionstamp === null);
      if (fresh.length === 0) return;
      const newest = new Map<string, Transition>();
      for (const t of fresh) {
        const k = JSON.stringify(latestKeyOf(t));
        const n = newest.get(k);
        if (n === undefined || compareTransitions(n, t) < 0) newest.set(k, t);
      }
      const candidates = [...newest.values()];
      const latest = await getAll(kv, candidates.map(latestKeyOf));
      const atomic = kv.atomic();
      for (const t of fresh) {
        atomic.check({ key: [KV_TRANSITIONS_BY_ID_PREFIX, t.id], versionstamp: null });
        atomic.set(keyOf(t), t);
        atomic.set([KV_TRANSITIONS_BY_ID_PREFIX, t.id], Date.parse(t.at));
      }
      candidates.forEach((t, i) => {
        const current = TransitionSchema.safeParse(latest[i].value);
        if (current.success && compareTransitions(current.data, t) >= 0) return;
        atomic.check(latest[i]);
        atomic.set(latestKeyOf(t), t);
      });
      const result = await atomic.commit();
      if (result.ok) return;
      if (attempt === ATTEMPTS) {
        throw new Error(
          `Deno KV refused the atomic commit ${ATTEMPTS} times (another writer kept racing it)`,
        );
      }
    }
  }

  list({ signal, windowSec, sinceMs, limit }: TransitionQuery): Promise<Transition[]> {
    return this.#run(`Cannot list transitions in "${this.location}"`, async () => {
      validateLimit(limit);
      if (limit === 0) return [];
      const prefix = [KV_TRANSITIONS_PREFIX];
      const selector: Deno.KvListSelector = sinceMs === undefined
        ? { prefix }
        : { prefix, start: [...prefix, sinceMs] };
      const filtered = signal !== undefined || windowSec !== undefined;
      const out: Transition[] = [];
      let skipped = 0;
      for await (
        const entry of this.#kv.list(selector, {
          reverse: true,
          batchSize: filtered ? 500 : Math.min(limit, 500),
        })
      ) {
        const parsed = TransitionSchema.safeParse(entry.value);
        if (!parsed.success) {
          skipped++;
          continue;
        }
        const t = parsed.data;
        if (
          (signal !== undefined && t.signal !== signal) ||
          (windowSec !== undefined && t.windowSec !== windowSec)
        ) {
          continue;
        }
        out.push(t);
        if (out.length === limit) break;
      }
      if (skipped > 0) {
        log.warn("Skipped {count} invalid transition values in {location}", {
          count: skipped,
          location: this.location,
        });
      }
      this.skippedEntries = skipped;
      return out.reverse();
    });
  }

  latest(): Promise<Transition[]> {
    return this.#run(`Cannot read the latest transitions in "${this.location}"`, async () => {
      const values: unknown[] = [];
      for await (const entry of this.#kv.list({ prefix: [KV_TRANSITIONS_LATEST_PREFIX] })) {
        values.push(entry.value);
      }
      return this.#valid(values).sort(compareTransitions);
    });
  }

  #selectorAfter(cursor: DeliveryCursor | null): Deno.KvListSelector {
    const prefix = [KV_TRANSITIONS_PREFIX];
    if (cursor === null) return { prefix };
    const { atMs, id } = parseCursor(cursor);
    // The first key past [prefix, atMs, id]: id + "\0" sorts right after id, before any longer or greater id.
    return { prefix, start: [KV_TRANSITIONS_PREFIX, atMs, `${id}\u0000`] };
  }

  after(cursor: DeliveryCursor | null, limit: number): Promise<Transition[]> {
    return this.#run(`Cannot read transitions after a cursor in "${this.location}"`, async () => {
      validateLimit(limit);
      if (limit === 0) return [];
      const values: unknown[] = [];
      for await (
        const entry of this.#kv.list(this.#selectorAfter(cursor), { limit, batchSize: Math.min(limit, 500) })
      ) {
        values.push(entry.value);
      }
      return this.#valid(values);
    });
  }

  countAfter(cursor: DeliveryCursor | null): Promise<number> {
    return this.#run(`Cannot count transitions after a cursor in "${this.location}"`, async () => {
      let count = 0;
      for await (const _ of this.#kv.list(this.#selectorAfter(cursor), { batchSize: 1000 })) count++;
      return count;
    });
  }

  cursor(target: string): Promise<DeliveryCursor | null> {
    return this.#run(
      `Cannot read the delivery cursor of ${JSON.stringify(target)} in "${this.location}"`,
      async () => {
        validateTarget(target);
        const entry = await this.#kv.get([KV_DELIVERY_PREFIX, target]);
        return entry.versionstamp === null ? null : parseCursor(entry.value);
      },
    );
  }

  setCursor(target: string, cursor: DeliveryCursor): Promise<void> {
    return this.#run(
      `Cannot move the delivery cursor of ${JSON.stringify(target)} in "${this.location}"`,
      async () => {
        validateTarget(target);
        await this.#kv.set([KV_DELIVERY_PREFIX, target], parseCursor(cursor));
      },
    );
  }

  prune(beforeMs: number): Promise<number> {
    let deleted = 0;
    return this.#run(`Cannot prune transitions in "${this.location}"`, async () => {
      if (Number.isNaN(beforeMs)) throw new RangeError("beforeMs is NaN");
      const keep = new Set<string>();
      for await (const entry of this.#kv.list({ prefix: [KV_TRANSITIONS_LATEST_PREFIX] })) {
        const parsed = TransitionSchema.safeParse(entry.value);
        if (parsed.success) keep.add(parsed.data.id);
      }
      const prefix = [KV_TRANSITIONS_PREFIX];
      let atomic = this.#kv.atomic();
      let pending = 0;
      const commit = async () => {
        const result = await atomic.commit();
        if (!result.ok) throw new Error(`Deno KV refused the atomic delete (${deleted} deleted)`);
        deleted += pending;
        atomic = this.#kv.atomic();
        pending = 0;
      };
      for await (const entry of this.#kv.list({ prefix, end: [...prefix, beforeMs] }, { batchSize: 500 })) {
        const id = entry.key[2];
        if (typeof id !== "string" || keep.has(id)) continue;
        atomic.delete(entry.key);
        atomic.delete([KV_TRANSITIONS_BY_ID_PREFIX, id]);
        if (++pending * 2 >= KV_COMMIT_MUTATIONS) await commit();
      }
      if (pending > 0) await commit();
      return deleted;
    });
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      if (this.#closeKv) this.#kv.close();
    }
    return Promise.resolve();
  }
}

/** A transitions log over a KV handle the caller opened (the snapshot store's, say, or `:memory:`). */
export function createKvTransitionLog(kv: Deno.Kv, options?: KvTransitionLogOptions): KvTransitionLog {
  return new KvTransitionLog(kv, options);
}

/** Opens KV at `path` (a file, `:memory:`, a `denokv` URL; omitted: the default) and owns it. */
export async function openKvTransitionLog(path?: string): Promise<KvTransitionLog> {
  const location = kvLocation(path);
  let kv: Deno.Kv;
  try {
    kv = await Deno.openKv(path === "" ? undefined : path);
  } catch (error) {
    throw storeError(`Cannot open transitions log "${location}"`, error);
  }
  return new KvTransitionLog(kv, { location, closeKv: true });
}
