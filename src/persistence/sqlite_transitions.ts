/**
 * The transitions log in SQLite (`PERSISTENCE=sqlite`): in `DATA_DIR/rolling_store.db`, beside the snapshots,
 * through its own `node:sqlite` connection (WAL, the same busy timeout as the snapshot store's).
 *
 * - `risk_transitions`: the {@linkcode TRANSITION_COLUMNS} (`id` the primary key, so a retried append is an
 *   `INSERT OR IGNORE` no-op; `nearest_boundary` JSON text) plus `at_ms INTEGER`, `at` as epoch ms: the sort
 *   key, since RFC 3339 text does not sort by time once some values carry a fraction and others do not.
 *   Indexes on (at_ms, id) — the log and outbox order — and on (signal, window_sec, at_ms, id) for the
 *   per-key reads (`latest()` is one index probe per key).
 * - `alert_delivery (target PRIMARY KEY, at_ms, id)`: each delivery target's cursor.
 *
 * Both tables are created with `IF NOT EXISTS` and leave `PRAGMA user_version` (the snapshot table's schema
 * version) alone, so a v0.1 database opens in either order. A table of that name with other columns, or a file
 * that is not SQLite, is a {@linkcode SnapshotStoreError} and the file is left unchanged. An append is one
 * transaction; rows that fail validation on reading back are skipped and logged.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { getLogger } from "@logtape/logtape";
import type { Transition } from "../core/alerts.ts";
import { BUSY_TIMEOUT_MS } from "./sqlite_store.ts";
import { errorMessage, SnapshotStoreError, storeError } from "./snapshot.ts";
import { fromRecord, toRecord, validateTransitions } from "./transition_records.ts";
import {
  compareTransitions,
  type DeliveryCursor,
  TRANSITION_COLUMNS,
  type TransitionLog,
  type TransitionQuery,
} from "./transitions.ts";
import { parseCursor, validateLimit, validateTarget } from "./transition_checks.ts";

const log = getLogger(["coherence", "persistence"]);

const TABLE = "risk_transitions";
const CURSORS = "alert_delivery";
const COLUMNS = [...TRANSITION_COLUMNS, "at_ms"] as const;
const CURSOR_COLUMNS = ["target", "at_ms", "id"] as const;
const SELECT = TRANSITION_COLUMNS.join(", ");

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    id TEXT PRIMARY KEY NOT NULL,
    signal TEXT NOT NULL,
    window_sec INTEGER NOT NULL,
    from_level TEXT NOT NULL,
    to_level TEXT NOT NULL,
    at TEXT NOT NULL,
    pending_since TEXT NOT NULL,
    n INTEGER NOT NULL,
    mean REAL,
    stdev REAL,
    volatility_index REAL,
    rule TEXT NOT NULL,
    nearest_boundary TEXT NOT NULL,
    at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX IF NOT EXISTS ${TABLE}_order ON ${TABLE} (at_ms, id);
  CREATE INDEX IF NOT EXISTS ${TABLE}_key ON ${TABLE} (signal, window_sec, at_ms, id);
  CREATE TABLE IF NOT EXISTS ${CURSORS} (
    target TEXT PRIMARY KEY NOT NULL,
    at_ms INTEGER NOT NULL,
    id TEXT NOT NULL
  ) STRICT;
`;

/** A strictly newer transition of the same key exists (`t` is the outer row). */
const NEWER_OF_KEY =
  `EXISTS (SELECT 1 FROM ${TABLE} AS n WHERE n.signal = t.signal AND n.window_sec = t.window_sec
  AND (n.at_ms, n.id) > (t.at_ms, t.id))`;

