/**
 * The transitions log: every confirmed change of an alert's state ({@linkcode Transition}, `core/alerts.ts`),
 * kept in the active store beside the snapshots (SPEC "Alerts"):
 *
 * | mode     | where                                                        |
 * | -------- | ------------------------------------------------------------ |
 * | `sqlite` | table `risk_transitions` in `DATA_DIR/rolling_store.db`      |
 * | `csv`    | `DATA_DIR/risk_transitions.csv`                              |
 * | `kv`     | prefix `["transitions"]` in the same KV as the snapshots     |
 * | `none`   | memory (bounded; lost on restart)                            |
 *
 * The log is also the delivery outbox: transitions are ordered by `(at, id)`, and each delivery target keeps a
 * {@linkcode DeliveryCursor} — the last transition it has acknowledged — in the same store. What a target still
 * owes is every transition after its cursor, read in pages, so nothing waiting is held in memory.
 */
import { z } from "zod";
import type { Transition } from "../core/alerts.ts";
import { RISK_LEVELS } from "../core/vocabulary.ts";

/** The order of the log and of the outbox: `at` (as epoch ms), then `id`. */
export interface DeliveryCursor {
  /** The last delivered transition's `at`, epoch ms. */
  atMs: number;
  id: string;
}

export interface TransitionQuery {
  signal?: string;
  windowSec?: number;
  /** Only transitions with at ≥ sinceMs. */
  sinceMs?: number;
  /** At most this many: the newest ones, returned oldest first. */
  limit: number;
}

export interface TransitionLog {
  /**
   * Appends transitions (already ordered by `(at, id)`); one whose id is held already is skipped, so a retried
   * append never doubles a transition. Rejects (a {@linkcode SnapshotStoreError}) when nothing could be written.
   */
  append(transitions: readonly Transition[]): Promise<void>;
  /** The newest `limit` matching transitions, oldest first. */
  list(query: TransitionQuery): Promise<Transition[]>;
  /** The last transition of every key (what a restart restores the states from). */
  latest(): Promise<Transition[]>;
  /** Up to `limit` transitions strictly after `cursor` (all from the start when null), in log order. */
  after(cursor: DeliveryCursor | null, limit: number): Promise<Transition[]>;
  /** How many transitions are strictly after `cursor`. */
  countAfter(cursor: DeliveryCursor | null): Promise<number>;
  /** The delivery cursor of `target` (e.g. `webhook`, `alertmanager`), null when it has delivered nothing. */
  cursor(target: string): Promise<DeliveryCursor | null>;
  /** Moves `target`'s cursor (durably, before resolving). */
  setCursor(target: string, cursor: DeliveryCursor): Promise<void>;
  /**
   * Deletes transitions with at < beforeMs, except the newest of each key (a restart must still find every
   * key's state); resolves to how many were deleted.
   */
  prune(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/** The file name of the CSV log under `DATA_DIR`. */
export const TRANSITIONS_CSV = "risk_transitions.csv";

/** The columns of the SQLite table and the CSV file, in order. */
export const TRANSITION_COLUMNS = [
  "id",
  "signal",
  "window_sec",
  "from_level",
  "to_level",
  "at",
  "pending_since",
  "n",
  "mean",
  "stdev",
  "volatility_index",
  "rule",
  "nearest_boundary",
] as const;

const utcTimestamp = z.iso.datetime({ error: "expected an RFC 3339 UTC timestamp" });
const singleLine = z.string().regex(/^[^\r\n]*$/, { error: "expected text without line breaks" });

/** Validates a transition on append and when reading one back (CSV lines, KV values, SQLite rows). */
export const TransitionSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/),
  signal: singleLine.min(1),
  windowSec: z.number().int().positive(),
  from: z.enum(RISK_LEVELS),
  to: z.enum(RISK_LEVELS),
  at: utcTimestamp,
  pendingSince: utcTimestamp,
  n: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  stdev: z.number().nullable(),
  volatilityIndex: z.number().nullable(),
  rule: singleLine,
  nearestBoundary: z.object({
    boundary: z.enum(["high", "medium"]),
    rule: z.enum(["mean", "volatility"]),
    changesAt: z.number(),
    direction: z.enum(["rise", "fall"]),
    text: singleLine,
  }).nullable(),
}) satisfies z.ZodType<Transition>;

/** Orders transitions as the log does: by `at`, then `id`. */
export function compareTransitions(
  a: Pick<Transition, "at" | "id">,
  b: Pick<Transition, "at" | "id">,
): number {
  const d = Date.parse(a.at) - Date.parse(b.at);
  return d !== 0 ? d : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** True when `t` comes strictly after `cursor` in log order (everything does after a null cursor). */
export function isAfter(t: Pick<Transition, "at" | "id">, cursor: DeliveryCursor | null): boolean {
  if (cursor === null) return true;
  const at = Date.parse(t.at);
  return at > cursor.atMs || (at === cursor.atMs && t.id > cursor.id);
}

/** The cursor that points at `t`. */
export function cursorOf(t: Pick<Transition, "at" | "id">): DeliveryCursor {
  return { atMs: Date.parse(t.at), id: t.id };
}
