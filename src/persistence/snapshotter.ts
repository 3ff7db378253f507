/**
 * Rolling snapshots: after every ingest cycle, one row per (signal, configured window) and one per window for
 * the pooled "*", written to the active snapshot store; old rows pruned on a schedule. A failed write or prune
 * is logged and shown in /status, never fatal: ingest goes on. A failed ingest cycle writes no rows: the gap
 * in the history is the truth (rows computed from stale or no data would pass for fresh ones).
 */
import { nextMacrotask, pacer } from "../core/sleep.ts";
import { getLogger } from "@logtape/logtape";
import type { PointStore } from "../core/point_store.ts";
import { toRfc3339 } from "../core/report.ts";
import { classifyRisk, type Thresholds } from "../core/risk.ts";
import { summarize } from "../core/stats.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { errorMessage, type SnapshotRow, type SnapshotStore } from "./snapshot.ts";

const log = getLogger(["coherence", "persistence"]);

export interface SnapshotRowsOptions {
  windows: readonly number[];
  /** Window end and computed_at, epoch ms. */
  endMs: number;
  thresholds: Thresholds;
  source: string;
  engineVersion: string;
}

/** The rows of one snapshot: each signal, then "*", for each window. */
export function snapshotRows(points: PointStore, options: SnapshotRowsOptions): SnapshotRow[] {
  return [...eachRow(points, options)];
}

/** Rows computed, or written, in a slice: a few ms of work (a pause follows once 8 ms have passed). */
export const SNAPSHOT_SLICE_ROWS = 500;

/**
 * {@linkcode snapshotRows} in slices of `sliceRows`, pausing between them, so that a snapshot of many signals
 * never blocks the event loop for long. The points must not change meanwhile (the poller awaits the snapshot
 * before its next cycle).
 */
export async function snapshotRowsSliced(
  points: PointStore,
  options: SnapshotRowsOptions & { sliceRows?: number; sliceMs?: number; pause?: () => Promise<void> },
): Promise<SnapshotRow[]> {
  const { sliceRows = SNAPSHOT_SLICE_ROWS, sliceMs, pause = nextMacrotask } = options;
  const boundary = pacer({ sliceMs, pause });
  const rows: SnapshotRow[] = [];
  for (const row of eachRow(points, options)) {
    if (rows.length > 0 && rows.length % sliceRows === 0) await boundary();
    rows.push(row);
  }
  return rows;
}

function* eachRow(points: PointStore, options: SnapshotRowsOptions): Generator<SnapshotRow> {
  const { windows, endMs, thresholds, source, engineVersion } = options;
  const signals: (string | undefined)[] = [...points.signals().map((s) => s.signal), undefined];
  const at = toRfc3339(endMs);
  for (const windowSec of windows) {
    const startMs = endMs - windowSec * 1000;
    const start = toRfc3339(startMs);
    for (const signal of signals) {
      const summary = summarize(points.window(signal, startMs, endMs));
      yield {
        computed_at: at,
        signal: signal ?? POOLED_SIGNAL,
        window_sec: windowSec,
        start_ts: start,
        end_ts: at,
        n: summary.n,
        mean: summary.mean,
        stdev: summary.stdev,
        volatility_index: summary.volatilityIndex,
        risk: classifyRisk(summary, thresholds).level,
        source,
        engine_version: engineVersion,
      };
    }
  }
}

export interface PersistenceStatus {
  mode: SnapshotStore["mode"];
  location: string;
  /** False for `none`: nothing is kept. */
  active: boolean;
  rowsWritten: number;
  writeFailures: number;
  lastWrite: { at: string; ok: boolean; rows: number; error: string | null } | null;
  lastPrune: { at: string; ok: boolean; removed: number; before: string; error: string | null } | null;
  retentionSec: number;
}