function checkColumns(db: DatabaseSync, table: string, expected: readonly string[], path: string): void {
  const kind = db.prepare("SELECT type FROM sqlite_schema WHERE name = ?").get(table)?.type;
  if (kind === undefined) return;
  const refuse = (what: string) =>
    new SnapshotStoreError(`Cannot open transitions log "${path}": ${what}; the database was left unchanged`);
  if (kind !== "table") throw refuse(`"${table}" is a ${String(kind)}, not a table`);
  const columns = db.prepare("SELECT name FROM pragma_table_info(?)").all(table).map((r) => String(r.name));
  if (columns.length !== expected.length || columns.some((c, i) => c !== expected[i])) {
    throw refuse(`table ${table} has columns (${columns.join(", ")}), expected (${expected.join(", ")})`);
  }
}

/** Runs a synchronous step as a promise: its value, or a rejection with what it threw (as a store error). */
function settle<T>(doing: string, step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(storeError(doing, error));
  }
}

export class SqliteTransitionLog implements TransitionLog {
  readonly location: string;
  /** Rows the most recent read skipped because they did not validate. */
  skippedRows = 0;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #list: StatementSync;
  readonly #latest: StatementSync;
  readonly #after: StatementSync;
  readonly #countAfter: StatementSync;
  readonly #cursor: StatementSync;
  readonly #setCursor: StatementSync;
  readonly #prune: StatementSync;

