/**
 * Shared points (issue 16): the ingest lease holder writes the points each cycle changed to Deno KV as
 * time-chunked packed columns (`point_chunks.ts`) under a new version; every other instance follows that
 * version and merges the changed chunks into its own {@linkcode PointStore}. docs/SCALING.md, "Shared points".
 *
 * Keys (`V` a committed version, an integer from 1 on):
 * - `["points", signal, chunkStartMs, V, part]` → a packed part (≤ 60,808 bytes): the chunk's whole content as
 *   the holder held it when it wrote version V.
 * - `["points_cycle", V, part]` → the manifest of version V: the `[signal, chunkStartMs]` it rewrote, plus its
 *   time, holder and retention cutoff. Written before any chunk of V.
 * - `["points_version"]` → `{ version, at, holder, cutoffMs, coverageStartMs, pending }`: the committed version
 *   (`coverageStartMs`: the oldest instant the holder's points cover, its poller's, so followers give the same
 *   `window_exceeds_history` warnings). A writer first
 *   reserves the next version on it (`pending`, atomic check of its versionstamp), writes every manifest and
 *   chunk batch with a check that the reservation still stands, and commits the version last with the same
 *   check. A stale holder (another reserved after it) can neither write a chunk nor commit; what a writer that
 *   died left under its reserved version is deleted (from its manifest) by the next one to reserve it.
 * - `["points_chunks", chunkStartMs, signal]` → 1: the chunks that exist, by time, for retention pruning.
 * - `["points_gc"]` → g: versions below g may have lost copies a reader needs (garbage collection has begun
 *   for g); a reader that read version V < g retries with the newest version.
 *
 * Readers trust only versions ≤ the committed one, and put a whole version in their store in one synchronous
 * step, so no reader ever answers from half a cycle. Garbage collection runs `graceCycles` versions (and at
 * least `graceMs`) behind the newest: then older copies of the chunks a version rewrote are deleted, manifests
 * older than that are dropped, and chunks wholly before that version's retention cutoff are pruned.
 *
 * Wiring (main.ts, with the lease): after each ok cycle, the holder calls
 * `writeCycle({ sinceMs: Date.parse(cycle.range.from) }, { holderId, cutoffMs })` with the poller's eviction
 * cutoff (`Date.parse(cycle.startedAt) − (maxWindowSec + overlapSec)·1000`), or `"all"` for an unbounded source
 * (no range; unchanged chunks are skipped by fingerprint). The poller reports no per-signal ranges: every held
 * signal's chunks from the pull start on are fingerprinted (cheap: a pass over those points) and only changed
 * ones written. Followers call `load()` before serving, then `start()`.
 */
import { z } from "zod";
import { lowerBound } from "../core/binary_search.ts";
import type { PointStore } from "../core/point_store.ts";
import {
  chunkRanges,
  chunkStartOf,
  decodePart,
  DEFAULT_CHUNK_MS,
  encodeChunk,
  fingerprint,
  joinParts,
} from "./point_chunks.ts";
import { KV_COMMIT_BYTES, KV_COMMIT_MUTATIONS } from "../persistence/kv_limits.ts";

export const POINTS_PREFIX = "points";
export const CYCLE_PREFIX = "points_cycle";
export const CHUNKS_PREFIX = "points_chunks";
export const VERSION_KEY: Deno.KvKey = ["points_version"];
export const GC_KEY: Deno.KvKey = ["points_gc"];

/** A manifest part's chunk list stays under this many bytes (estimated). */
const MANIFEST_PART_BYTES = 48 * 1024;

const VersionSchema = z.object({
  version: z.number().int().nonnegative(),
  at: z.number(),
  holder: z.string(),
  cutoffMs: z.number().nullable(),
  /** The holder's coverage start (its poller's `coverageStartMs()`); absent in records written before it. */
  coverageStartMs: z.number().nullable().optional(),
  pending: z.number().int().nullable(),
});
export type PointsVersion = z.infer<typeof VersionSchema>;

const ManifestSchema = z.object({
  at: z.number(),
  holder: z.string(),
  cutoffMs: z.number().nullable(),
  parts: z.number().int().positive(),
  chunks: z.array(z.tuple([z.string(), z.number()])),
});
type Manifest = z.infer<typeof ManifestSchema>;

/** The reader's copy of a chunk: its whole content at the version read. */
interface ChunkCopy {
  signal: string;
  start: number;
  ts: Float64Array;
  score: Float64Array;
}