export interface SnapshotterOptions extends Omit<SnapshotRowsOptions, "endMs"> {
  points: PointStore;
  snapshots: SnapshotStore;
  retentionSec: number;
  /** How often old rows are pruned (default: hourly, or a tenth of the retention if shorter). */
  pruneEveryMs?: number;
  /**
   * Called with each snapshot's rows before they are written (also with PERSISTENCE=none), e.g. to update the
   * Prometheus gauges from exactly the persisted numbers. Errors are logged, never fatal.
   */
  onRows?: (rows: readonly SnapshotRow[]) => void;
  now?: () => number;
  /**
   * Rows computed, and rows appended per store call, between two pauses (default
   * {@linkcode SNAPSHOT_SLICE_ROWS}). A snapshot larger than this lands in several appends (for SQLite, several
   * transactions): a crash between them keeps the batches already written, whole.
   */
  sliceRows?: number;
  /** Wall time between pauses, ms: a slice boundary pauses only once this much has passed (default 8). */
  sliceMs?: number;
  /** Called between slices (default {@linkcode nextMacrotask}): HTTP requests are answered in between. */
  pause?: () => Promise<void>;
}

export interface Snapshotter {
  /**
   * Writes one snapshot (call after each ingest cycle, with it) and prunes when due. After a failed cycle
   * (`ok: false`) nothing is written and the gauges keep the last snapshot; pruning still runs when due.
   * Never rejects.
   */
  afterCycle(cycle?: { readonly ok: boolean }): Promise<void>;
  /** Prunes rows older than the retention now. Never rejects. */
  prune(): Promise<void>;
  status(): PersistenceStatus;
}

export function createSnapshotter(options: SnapshotterOptions): Snapshotter {
  const {
    points,
    snapshots,
    retentionSec,
    now = Date.now,
    onRows,
    sliceRows = SNAPSHOT_SLICE_ROWS,
    sliceMs,
    pause = nextMacrotask,
  } = options;
  const pruneEveryMs = options.pruneEveryMs ?? Math.min(3_600_000, (retentionSec * 1000) / 10);
  let rowsWritten = 0;
  let writeFailures = 0;
  let lastWrite: PersistenceStatus["lastWrite"] = null;
  let lastPrune: PersistenceStatus["lastPrune"] = null;
  let lastPruneMs = -Infinity;

  async function prune(): Promise<void> {
    const at = now();
    const before = at - retentionSec * 1000;
    lastPruneMs = at;
    try {
      const removed = await snapshots.prune(before);
      lastPrune = { at: toRfc3339(at), ok: true, removed, before: toRfc3339(before), error: null };
      if (removed > 0) {
        log.info("snapshots pruned", { removed, before: lastPrune.before, mode: snapshots.mode });
      }
    } catch (error) {
      lastPrune = {
        at: toRfc3339(at),
        ok: false,
        removed: 0,
        before: toRfc3339(before),
        error: errorMessage(error),
      };
      log.error("snapshot prune failed", { error: lastPrune.error, mode: snapshots.mode });
    }
  }

  return {
    async afterCycle(cycle) {
      if (snapshots.mode === "none" && onRows === undefined) return;
      const at = now();
      if (cycle?.ok === false) {
        log.debug("no snapshot after a failed ingest cycle", { mode: snapshots.mode });
        if (snapshots.mode !== "none" && at - lastPruneMs >= pruneEveryMs) await prune();
        return;
      }
      const rows = await snapshotRowsSliced(points, { ...options, endMs: at, sliceRows, sliceMs, pause });
      try {
        onRows?.(rows);
      } catch (error) {
        log.error("snapshot rows hook failed", { error: errorMessage(error) });
      }
      if (snapshots.mode === "none") return;
      // In batches with a pause between them; a failed batch stops the write, and the rows of the batches
      // before it (which landed, whole) are counted.
      let written = 0;
      try {
        const boundary = pacer({ sliceMs, pause });
        for (let from = 0; from < rows.length; from += sliceRows) {
          if (from > 0) await boundary();
          const batch = rows.slice(from, from + sliceRows);
          await snapshots.append(batch);
          written += batch.length;
        }
        lastWrite = { at: toRfc3339(at), ok: true, rows: written, error: null };
      } catch (error) {
        writeFailures++;
        lastWrite = { at: toRfc3339(at), ok: false, rows: written, error: errorMessage(error) };
        log.error("snapshot write failed", {
          error: lastWrite.error,
          mode: snapshots.mode,
          rows: rows.length,
          written,
        });
      }
      rowsWritten += written;
      if (at - lastPruneMs >= pruneEveryMs) await prune();
    },
    prune,
    status: () => ({
      mode: snapshots.mode,
      location: snapshots.location,
      active: snapshots.mode !== "none",
      rowsWritten,
      writeFailures,
      lastWrite,
      lastPrune,
      retentionSec,
    }),
  };
}