  constructor(db: DatabaseSync, location: string) {
    this.#db = db;
    this.location = location;
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO ${TABLE} (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`,
    );
    this.#list = db.prepare(
      `SELECT ${SELECT} FROM ${TABLE}
       WHERE (:signal IS NULL OR signal = :signal) AND (:window IS NULL OR window_sec = :window)
         AND at_ms >= :since
       ORDER BY at_ms DESC, id DESC LIMIT :limit`,
    );
    // One probe per key: the distinct keys off the key index, then each key's newest row off the same index.
    this.#latest = db.prepare(
      `SELECT ${SELECT} FROM (SELECT DISTINCT signal AS s, window_sec AS w FROM ${TABLE}) AS k
       JOIN ${TABLE} AS t ON t.rowid = (SELECT rowid FROM ${TABLE} WHERE signal = k.s AND window_sec = k.w
         ORDER BY at_ms DESC, id DESC LIMIT 1)
       ORDER BY at_ms, id`,
    );
    const after = `(at_ms, id) > (:at, :id)`; // a row-value range on the (at_ms, id) index
    this.#after = db.prepare(`SELECT ${SELECT} FROM ${TABLE} WHERE ${after} ORDER BY at_ms, id LIMIT :limit`);
    this.#countAfter = db.prepare(`SELECT count(*) AS count FROM ${TABLE} WHERE ${after}`);
    this.#cursor = db.prepare(`SELECT at_ms, id FROM ${CURSORS} WHERE target = ?`);
    this.#setCursor = db.prepare(
      `INSERT INTO ${CURSORS} (target, at_ms, id) VALUES (?, ?, ?)
       ON CONFLICT (target) DO UPDATE SET at_ms = excluded.at_ms, id = excluded.id`,
    );
    this.#prune = db.prepare(`DELETE FROM ${TABLE} AS t WHERE at_ms < ? AND ${NEWER_OF_KEY}`);
  }

  #rows(rows: readonly Record<string, unknown>[]): Transition[] {
    const out: Transition[] = [];
    for (const row of rows) {
      const t = fromRecord(row);
      if (t === null) continue;
      out.push(t);
    }
    const skipped = rows.length - out.length;
    if (skipped > 0) {
      log.warn("Skipped {count} invalid rows of {table} in {path}", {
        count: skipped,
        table: TABLE,
        path: this.location,
      });
    }
    this.skippedRows = skipped;
    return out;
  }

  append(transitions: readonly Transition[]): Promise<void> {
    const doing = `Cannot append ${transitions.length} transitions to "${this.location}"`;
    return settle(doing, () => {
      const valid = validateTransitions(transitions, doing);
      if (valid.length === 0) return;
      const db = this.#db;
      db.exec("BEGIN IMMEDIATE");
      try {
        for (const t of valid) {
          const r = toRecord(t);
          this.#insert.run(...TRANSITION_COLUMNS.map((c) => r[c]), Date.parse(t.at));
        }
        db.exec("COMMIT");
      } catch (error) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw error;
      }
    });
  }

  list({ signal, windowSec, sinceMs, limit }: TransitionQuery): Promise<Transition[]> {
    return settle(`Cannot list transitions in "${this.location}"`, () => {
      validateLimit(limit);
      if (limit === 0) return [];
      const rows = this.#list.all({
        signal: signal ?? null,
        window: windowSec ?? null,
        since: sinceMs ?? -Number.MAX_VALUE,
        limit,
      });
      return this.#rows(rows).reverse();
    });
  }

  latest(): Promise<Transition[]> {
    return settle(
      `Cannot read the latest transitions in "${this.location}"`,
      () => this.#rows(this.#latest.all()),
    );
  }

  after(cursor: DeliveryCursor | null, limit: number): Promise<Transition[]> {
    return settle(`Cannot read transitions after a cursor in "${this.location}"`, () => {
      validateLimit(limit);
      if (cursor !== null) parseCursor(cursor);
      if (limit === 0) return [];
      const rows = this.#after.all({
        at: cursor?.atMs ?? -Number.MAX_VALUE,
        id: cursor?.id ?? "",
        limit,
      });
      return this.#rows(rows).sort(compareTransitions);
    });
  }

  countAfter(cursor: DeliveryCursor | null): Promise<number> {
    return settle(`Cannot count transitions after a cursor in "${this.location}"`, () => {
      if (cursor !== null) parseCursor(cursor);
      const row = this.#countAfter.get({ at: cursor?.atMs ?? -Number.MAX_VALUE, id: cursor?.id ?? "" });
      return Number(row?.count ?? 0);
    });
  }

  cursor(target: string): Promise<DeliveryCursor | null> {
    return settle(
      `Cannot read the delivery cursor of ${JSON.stringify(target)} in "${this.location}"`,
      () => {
        validateTarget(target);
        const row = this.#cursor.get(target);
        if (row === undefined) return null;
        return parseCursor({ atMs: row.at_ms, id: row.id });
      },
    );
  }

  setCursor(target: string, cursor: DeliveryCursor): Promise<void> {
    return settle(
      `Cannot move the delivery cursor of ${JSON.stringify(target)} in "${this.location}"`,
      () => {
        validateTarget(target);
        const { atMs, id } = parseCursor(cursor);
        this.#setCursor.run(target, atMs, id);
      },
    );
  }

  prune(beforeMs: number): Promise<number> {
    return settle(`Cannot prune transitions in "${this.location}"`, () => {
      if (Number.isNaN(beforeMs)) throw new RangeError("beforeMs is NaN");
      return Number(this.#prune.run(beforeMs).changes);
    });
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

/**
 * Opens the transitions log in the SQLite database at `path` (a file, or `":memory:"`), creating its tables if
 * missing. Throws {@linkcode SnapshotStoreError} for a file that is not SQLite or holds foreign tables of our
 * names.
 */
export function openSqliteTransitionLog(path: string): SqliteTransitionLog {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new SnapshotStoreError(`Cannot open transitions log "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec("BEGIN IMMEDIATE");
    try {
      checkColumns(db, TABLE, COLUMNS, path);
      checkColumns(db, CURSORS, CURSOR_COLUMNS, path);
      db.exec(SCHEMA);
      db.exec("COMMIT");
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
    // After the checks: switching to WAL rewrites the file header, which a foreign file must never see.
    db.prepare("PRAGMA journal_mode = WAL").get();
    db.exec("PRAGMA synchronous = NORMAL");
    return new SqliteTransitionLog(db, path);
  } catch (error) {
    db.close();
    if (error instanceof SnapshotStoreError) throw error;
    throw new SnapshotStoreError(`Cannot open transitions log "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