const chunkId = (signal: string, start: number) => `${start}\u0000${signal}`;

/** Reads the committed version record (null before the first commit or when the value is not one). */
export async function readPointsVersion(
  kv: Deno.Kv,
): Promise<{ record: PointsVersion | null; versionstamp: string | null }> {
  const entry = await kv.get(VERSION_KEY);
  const parsed = VersionSchema.safeParse(entry.value);
  return { record: parsed.success ? parsed.data : null, versionstamp: entry.versionstamp };
}

/** Collects mutations into atomic commits of at most 500 mutations / 400 KiB, each with `check`. */
class Batcher {
  #op: Deno.AtomicOperation | null = null;
  #mutations = 0;
  #bytes = 0;
  committed = 0;
  bytesWritten = 0;
  constructor(private kv: Deno.Kv, private check: Deno.AtomicCheck | null) {}

  #next(bytes: number): Promise<void> | void {
    if (this.#op && (this.#mutations + 1 > KV_COMMIT_MUTATIONS || this.#bytes + bytes > KV_COMMIT_BYTES)) {
      return this.flush().then(() => this.#open(bytes));
    }
    this.#open(bytes);
  }

  #open(bytes: number): void {
    if (!this.#op) {
      this.#op = this.kv.atomic();
      if (this.check) this.#op.check(this.check);
    }
    this.#mutations++;
    this.#bytes += bytes;
  }

  async set(key: Deno.KvKey, value: unknown, bytes: number): Promise<void> {
    const size = bytes + keyBytes(key);
    await this.#next(size);
    this.#op!.set(key, value);
    this.bytesWritten += size;
  }

  async delete(key: Deno.KvKey): Promise<void> {
    await this.#next(keyBytes(key));
    this.#op!.delete(key);
  }

  async flush(): Promise<void> {
    const op = this.#op;
    this.#op = null;
    this.#mutations = 0;
    this.#bytes = 0;
    if (!op) return;
    const result = await op.commit();
    if (!result.ok) throw new StaleWriterError();
    this.committed++;
  }
}

function keyBytes(key: Deno.KvKey): number {
  let n = 8;
  for (const part of key) n += typeof part === "string" ? part.length * 3 + 2 : 10;
  return n;
}

/** Another writer reserved or committed a version after this one reserved its own. */
export class StaleWriterError extends Error {
  constructor() {
    super("Cannot write shared points: another writer moved the points version (this instance is stale)");
    this.name = "StaleWriterError";
  }
}

export interface KvPointWriterOptions {
  kv: Deno.Kv;
  store: PointStore;
  /** Chunk width, ms (default one hour). Readers need not know it; writers sharing a KV must agree. */
  chunkMs?: number;
  /** Versions garbage collection stays behind the newest (default 3). */
  graceCycles?: number;
  /** And at least this long, ms (default 5,000: several sync intervals of 1 s). */
  graceMs?: number;
  now?: () => number;
  /** Runs after every chunk is written and before the version commit (tests: a writer dying there). */
  beforeVersionCommit?: () => void | Promise<void>;
}

/** Which chunks a cycle may have changed. */
export type ChangedPoints =
  /** Every chunk of every held signal (a new holder's first cycle, or tests). */
  | "all"
  /** Every held signal's chunks from this time on (the cycle's pull start: sources keep to the pull range). */
  | { sinceMs: number }
  /** Per signal, the time range [min, max] of the points the cycle touched. */
  | Map<string, readonly [number, number]>;

export interface WriteCycleResult {
  /** False when another writer moved the version (this instance is no longer the holder): nothing committed. */
  ok: boolean;
  version: number;
  /** Chunks rewritten (unchanged chunks are skipped by fingerprint). */
  chunks: number;
  /** Values written (chunk parts). */
  values: number;
  bytes: number;
  commits: number;
  /** Keys deleted by garbage collection and retention after the commit. */
  collected: number;
  durationMs: number;
}

export interface KvPointWriter {
  /**
   * Writes the chunks that changed as a new version (chunks, manifest, then the version key last with a
   * check). Changes of a cycle that failed to commit are written with the next one.
   */
  writeCycle(
    changed: ChangedPoints,
    options: { holderId: string; cutoffMs?: number | null; coverageStartMs?: number | null },
  ): Promise<WriteCycleResult>;
}

