/**
 * The transitions log in memory: for `PERSISTENCE=none` (and tests). Bounded: past `maxTransitions` the oldest
 * transitions that are not some key's newest are dropped (counted in `dropped`). Lost on restart, like
 * everything `none` keeps.
 */
import type { Transition } from "../core/alerts.ts";
import { alertKeyId } from "../core/alerts.ts";
import {
  compareTransitions,
  type DeliveryCursor,
  isAfter,
  type TransitionLog,
  type TransitionQuery,
  TransitionSchema,
} from "./transitions.ts";
import { SnapshotStoreError } from "./snapshot.ts";

/** Default bound of the memory log. */
export const MEMORY_TRANSITIONS_MAX = 100_000;

export interface MemoryTransitionLog extends TransitionLog {
  /** Transitions dropped to stay within the bound. */
  readonly dropped: number;
}

export function createMemoryTransitionLog(
  { maxTransitions = MEMORY_TRANSITIONS_MAX }: { maxTransitions?: number } = {},
): MemoryTransitionLog {
  let log: Transition[] = [];
  const ids = new Set<string>();
  const cursors = new Map<string, DeliveryCursor>();
  let dropped = 0;

  function latestIds(): Set<string> {
    const newest = new Map<string, Transition>();
    for (const t of log) newest.set(alertKeyId(t), t);
    return new Set([...newest.values()].map((t) => t.id));
  }

  function trim(): void {
    if (log.length <= maxTransitions) return;
    const keep = latestIds();
    let excess = log.length - maxTransitions;
    log = log.filter((t) => {
      if (excess > 0 && !keep.has(t.id)) {
        excess--;
        dropped++;
        ids.delete(t.id);
        return false;
      }
      return true;
    });
  }

  return {
    get dropped() {
      return dropped;
    },
    append(transitions) {
      for (const t of transitions) {
        const parsed = TransitionSchema.safeParse(t);
        if (!parsed.success) {
          return Promise.reject(
            new SnapshotStoreError(
              `Cannot append transition ${JSON.stringify(t.id)}: ${parsed.error.message}`,
              {
                cause: parsed.error,
              },
            ),
          );
        }
      }
      let sorted = true;
      for (const t of transitions) {
        if (ids.has(t.id)) continue;
        if (log.length > 0 && compareTransitions(log[log.length - 1], t) > 0) sorted = false;
        log.push(structuredClone(t));
        ids.add(t.id);
      }
      if (!sorted) log.sort(compareTransitions);
      trim();
      return Promise.resolve();
    },
    list({ signal, windowSec, sinceMs, limit }: TransitionQuery) {
      const matching = log.filter((t) =>
        (signal === undefined || t.signal === signal) &&
        (windowSec === undefined || t.windowSec === windowSec) &&
        (sinceMs === undefined || Date.parse(t.at) >= sinceMs)
      );
      // slice(-0) would be everything: limit 0 is none.
      return Promise.resolve(
        structuredClone(limit >= matching.length ? matching : limit <= 0 ? [] : matching.slice(-limit)),
      );
    },
    latest() {
      const newest = new Map<string, Transition>();
      for (const t of log) newest.set(alertKeyId(t), t);
      return Promise.resolve(structuredClone([...newest.values()]));
    },
    after(cursor, limit) {
      const out: Transition[] = [];
      for (const t of log) {
        if (out.length >= limit) break;
        if (isAfter(t, cursor)) out.push(t);
      }
      return Promise.resolve(structuredClone(out));
    },
    countAfter(cursor) {
      let count = 0;
      for (const t of log) if (isAfter(t, cursor)) count++;
      return Promise.resolve(count);
    },
    cursor(target) {
      return Promise.resolve(cursors.get(target) ?? null);
    },
    setCursor(target, cursor) {
      cursors.set(target, { ...cursor });
      return Promise.resolve();
    },
    prune(beforeMs) {
      const keep = latestIds();
      const before = log.length;
      log = log.filter((t) => keep.has(t.id) || Date.parse(t.at) >= beforeMs);
      ids.clear();
      for (const t of log) ids.add(t.id);
      return Promise.resolve(before - log.length);
    },
    close() {
      return Promise.resolve();
    },
  };
}
