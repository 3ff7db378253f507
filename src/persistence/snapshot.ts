/**
 * Rolling metric snapshots: the row written after every ingest cycle (one per signal and configured window, plus
 * one per window for the pooled `"*"`), its zod schema, and the {@linkcode SnapshotStore} interface that the
 * SQLite, CSV, Deno KV and `none` stores implement.
 *
 * Ordering: rows are ordered by `computed_at` (as epoch ms); rows with equal times keep insertion order.
 * `history()` returns the newest `limit` matching rows, oldest first.
 *
 * Text fields are single-line (no CR or LF): a CSV record is then exactly one physical line, which is what
 * lets a torn last line be detected and skipped without touching its neighbours. Every store applies the same
 * schema, so a row that one mode accepts every mode accepts.
 */
import { z } from "zod";
import { POOLED_SIGNAL, RISK_LEVELS, type RiskLevel, type StoreMode } from "../core/vocabulary.ts";

/** The columns, in order: the CSV header and the SQLite column names. */
export const SNAPSHOT_COLUMNS = [
  "computed_at",
  "signal",
  "window_sec",
  "start_ts",
  "end_ts",
  "n",
  "mean",
  "stdev",
  "volatility_index",
  "risk",
  "source",
  "engine_version",
] as const;

export interface SnapshotRow {
  /** When the snapshot was computed, RFC 3339 UTC (`2024-05-01T12:00:00Z`, optionally with a fraction). */
  computed_at: string;
  /** Signal name, or `"*"` for all signals pooled. */
  signal: string;
  window_sec: number;
  /** The window's bounds, RFC 3339 UTC. */
  start_ts: string;
  end_ts: string;
  n: number;
  mean: number | null;
  stdev: number | null;
  volatility_index: number | null;
  risk: RiskLevel;
  /** Where the points came from, e.g. `darshan_api` or `mock_file:fixtures/x.json`. */
  source: string;
  engine_version: string;
}

const utcTimestamp = z.iso.datetime({
  error: "expected an RFC 3339 UTC timestamp such as 2024-05-01T12:00:00Z",
});
const singleLine = z.string().regex(/^[^\r\n]*$/, { error: "expected text without line breaks" });
const finiteOrNull = z.number().nullable();

/** Validates one row: on append (every store) and when reading CSV lines or KV values back. */
export const SnapshotRowSchema = z.object({
  computed_at: utcTimestamp,
  signal: singleLine.min(1, { error: `expected a signal name or ${POOLED_SIGNAL}` }),
  window_sec: z.number().int().positive(),
  start_ts: utcTimestamp,
  end_ts: utcTimestamp,
  n: z.number().int().nonnegative(),
  mean: finiteOrNull,
  stdev: finiteOrNull,
  volatility_index: finiteOrNull,
  risk: z.enum(RISK_LEVELS),
  source: singleLine,
  // No quotes either: the CSV store always quotes this last field, which is how it tells a complete line from
  // one torn inside its last field (see csv_store.ts).
  engine_version: z.string().regex(/^[^\r\n"]+$/, {
    error: "expected a version without quotes or line breaks",
  }),
}) satisfies z.ZodType<SnapshotRow>;

export interface HistoryQuery {
  signal: string;
  windowSec: number;
  /** Only rows with computed_at ≥ sinceMs (epoch ms). */
  sinceMs?: number;
  /** At most this many rows: the newest ones. */
  limit: number;
}

export interface SnapshotStore {
  readonly mode: StoreMode;
  /** File path, `deno-kv:<path or default>` or `none`; safe to show (no credentials). */
  readonly location: string;
  /** Stores the rows; rejects with a {@linkcode SnapshotStoreError} on a bad row or a write failure, after which
   * the store stays usable. */
  append(rows: readonly SnapshotRow[]): Promise<void>;
  /** The newest `limit` rows for the signal and window (computed_at ≥ sinceMs when given), oldest first. */
  history(query: HistoryQuery): Promise<SnapshotRow[]>;
  /** Deletes the rows with computed_at < beforeMs; resolves to how many were deleted. */
  prune(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

/** A store could not be opened (foreign file, bad schema), read, or written; `cause` holds the underlying error. */
export class SnapshotStoreError extends Error {
  override name = "SnapshotStoreError";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `error` as a {@linkcode SnapshotStoreError}: itself if it is one, else one saying `doing` with `error` as its cause. */
export function storeError(doing: string, error: unknown): SnapshotStoreError {
  if (error instanceof SnapshotStoreError) return error;
  return new SnapshotStoreError(`${doing}: ${errorMessage(error)}`, { cause: error });
}

/** computed_at as epoch ms (the sort and range key). The row must have passed {@linkcode SnapshotRowSchema}. */
export function computedAtMs(row: SnapshotRow): number {
  return Date.parse(row.computed_at);
}

/** Checks every row before anything is written, so a bad row rejects the whole batch and writes nothing. */
export function validateRows(rows: readonly SnapshotRow[]): void {
  for (let i = 0; i < rows.length; i++) {
    const result = SnapshotRowSchema.safeParse(rows[i]);
    if (!result.success) {
      const issue = result.error.issues[0];
      const field = issue?.path.join(".") || "row";
      throw new SnapshotStoreError(
        `Cannot append snapshot row ${i} (signal ${
          JSON.stringify(rows[i]?.signal)
        }): ${field}: ${issue?.message}`,
        { cause: result.error },
      );
    }
  }
}

/** Checks a history query; a bad one is a programming error (RangeError). */
export function validateQuery(query: HistoryQuery): void {
  if (!Number.isInteger(query.limit) || query.limit < 0) {
    throw new RangeError(`Cannot read snapshot history: limit ${query.limit} is not a non-negative integer`);
  }
  if (!Number.isInteger(query.windowSec) || query.windowSec <= 0) {
    throw new RangeError(
      `Cannot read snapshot history: windowSec ${query.windowSec} is not a positive integer`,
    );
  }
  if (query.sinceMs !== undefined && Number.isNaN(query.sinceMs)) {
    throw new RangeError("Cannot read snapshot history: sinceMs is NaN");
  }
}

/** Checks a prune bound; NaN would silently delete nothing. */
export function validateBeforeMs(beforeMs: number): void {
  if (typeof beforeMs !== "number" || Number.isNaN(beforeMs)) {
    throw new RangeError(`Cannot prune snapshots: beforeMs ${beforeMs} is not a number`);
  }
}

/** The newest `limit` of rows already sorted oldest first. */
export function newest<T>(sorted: T[], limit: number): T[] {
  return limit >= sorted.length ? sorted : sorted.slice(sorted.length - limit);
}

/** A plain copy holding exactly the columns (drops any extra properties the caller's object carried). */
export function pickColumns(row: SnapshotRow): SnapshotRow {
  return Object.fromEntries(
    SNAPSHOT_COLUMNS.map((column) => [column, row[column]]),
  ) as unknown as SnapshotRow;
}
