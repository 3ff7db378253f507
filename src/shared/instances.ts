/**
 * Several instances on one KV, put together (issue 16): the ingest lease, the gated ingest, the shared points'
 * writer (on the holder) and reader (on the others), for `main.ts` to wire when `PERSISTENCE=kv`.
 *
 * - {@linkcode createSharedInstances} builds the lease and the reader/writer on one KV handle (the snapshot
 *   store's: two handles on one local KV file in one process contend for its lock).
 * - `gateSource(source)` wraps the poller's source (a pull renews the lease and refuses when not holding);
 *   `gate(poller)` is what `scheduleIngest()` runs: the poller only while this instance holds the lease.
 * - `afterCycle(cycle)`: after an ok cycle on the holder, writes the chunks it changed as a new version (before
 *   snapshots and alerts, so followers get the points first), retrying KV's "database is locked"; the version
 *   carries the holder's coverage start, which `coverageStartMs(own)` gives followers (same warnings).
 * - `start()`: loads the shared points (before the service listens), then runs the lease's schedule; while
 *   not holding, the reader follows the points version; gaining the lease stops the reader (the poller's first
 *   cycle backfills as usual), losing it starts the reader again. `onHolderChange` and `onApply` let main.ts
 *   start/stop the alert dispatcher and refresh the alert states from the transitions log.
 */
import { getLogger } from "@logtape/logtape";
import type { PointStore } from "../core/point_store.ts";
import type { IngestCycle, LeaseView, SyncView } from "../schemas.ts";
import type { Poller } from "../ingest/poller.ts";
import type { Source } from "../ingest/source.ts";
import { createLease, type Lease } from "./lease.ts";
import { createGatedIngest, type GatedIngest, leaseGatedSource } from "./gated_ingest.ts";
import {
  createKvPointReader,
  createKvPointWriter,
  type KvPointReader,
  type WriteCycleResult,
} from "./kv_points.ts";

const log = getLogger(["coherence", "shared"]);

export interface SharedInstancesOptions {
  kv: Deno.Kv;
  store: PointStore;
  holderId: string;
  leaseMs: number;
  /** Poll the points version at most this often, ms. */
  syncMs: number;
  /** The poller's eviction rule: points older than the largest window + overlap before the cycle's start. */
  maxWindowSec: number;
  overlapSec: number;
  /** Called when this instance gains (true) or loses (false) the lease. */
  onHolderChange?: (isHolder: boolean) => void;
  /** Called after a follower applied a new points version. */
  onApply?: () => void;
  /** Attempts of a points write that KV refuses with "database is locked" (default 5), `retryDelayMs` × attempt apart. */
  attempts?: number;
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Tests: a lease built elsewhere (default: `createLease` on `kv`). */
  lease?: Lease;
}

export interface SharedInstances {
  readonly lease: Lease;
  readonly reader: KvPointReader;
  gateSource(source: Source): Source;
  gate(poller: Pick<Poller, "start" | "stop" | "runCycle">): GatedIngest;
  /** After a cycle: on the holder and when ok, writes what it changed; null when nothing was written. */
  afterCycle(
    cycle: IngestCycle,
    options?: { unbounded?: boolean; coverageStartMs?: number | null },
  ): Promise<WriteCycleResult | null>;
  /**
   * The coverage start to answer with (`window_exceeds_history`): the holder's own (`own`, its poller's) while
   * holding and known, else the one the holder carried in the last version applied here. So every instance
   * warns alike, a follower within one sync interval of the holder.
   */
  coverageStartMs(own: number | null): number | null;
  isHolder(): boolean;
  /**
   * Loads the shared points, then follows the lease: while not holding, the reader follows the points version.
   * The lease's schedule itself runs with the gated ingest (`scheduleIngest(gate(poller)).start()`).
   */
  start(): Promise<void>;
  /** Stops ingest (releasing the lease) and the reader. */
  stop(): Promise<void>;
  leaseStatus(): LeaseView;
  syncStatus(): SyncView;
}

/** SQLite under a local KV file answers this at once to a writer while another process holds the lock. */
export function isLockedError(error: unknown): boolean {
  return String(error instanceof Error ? error.message : error).toLowerCase().includes("database is locked");
}