export function createKvPointWriter(options: KvPointWriterOptions): KvPointWriter {
  const {
    kv,
    store,
    chunkMs = DEFAULT_CHUNK_MS,
    graceCycles = 3,
    graceMs = 5_000,
    now = Date.now,
    beforeVersionCommit,
  } = options;
  /** Fingerprint of each chunk as last committed by this writer. */
  const written = new Map<string, string>();
  /** Chunks changed since the last successful commit. */
  const dirty = new Map<string, [string, number]>();
  /** The version this writer last committed: when another committed since, `written` no longer says what KV holds. */
  let lastCommitted = -1;

  function markChanged(changed: ChangedPoints): void {
    const add = (signal: string, start: number) => dirty.set(chunkId(signal, start), [signal, start]);
    if (changed === "all") {
      for (const { signal } of store.signals()) {
        const columns = store.columns(signal)!;
        for (const range of chunkRanges(columns.ts, chunkMs)) add(signal, range.start);
      }
    } else if (changed instanceof Map) {
      for (const [signal, [min, max]] of changed) {
        for (let start = chunkStartOf(min, chunkMs); start <= max; start += chunkMs) add(signal, start);
      }
    } else {
      for (const { signal, oldestMs, newestMs } of store.signals()) {
        if (newestMs < changed.sinceMs) continue;
        const first = chunkStartOf(Math.max(changed.sinceMs, oldestMs), chunkMs);
        for (let start = first; start <= newestMs; start += chunkMs) add(signal, start);
      }
    }
  }

  /** The chunks whose content differs from what this writer last committed, with their content now. */
  function contents(): { id: string; signal: string; start: number; parts: Uint8Array[]; print: string }[] {
    const out = [];
    for (const [id, [signal, start]] of dirty) {
      const columns = store.columns(signal);
      let from = 0, to = 0;
      if (columns) {
        from = lowerBound(columns.ts, columns.ts.length, start);
        to = lowerBound(columns.ts, columns.ts.length, start + chunkMs);
      }
      const ts = columns?.ts ?? new Float64Array(0), score = columns?.score ?? new Float64Array(0);
      const print = fingerprint(ts, score, from, to);
      const before = written.get(id);
      // Unchanged, or empty and never written by this writer (nothing to replace).
      if (print === before || (before === undefined && from === to)) continue;
      out.push({ id, signal, start, from, to, print });
    }
    // The holder's changed series are settled, as the readers' are after applying them: equal answers.
    store.settle(new Set(out.map((c) => c.signal)));
    return out.map(({ from, to, ...change }) => {
      const columns = store.columns(change.signal);
      const ts = columns?.ts ?? new Float64Array(0), score = columns?.score ?? new Float64Array(0);
      return { ...change, parts: encodeChunk(ts, score, from, to) };
    });
  }

  async function readManifest(version: number): Promise<Manifest | null> {
    const parts: Manifest[] = [];
    for await (const entry of kv.list({ prefix: [CYCLE_PREFIX, version] })) {
      const parsed = ManifestSchema.safeParse(entry.value);
      if (parsed.success) parts.push(parsed.data);
    }
    if (parts.length === 0 || parts.length !== parts[0].parts) return null;
    return { ...parts[0], chunks: parts.flatMap((p) => p.chunks) };
  }

  /** Deletes every key of a selector through `batch`; returns how many. */
  async function deleteAll(batch: Batcher, selector: Deno.KvListSelector): Promise<number> {
    let n = 0;
    for await (const entry of kv.list(selector, { batchSize: 500 })) {
      await batch.delete(entry.key);
      n++;
    }
    return n;
  }

  /** Garbage collection and retention, `graceCycles` versions behind `committed`. */
  async function collect(committed: number): Promise<number> {
    const cursor = await kv.get<number>(GC_KEY);
    let collected = 0;
    const first = typeof cursor.value === "number" ? cursor.value + 1 : 1;
    for (let g = first, steps = 0; g <= committed - graceCycles && steps < 16; g++, steps++) {
      const manifest = await readManifest(g);
      if (manifest && manifest.at > now() - graceMs) break;
      // Announce before deleting: a reader that read a version below g retries.
      await kv.set(GC_KEY, g);
      const batch = new Batcher(kv, null);
      if (manifest) {
        for (const [signal, start] of manifest.chunks) {
          collected += await deleteAll(batch, {
            start: [POINTS_PREFIX, signal, start],
            end: [POINTS_PREFIX, signal, start, g],
          });
        }
        if (manifest.cutoffMs !== null) {
          const prunable = kv.list<number>({
            start: [CHUNKS_PREFIX],
            end: [CHUNKS_PREFIX, manifest.cutoffMs - chunkMs + 1],
          });
          for await (const entry of prunable) {
            const [, start, signal] = entry.key as [string, number, string];
            collected += await deleteAll(batch, { prefix: [POINTS_PREFIX, signal, start] });
            await batch.delete(entry.key);
            written.delete(chunkId(signal, start));
            collected++;
          }
        }
      }
      collected += await deleteAll(batch, {
        start: [CYCLE_PREFIX],
        end: [CYCLE_PREFIX, g - graceCycles + 1],
      });
      await batch.flush();
    }
    return collected;
  }

  return {
    async writeCycle(changed, { holderId, cutoffMs = null, coverageStartMs = null }) {
      const started = now();
      markChanged(changed);
      const { record, versionstamp } = await readPointsVersion(kv);
      const version = (record?.version ?? 0) + 1;
      if ((record?.version ?? 0) !== lastCommitted) written.clear();
      const result: WriteCycleResult = {
        ok: false,
        version,
        chunks: 0,
        values: 0,
        bytes: 0,
        commits: 0,
        collected: 0,
        durationMs: 0,
      };
      // Reserve the next version: from here on, a writer that reserved before this one cannot write.
      const base = record ?? { version: 0, at: started, holder: holderId, cutoffMs: null };
      const reserved = await kv.atomic().check({ key: VERSION_KEY, versionstamp })
        .set(VERSION_KEY, { ...base, pending: version } satisfies PointsVersion).commit();
      if (!reserved.ok) return { ...result, durationMs: now() - started };
      const batch = new Batcher(kv, { key: VERSION_KEY, versionstamp: reserved.versionstamp });
      try {
        // What a writer that died after reserving this version left behind.
        const left = await readManifest(version);
        for (const [signal, start] of left?.chunks ?? []) {
          await deleteAll(batch, { prefix: [POINTS_PREFIX, signal, start, version] });
        }
        await deleteAll(batch, { prefix: [CYCLE_PREFIX, version] });

        const changes = contents();
        // The manifest first, in parts of bounded size, then the chunks.
        const lists: [string, number][][] = [[]];
        let size = 0;
        for (const { signal, start } of changes) {
          const bytes = signal.length * 3 + 16;
          if (size + bytes > MANIFEST_PART_BYTES) {
            lists.push([]);
            size = 0;
          }
          lists.at(-1)!.push([signal, start]);
          size += bytes;
        }
        for (const [part, chunks] of lists.entries()) {
          const manifest: Manifest = { at: started, holder: holderId, cutoffMs, parts: lists.length, chunks };
          await batch.set([CYCLE_PREFIX, version, part], manifest, MANIFEST_PART_BYTES);
        }
        for (const { signal, start, parts } of changes) {
          for (const [part, bytes] of parts.entries()) {
            await batch.set([POINTS_PREFIX, signal, start, version, part], bytes, bytes.byteLength);
            result.values++;
          }
          await batch.set([CHUNKS_PREFIX, start, signal], 1, 8);
        }
        await batch.flush();
        await beforeVersionCommit?.();
        const commit = await kv.atomic().check({ key: VERSION_KEY, versionstamp: reserved.versionstamp })
          .set(
            VERSION_KEY,
            {
              version,
              at: now(),
              holder: holderId,
              cutoffMs,
              coverageStartMs,
              pending: null,
            } satisfies PointsVersion,
          )
          .commit();
        if (!commit.ok) throw new StaleWriterError();
        lastCommitted = version;
        for (const { id, print } of changes) written.set(id, print);
        dirty.clear();
        Object.assign(result, {
          ok: true,
          chunks: changes.length,
          bytes: batch.bytesWritten,
          commits: batch.committed + 2,
        });
      } catch (error) {
        if (!(error instanceof StaleWriterError)) throw error;
        return { ...result, durationMs: now() - started };
      }
      result.collected = await collect(version);
      result.durationMs = now() - started;
      return result;
    },
  };
}

