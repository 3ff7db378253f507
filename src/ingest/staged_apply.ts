/**
 * Applies a cycle's points to the {@linkcode PointStore} without blocking the event loop for long, while readers
 * never see part of a cycle (SPEC): the work is prepared off to the side in slices, with a pause (a macrotask
 * by default) between them, and then put in place in one short synchronous step.
 *
 * - Preparing: the points of admitted signals (`MAX_SIGNALS`) are grouped into columns per signal, sorted and
 *   deduplicated, and for every signal whose whole series stays small (at most `DIRECT_MAX`, 128 points, after
 *   the merge: no prefix sums, so a copy is the same series as an in-place merge would give) a new series is
 *   built from the held points and the batch. The store is only read meanwhile; nothing held changes.
 * - Committing: the new series replace the held ones (one map write each), and the few large series merge in
 *   place (their cost is in their points, not in their number).
 *
 * With 10,000 new one-point signals the commit is 10,000 map writes (about 1 ms) instead of merging 10,000
 * series in one step (55–120 ms measured on a loaded 2-core machine, more as the load grows).
 */
import { pacer } from "../core/sleep.ts";
import { DIRECT_MAX } from "../core/moment_tree.ts";
import {
  type ApplyResult,
  dedupeBatch,
  type PointInput,
  type PointStore,
  Series,
} from "../core/point_store.ts";
import type { PointColumns } from "./source.ts";

/**
 * Work between two pauses: this many signals built, or ten times as many points grouped (a few ms of CPU).
 */
export const STAGE_SLICE_SIGNALS = 250;

/** A signal's build costs as much as grouping this many points. */
const SIGNAL_COST = 10;

export interface StageOptions {
  /** Whether records of a signal are admitted (the `MAX_SIGNALS` gate); the rest are counted as rejected. */
  admits?: (signal: string) => boolean;
  /** Signals built in a slice (default {@linkcode STAGE_SLICE_SIGNALS}). */
  sliceSignals?: number;
  /** Wall time between pauses, ms: a slice boundary pauses only once this much has passed (default 8). */
  sliceMs?: number;
  /** Called between slices (default: wait for the next macrotask, `nextMacrotask`). */
  pause?: () => Promise<void>;
}

/** A cycle's points, prepared: commit it with {@linkcode commitStaged} before the store changes otherwise. */
export interface StagedApply {
  /** Series built off to the side, to replace (or join) the held ones. */
  readonly built: readonly (readonly [string, Series])[];
  /** Deduplicated columns of large held series, merged in place on commit. */
  readonly inPlace: readonly PointColumns[];
  /** Counts of the built series (in-place merges add theirs on commit). */
  readonly counts: ApplyResult;
  /** Points admitted (before deduplication). */
  readonly accepted: number;
  /** Points of signals `admits` refused. */
  readonly rejected: number;
}

function join(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Prepares `points` and `columns` for the store in slices, pausing between them: admitted points grouped into
 * columns per signal (points first, then columns, in order, so "a later copy wins" holds across them), then a
 * series built per signal. Reads the store only: it must not change until the result is committed (the poller
 * runs one cycle at a time).
 */
export async function stageApply(
  store: PointStore,
  points: readonly PointInput[],
  columns: readonly PointColumns[],
  { admits = () => true, sliceSignals = STAGE_SLICE_SIGNALS, sliceMs, pause }: StageOptions = {},
): Promise<StagedApply> {
  const budget = sliceSignals * SIGNAL_COST;
  const boundary = pacer({ sliceMs, pause });
  // Work done in the current slice; checked inline (an await per point would cost more than the work).
  let work = 0;

  let accepted = 0, rejected = 0;
  const bySignal = new Map<string, { ts: number[]; score: number[] }>();
  for (const p of points) {
    if (++work >= budget) {
      work = 0;
      await boundary();
    }
    if (!admits(p.signal)) {
      rejected++;
      continue;
    }
    accepted++;
    let group = bySignal.get(p.signal);
    if (!group) bySignal.set(p.signal, group = { ts: [], score: [] });
    group.ts.push(p.ts);
    group.score.push(p.score);
  }
  const groups = new Map<string, PointColumns>();
  for (const [signal, group] of bySignal) {
    if (++work >= budget) {
      work = 0;
      await boundary();
    }
    groups.set(signal, { signal, ts: Float64Array.from(group.ts), score: Float64Array.from(group.score) });
  }
  for (const group of columns) {
    if (++work >= budget) {
      work = 0;
      await boundary();
    }
    if (!admits(group.signal)) {
      rejected += group.ts.length;
      continue;
    }
    accepted += group.ts.length;
    const prior = groups.get(group.signal);
    groups.set(
      group.signal,
      prior
        ? { signal: group.signal, ts: join(prior.ts, group.ts), score: join(prior.score, group.score) }
        : group,
    );
  }

  const built: [string, Series][] = [];
  const inPlace: PointColumns[] = [];
  const counts: ApplyResult = { inserted: 0, updated: 0, duplicates: 0 };
  for (const group of groups.values()) {
    if ((work += SIGNAL_COST) >= budget) {
      work = 0;
      await boundary();
    }
    const batch = dedupeBatch(group.ts, group.score);
    const ts = batch.ts.subarray(0, batch.count), score = batch.score.subarray(0, batch.count);
    // Copies within the batch count here: the store sees the batch deduplicated.
    counts.updated += batch.updated;
    counts.duplicates += batch.duplicates;
    // The held series when the result stays small (one more point than fits means "too large").
    const held = store.points(group.signal, -Infinity, Infinity, DIRECT_MAX + 1);
    if (held.length + batch.count > DIRECT_MAX) {
      inPlace.push({ signal: group.signal, ts, score });
      continue;
    }
    const series = new Series();
    series.merge(Float64Array.from(held, (p) => p.ts), Float64Array.from(held, (p) => p.score), held.length);
    const merged = series.merge(ts, score, batch.count);
    counts.updated += merged.updated;
    counts.duplicates += merged.duplicates;
    counts.inserted += merged.inserted;
    // A batch that changes nothing leaves the held series as it is.
    if (merged.inserted > 0 || merged.updated > 0) built.push([group.signal, series]);
  }
  return { built, inPlace, counts, accepted, rejected };
}

/** Puts a staged cycle in place in one synchronous step; returns the cycle's counts. */
export function commitStaged(store: PointStore, staged: StagedApply): ApplyResult {
  const total = { ...staged.counts };
  store.adopt(staged.built);
  for (const { signal, ts, score } of staged.inPlace) {
    const r = store.applyColumns(signal, ts, score);
    total.inserted += r.inserted;
    total.updated += r.updated;
    total.duplicates += r.duplicates;
  }
  return total;
}
