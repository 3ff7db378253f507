/**
 * A transition as a flat record of {@linkcode TRANSITION_COLUMNS} (the SQLite row and the CSV line) and back,
 * validated both ways with {@linkcode TransitionSchema}. `nearest_boundary` is JSON text (`null` or the object).
 */
import type { Transition } from "../core/alerts.ts";
import { TRANSITION_COLUMNS, TransitionSchema } from "./transitions.ts";
import { SnapshotStoreError } from "./snapshot.ts";

export type TransitionRecord = Record<(typeof TRANSITION_COLUMNS)[number], string | number | null>;

/** The transitions, validated, or a {@linkcode SnapshotStoreError} naming the first invalid one. */
export function validateTransitions(transitions: readonly Transition[], doing: string): Transition[] {
  return transitions.map((t, i) => {
    const parsed = TransitionSchema.safeParse(t);
    if (!parsed.success) {
      const id = typeof t?.id === "string" ? JSON.stringify(t.id) : `#${i}`;
      throw new SnapshotStoreError(`${doing}: transition ${id} is invalid: ${parsed.error.message}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  });
}

export function toRecord(t: Transition): TransitionRecord {
  return {
    id: t.id,
    signal: t.signal,
    window_sec: t.windowSec,
    from_level: t.from,
    to_level: t.to,
    at: t.at,
    pending_since: t.pendingSince,
    n: t.n,
    mean: t.mean,
    stdev: t.stdev,
    volatility_index: t.volatilityIndex,
    rule: t.rule,
    nearest_boundary: JSON.stringify(t.nearestBoundary),
  };
}

/** The record as a transition when it validates, else null. */
export function fromRecord(r: Readonly<Record<string, unknown>>): Transition | null {
  let nearestBoundary: unknown;
  try {
    nearestBoundary = typeof r.nearest_boundary === "string" ? JSON.parse(r.nearest_boundary) : undefined;
  } catch {
    return null;
  }
  const parsed = TransitionSchema.safeParse({
    id: r.id,
    signal: r.signal,
    windowSec: r.window_sec,
    from: r.from_level,
    to: r.to_level,
    at: r.at,
    pendingSince: r.pending_since,
    n: r.n,
    mean: r.mean,
    stdev: r.stdev,
    volatilityIndex: r.volatility_index,
    rule: r.rule,
    nearestBoundary,
  });
  return parsed.success ? parsed.data : null;
}