export interface KvPointReaderOptions {
  kv: Deno.Kv;
  store: PointStore;
  /** Poll the version at most this often, ms (default 1,000), whether or not `kv.watch` notifies. */
  syncMs?: number;
  /** Also follow the version with `kv.watch` (default true): immediate where it notifies (Deploy). */
  watch?: boolean;
  /**
   * Evicts after a version is applied, with the holder's retention cutoff (default: `evictBefore(cutoffMs)`,
   * the poller's rule, so both stores hold the same points).
   */
  evict?: (store: PointStore, cutoffMs: number | null) => void;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: never) => void;
  /** Called when a sync fails (it is retried at the next poll). */
  onError?: (error: unknown) => void;
  /** Called after each version is applied (its points are then answerable), with the status. */
  onApply?: (status: KvPointReaderStatus) => void;
}

export interface KvPointReaderStatus {
  /** The version applied (0: nothing yet). */
  version: number;
  /** When it was applied (epoch ms), null before. */
  appliedAt: number | null;
  /** From the holder's commit of that version to its application here, ms. */
  lagMs: number | null;
  /** The holder's coverage start carried by that version (null: none, or not carried). */
  coverageStartMs: number | null;
  /** Points read by the last full load, and its duration. */
  loadedPoints: number;
  loadMs: number | null;
  /** Versions applied incrementally, full loads, and syncs that failed. */
  syncs: number;
  fullLoads: number;
  errors: number;
}

