/**
 * The cardinality bound (`MAX_SIGNALS`): a cycle's points for signals not held yet are admitted while there is
 * room, first come first served in the order the pull returned them; the records of any further new signal
 * are rejected with reason `signal_limit`. Signals already held always keep their points. A slot frees when a
 * signal's last point is evicted. Pure: no I/O.
 */
import type { NormalizedPoint } from "./normalize.ts";
import type { PointColumns } from "./source.ts";

export interface SignalLimitOptions {
  /** Whether the store holds points of this signal. */
  isHeld(signal: string): boolean;
  /** Signals held now. */
  heldCount: number;
  /** Most signals that may be held. */
  maxSignals: number;
}

export interface SignalLimitResult {
  points: NormalizedPoint[];
  columns: PointColumns[];
  /** Records refused (reason `signal_limit`). */
  rejected: number;
  /** Distinct new signals refused. */
  refusedSignals: number;
}

/** Keeps the points of held signals and of as many new ones as fit under `maxSignals`. */
export function limitSignals(
  points: readonly NormalizedPoint[],
  columns: readonly PointColumns[],
  { isHeld, heldCount, maxSignals }: SignalLimitOptions,
): SignalLimitResult {
  const admitted = new Set<string>();
  const refused = new Set<string>();
  const admits = (signal: string): boolean => {
    if (admitted.has(signal) || isHeld(signal)) return true;
    if (refused.has(signal)) return false;
    if (heldCount + admitted.size < maxSignals) {
      admitted.add(signal);
      return true;
    }
    refused.add(signal);
    return false;
  };
  let rejected = 0;
  const keptPoints: NormalizedPoint[] = [];
  for (const point of points) {
    if (admits(point.signal)) keptPoints.push(point);
    else rejected++;
  }
  const keptColumns: PointColumns[] = [];
  for (const group of columns) {
    if (admits(group.signal)) keptColumns.push(group);
    else rejected += group.ts.length;
  }
  return { points: keptPoints, columns: keptColumns, rejected, refusedSignals: refused.size };
}