export function createSharedInstances(options: SharedInstancesOptions): SharedInstances {
  const {
    kv,
    store,
    holderId,
    leaseMs,
    syncMs,
    maxWindowSec,
    overlapSec,
    onHolderChange,
    onApply,
    attempts = 5,
    retryDelayMs = 10,
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  } = options;
  const lease = options.lease ?? createLease({ kv, holderId, ttlMs: leaseMs });
  const writer = createKvPointWriter({ kv, store, graceMs: Math.max(5_000, 3 * syncMs) });
  const reader = createKvPointReader({
    kv,
    store,
    syncMs,
    onError: (error) =>
      log.warn("shared points sync failed; retrying at the next poll", { error: String(error) }),
    onApply: () => onApply?.(),
  });
  let gated: GatedIngest | null = null;
  let following = false;
  let unsubscribe: (() => void) | null = null;
  let lastWrite: WriteCycleResult | null = null;
  /** Reader starts and stops one after another, each following the lease state when it runs. */
  let readerMoves: Promise<void> = Promise.resolve();

  const followLease = () => {
    readerMoves = readerMoves.then(async () => {
      if (!following) return;
      if (lease.isHolder()) await reader.stop();
      else reader.start();
    });
  };

  async function write(
    cycle: IngestCycle,
    unbounded: boolean,
    coverageStartMs: number | null,
  ): Promise<WriteCycleResult> {
    const startedMs = Date.parse(cycle.startedAt);
    const changed = unbounded || cycle.range === null
      ? "all" as const
      : { sinceMs: Date.parse(cycle.range.from) };
    const cutoffMs = unbounded ? null : startedMs - (maxWindowSec + overlapSec) * 1000;
    for (let attempt = 1;; attempt++) {
      try {
        return await writer.writeCycle(changed, { holderId, cutoffMs, coverageStartMs });
      } catch (error) {
        if (!isLockedError(error) || attempt >= attempts) throw error;
        await sleep(retryDelayMs * attempt);
      }
    }
  }

  return {
    lease,
    reader,
    gateSource: (source) => leaseGatedSource(source, lease),
    gate(poller) {
      gated = createGatedIngest({ lease, poller });
      return gated;
    },
    async afterCycle(cycle, { unbounded = false, coverageStartMs = null } = {}) {
      if (!cycle.ok || !lease.isHolder()) return null;
      try {
        const result = await write(cycle, unbounded, unbounded ? null : coverageStartMs);
        lastWrite = result;
        if (!result.ok) {
          log.warn("shared points not committed: another writer moved the version", { holderId });
        }
        return result;
      } catch (error) {
        // The changes stay dirty and go with the next cycle's write.
        log.error("shared points write failed; retried with the next cycle", { error: String(error) });
        return null;
      }
    },
    isHolder: () => lease.isHolder(),
    coverageStartMs: (own) => (lease.isHolder() && own !== null ? own : reader.status().coverageStartMs),
    async start() {
      await reader.load();
      following = true;
      unsubscribe = lease.onChange((isHolder) => {
        followLease();
        onHolderChange?.(isHolder);
      });
      followLease();
    },
    async stop() {
      following = false;
      unsubscribe?.();
      unsubscribe = null;
      await readerMoves;
      await Promise.all([gated ? gated.stop() : lease.stop(), reader.stop()]);
    },
    leaseStatus() {
      const s = lease.status();
      return {
        self: s.self,
        holder: s.holder,
        until: s.until === null ? null : new Date(s.until).toISOString(),
        isHolder: s.isHolder,
        takeovers: s.takeovers,
        leaseSec: s.ttlMs / 1000,
      };
    },
    syncStatus() {
      const r = reader.status();
      return {
        version: lease.isHolder() && lastWrite?.ok ? Math.max(r.version, lastWrite.version) : r.version,
        appliedAt: r.appliedAt === null ? null : new Date(r.appliedAt).toISOString(),
        lagMs: r.lagMs,
        loadedPoints: r.loadedPoints,
        loadMs: r.loadMs,
        syncIntervalMs: syncMs,
      };
    },
  };
}