export interface KvPointReader {
  /** Loads every chunk's newest version ≤ the committed one (start-up). */
  load(): Promise<void>;
  /** Brings the store to the committed version now (incrementally when the manifests allow). */
  sync(): Promise<void>;
  /** Follows the version: `kv.watch` (unless disabled) and a poll every `syncMs`. */
  start(): void;
  stop(): Promise<void>;
  status(): KvPointReaderStatus;
}

export function createKvPointReader(options: KvPointReaderOptions): KvPointReader {
  const {
    kv,
    store,
    syncMs = 1_000,
    watch = true,
    evict = (s, cutoffMs) => {
      if (cutoffMs !== null) s.evictBefore(cutoffMs);
    },
    now = Date.now,
    setTimeout: schedule = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: unschedule = (id) => globalThis.clearTimeout(id),
    onError = () => {},
    onApply,
  } = options;
  const state: KvPointReaderStatus = {
    version: 0,
    appliedAt: null,
    lagMs: null,
    coverageStartMs: null,
    loadedPoints: 0,
    loadMs: null,
    syncs: 0,
    fullLoads: 0,
    errors: 0,
  };
  let running: Promise<void> | null = null;
  let again = false;
  let wantFull = false;
  let stopped = true;
  let timer: unknown = null;
  let watcher: ReadableStreamDefaultReader<unknown> | null = null;

  /** The newest copy ≤ version of one chunk; null when a part is missing (being collected). */
  async function readChunk(
    signal: string,
    start: number,
    version: number,
  ): Promise<ChunkCopy | "absent" | null> {
    const parts = [];
    let found: number | null = null;
    const entries = kv.list<Uint8Array>(
      { start: [POINTS_PREFIX, signal, start], end: [POINTS_PREFIX, signal, start, version + 1] },
      { reverse: true, batchSize: 20 },
    );
    for await (const entry of entries) {
      const v = entry.key[3] as number;
      if (found !== null && v !== found) break;
      found = v;
      parts.push(decodePart(entry.value));
    }
    if (found === null) return "absent";
    const joined = joinParts(parts);
    return joined && { signal, start, ...joined };
  }

  /** The chunks versions (from, to] rewrote, at version `to`; null when a manifest is gone (collected). */
  async function readChanges(from: number, to: number): Promise<ChunkCopy[] | null> {
    const manifests = new Map<number, Manifest[]>();
    for await (const entry of kv.list({ start: [CYCLE_PREFIX, from + 1], end: [CYCLE_PREFIX, to + 1] })) {
      const parsed = ManifestSchema.safeParse(entry.value);
      if (!parsed.success) return null;
      const v = entry.key[1] as number;
      manifests.set(v, [...manifests.get(v) ?? [], parsed.data]);
    }
    const wanted = new Map<string, [string, number]>();
    for (let v = from + 1; v <= to; v++) {
      const parts = manifests.get(v);
      if (!parts || parts.length !== parts[0].parts) return null;
      for (const p of parts) {
        for (const [signal, start] of p.chunks) wanted.set(chunkId(signal, start), [signal, start]);
      }
    }
    const copies: ChunkCopy[] = [];
    const list = [...wanted.values()];
    for (let i = 0; i < list.length; i += 32) {
      const read = await Promise.all(list.slice(i, i + 32).map(([s, start]) => readChunk(s, start, to)));
      for (const copy of read) {
        if (copy === null) return null;
        if (copy !== "absent") copies.push(copy);
      }
    }
    return copies;
  }

  /** Every chunk's newest copy ≤ version, in one scan; null when a copy is incomplete (being collected). */
  async function readAll(version: number): Promise<ChunkCopy[] | null> {
    const copies: ChunkCopy[] = [];
    let group:
      | { signal: string; start: number; version: number; parts: ReturnType<typeof decodePart>[] }
      | null = null;
    const close = () => {
      if (!group) return true;
      const joined = joinParts(group.parts);
      if (!joined) return false;
      copies.push({ signal: group.signal, start: group.start, ...joined });
      return true;
    };
    for await (const entry of kv.list<Uint8Array>({ prefix: [POINTS_PREFIX] }, { batchSize: 500 })) {
      const [, signal, start, v] = entry.key as [string, string, number, number];
      if (v > version) continue;
      if (group && group.signal === signal && group.start === start) {
        if (v !== group.version) group = { signal, start, version: v, parts: [] };
      } else {
        if (!close()) return null;
        group = { signal, start, version: v, parts: [] };
      }
      group.parts.push(decodePart(entry.value));
    }
    return close() ? copies : null;
  }

  /** Puts a version's chunks in the store in one synchronous step, then evicts. */
  function apply(copies: ChunkCopy[], record: PointsVersion): number {
    let points = 0;
    for (const { signal, ts, score } of copies) {
      store.applyColumns(signal, ts, score);
      points += ts.length;
    }
    evict(store, record.cutoffMs);
    // Settled as the holder settles what it writes: answers depend on the points, not on their arrival.
    store.settle(new Set(copies.map((c) => c.signal)));
    state.version = record.version;
    state.appliedAt = now();
    state.lagMs = state.appliedAt - record.at;
    state.coverageStartMs = record.coverageStartMs ?? null;
    return points;
  }

  async function syncOnce(full: boolean): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const { record } = await readPointsVersion(kv);
      if (!record || record.version === 0) return;
      if (!full && record.version === state.version) return;
      const started = now();
      let copies: ChunkCopy[] | null = null;
      let incremental = false;
      if (!full && state.version > 0 && record.version > state.version) {
        copies = await readChanges(state.version, record.version);
        incremental = copies !== null;
      }
      copies ??= await readAll(record.version);
      if (copies === null) continue;
      // Collection that began for a version above the one read may have removed a copy it needed.
      const cursor = await kv.get<number>(GC_KEY);
      if (typeof cursor.value === "number" && cursor.value > record.version) continue;
      const points = apply(copies, record);
      if (incremental) state.syncs++;
      else {
        state.fullLoads++;
        state.loadedPoints = points;
        state.loadMs = now() - started;
      }
      onApply?.({ ...state });
      return;
    }
    throw new Error("Cannot read a stable version of the shared points: it kept moving during 8 reads");
  }

  function run(full: boolean): Promise<void> {
    wantFull ||= full;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const whole = wantFull;
          wantFull = false;
          await syncOnce(whole);
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  }

  function poll(): void {
    timer = null;
    if (stopped) return;
    run(false).catch((error) => {
      state.errors++;
      onError(error);
    }).finally(() => {
      if (!stopped) timer = schedule(poll, syncMs);
    });
  }

  async function follow(): Promise<void> {
    const stream = kv.watch([VERSION_KEY]);
    watcher = stream.getReader();
    try {
      while (!stopped) {
        const { done } = await watcher.read();
        if (done || stopped) break;
        run(false).catch((error) => {
          state.errors++;
          onError(error);
        });
      }
    } catch (error) {
      if (!stopped) onError(error);
    }
  }

  return {
    load: () => run(true),
    sync: () => run(false),
    start() {
      if (!stopped) return;
      stopped = false;
      if (watch) follow();
      poll();
    },
    async stop() {
      stopped = true;
      if (timer !== null) unschedule(timer as never);
      timer = null;
      await watcher?.cancel().catch(() => {});
      watcher = null;
      if (running) await running.catch(() => {});
    },
    status: () => ({ ...state }),
  };
}
