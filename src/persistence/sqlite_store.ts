/**
 * SQLite snapshot store (`PERSISTENCE=sqlite`): table `rolling_metrics` in `DATA_DIR/rolling_store.db`, through
 * the built-in `node:sqlite` (`DatabaseSync`).
 *
 * - Columns: the snapshot columns with exactly their names (TEXT, INTEGER, and REAL for the floats, which SQLite
 *   stores as IEEE doubles: no rounding), plus `computed_at_ms INTEGER`, computed_at as epoch ms. That extra
 *   column is the range and sort key: RFC 3339 text does not sort by time once some values carry a fraction
 *   and others do not (`…:00.5Z` < `…:00Z` as text). Rows with equal times keep insertion (rowid) order.
 * - Indexes: (signal, window_sec, computed_at_ms) for history reads, (computed_at_ms) for retention.
 * - Journal: WAL with `synchronous=NORMAL` (a process crash loses no committed batch; a power loss may lose the
 *   last ones) and a busy timeout for a second process holding the write lock. A batch is one transaction.
 * - Schema version in `PRAGMA user_version`; {@linkcode MIGRATIONS} holds one function per step N → N+1.
 *   Opening checks before it writes anything: a `rolling_metrics` table with other columns, a user_version
 *   newer than ours, or a file that is not SQLite is a {@linkcode SnapshotStoreError} naming the file, and the
 *   file is left as it was. A database without our table (say, one holding other tables) gets the table
 *   created alongside its own, and its user_version set to ours.
 */
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";
import { getLogger } from "@logtape/logtape";
import {
  computedAtMs,
  errorMessage,
  type HistoryQuery,
  SNAPSHOT_COLUMNS,
  type SnapshotRow,
  type SnapshotStore,
  SnapshotStoreError,
  validateBeforeMs,
  validateQuery,
  validateRows,
} from "./snapshot.ts";

const log = getLogger(["coherence", "persistence"]);

const TABLE_NAME = "rolling_metrics";
/**
 * How long a statement waits for another connection's write lock before failing with SQLITE_BUSY. Kept short:
 * `DatabaseSync` blocks the event loop while it waits, so a database locked by another process must fail fast
 * (the write is retried on the next cycle) rather than stall every HTTP request.
 */
export const BUSY_TIMEOUT_MS = 250;

/** A step from schema version N (its index) to N + 1, and the table's columns after it. */
export interface Migration {
  readonly columns: readonly string[];
  up(db: DatabaseSync): void;
}

const V1_COLUMNS = [...SNAPSHOT_COLUMNS, "computed_at_ms"] as const;

/** MIGRATIONS[n] moves a database from user_version n to n + 1. Append new steps; never edit old ones. */
export const MIGRATIONS: readonly Migration[] = [
  {
    // 0 → 1: the table and its indexes.
    columns: V1_COLUMNS,
    up(db) {
      db.exec(`
        CREATE TABLE rolling_metrics (
          computed_at TEXT NOT NULL,
          signal TEXT NOT NULL,
          window_sec INTEGER NOT NULL,
          start_ts TEXT NOT NULL,
          end_ts TEXT NOT NULL,
          n INTEGER NOT NULL,
          mean REAL,
          stdev REAL,
          volatility_index REAL,
          risk TEXT NOT NULL,
          source TEXT NOT NULL,
          engine_version TEXT NOT NULL,
          computed_at_ms INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX rolling_metrics_signal_window_time ON rolling_metrics (signal, window_sec, computed_at_ms);
        CREATE INDEX rolling_metrics_time ON rolling_metrics (computed_at_ms);
      `);
    },
  },
];

/** The schema version this engine writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

const SELECT_COLUMNS = SNAPSHOT_COLUMNS.join(", ");
const RISKS: ReadonlySet<string> = new Set(RISK_LEVELS);

/** Brings the database to {@linkcode SCHEMA_VERSION} in one transaction, or throws having changed nothing. */
function migrate(db: DatabaseSync, path: string): void {
  const refuse = (what: string) =>
    new SnapshotStoreError(`Cannot open snapshot store "${path}": ${what}; the database was left unchanged`);
  db.exec("BEGIN IMMEDIATE");
  try {
    const version = Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
    if (version > SCHEMA_VERSION) {
      throw refuse(
        `its schema version (PRAGMA user_version) is ${version}, newer than the ${SCHEMA_VERSION} this engine ` +
          `supports; upgrade the engine or point DATA_DIR elsewhere`,
      );
    }
    const kind = db.prepare("SELECT type FROM sqlite_schema WHERE name = ?").get(TABLE_NAME)?.type;
    let from = 0;
    if (kind !== undefined) {
      if (kind !== "table") throw refuse(`"${TABLE_NAME}" is a ${String(kind)}, not a table`);
      const columns = db.prepare("SELECT name FROM pragma_table_info(?)").all(TABLE_NAME).map((r) =>
        String(r.name)
      );
      // A table from before versioning (user_version 0) is adopted only if it matches version 1 exactly.
      from = Math.max(version, 1);
      const expected = MIGRATIONS[from - 1].columns;
      if (columns.length !== expected.length || columns.some((c, i) => c !== expected[i])) {
        throw refuse(
          `table ${TABLE_NAME} has columns (${columns.join(", ")}), expected (${expected.join(", ")})`,
        );
      }
    }
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v].up(db);
    if (version !== SCHEMA_VERSION) db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function text(value: unknown, column: string): string {
  if (typeof value !== "string") throw new TypeError(`${column} is ${typeof value}, expected text`);
  return value;
}

function num(value: unknown, column: string): number {
  if (typeof value !== "number") throw new TypeError(`${column} is ${typeof value}, expected a number`);
  return value;
}

function numOrNull(value: unknown, column: string): number | null {
  return value === null ? null : num(value, column);
}

/**
 * Asks node:sqlite for rows as arrays (three times faster to build than its null-prototype objects) where it
 * can: `setReturnArrays` is not in Deno's type declarations yet, hence the feature test.
 */
function preferArrays(statement: StatementSync): void {
  if ("setReturnArrays" in statement && typeof statement.setReturnArrays === "function") {
    statement.setReturnArrays(true);
  }
}

/** A fresh plain row from a result row of SNAPSHOT_COLUMNS, as an array or an object in column order. */
function toRow(result: unknown): SnapshotRow {
  const v: readonly unknown[] = Array.isArray(result)
    ? result
    : typeof result === "object" && result !== null
    ? Object.values(result)
    : [];
  const risk = text(v[9], "risk");
  if (!isRiskLevel(risk)) throw new TypeError(`risk is "${risk}", expected one of ${RISK_LEVELS.join(", ")}`);
  return {
    computed_at: text(v[0], "computed_at"),
    signal: text(v[1], "signal"),
    window_sec: num(v[2], "window_sec"),
    start_ts: text(v[3], "start_ts"),
    end_ts: text(v[4], "end_ts"),
    n: num(v[5], "n"),
    mean: numOrNull(v[6], "mean"),
    stdev: numOrNull(v[7], "stdev"),
    volatility_index: numOrNull(v[8], "volatility_index"),
    risk,
    source: text(v[10], "source"),
    engine_version: text(v[11], "engine_version"),
  };
}

function isRiskLevel(value: string): value is RiskLevel {
  return RISKS.has(value);
}

/** Runs a synchronous step as a promise: its value, or a rejection with what it threw. */
function settle<T>(step: () => T): Promise<T> {
  try {
    return Promise.resolve(step());
  } catch (error) {
    return Promise.reject(error);
  }
}

export class SqliteSnapshotStore implements SnapshotStore {
  readonly mode = "sqlite";
  readonly location: string;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #history: StatementSync;
  readonly #prune: StatementSync;

  constructor(db: DatabaseSync, location: string) {
    this.#db = db;
    this.location = location;
    this.#insert = db.prepare(
      `INSERT INTO ${TABLE_NAME} (${V1_COLUMNS.join(", ")}) VALUES (${V1_COLUMNS.map(() => "?").join(", ")})`,
    );
    this.#history = db.prepare(
      `SELECT ${SELECT_COLUMNS} FROM ${TABLE_NAME}
       WHERE signal = ? AND window_sec = ? AND computed_at_ms >= ?
       ORDER BY computed_at_ms DESC, rowid DESC LIMIT ?`,
    );
    preferArrays(this.#history);
    this.#prune = db.prepare(`DELETE FROM ${TABLE_NAME} WHERE computed_at_ms < ?`);
  }

  append(rows: readonly SnapshotRow[]): Promise<void> {
    return settle(() => {
      validateRows(rows);
      if (rows.length === 0) return;
      const db = this.#db;
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          for (const row of rows) {
            this.#insert.run(
              row.computed_at,
              row.signal,
              row.window_sec,
              row.start_ts,
              row.end_ts,
              row.n,
              row.mean,
              row.stdev,
              row.volatility_index,
              row.risk,
              row.source,
              row.engine_version,
              computedAtMs(row),
            );
          }
          db.exec("COMMIT");
        } catch (error) {
          if (db.isTransaction) db.exec("ROLLBACK");
          throw error;
        }
      } catch (error) {
        throw new SnapshotStoreError(
          `Cannot append ${rows.length} snapshot rows to "${this.location}": ${errorMessage(error)}`,
          { cause: error },
        );
      }
    });
  }

  history(query: HistoryQuery): Promise<SnapshotRow[]> {
    return settle(() => {
      validateQuery(query);
      if (query.limit === 0) return [];
      try {
        const rows: unknown[] = this.#history.all(
          query.signal,
          query.windowSec,
          query.sinceMs ?? -Number.MAX_VALUE,
          query.limit,
        );
        const result = new Array<SnapshotRow>(rows.length);
        for (let i = 0; i < rows.length; i++) result[rows.length - 1 - i] = toRow(rows[i]);
        return result;
      } catch (error) {
        throw new SnapshotStoreError(
          `Cannot read snapshot history from "${this.location}": ${errorMessage(error)}`,
          { cause: error },
        );
      }
    });
  }

  prune(beforeMs: number): Promise<number> {
    return settle(() => {
      validateBeforeMs(beforeMs);
      try {
        return Number(this.#prune.run(beforeMs).changes);
      } catch (error) {
        throw new SnapshotStoreError(`Cannot prune snapshots in "${this.location}": ${errorMessage(error)}`, {
          cause: error,
        });
      }
    });
  }

  /** The connection's settings, as SQLite reports them (for /status and tests). */
  settings(): { journalMode: string; synchronous: number; busyTimeoutMs: number; userVersion: number } {
    const pragma = (name: string) => Object.values(this.#db.prepare(`PRAGMA ${name}`).get() ?? {})[0];
    return {
      journalMode: String(pragma("journal_mode")),
      synchronous: Number(pragma("synchronous")),
      busyTimeoutMs: Number(pragma("busy_timeout")),
      userVersion: Number(pragma("user_version")),
    };
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}

/**
 * Opens (creating if missing) the database at `path` (a file, or `":memory:"`), migrating it to
 * {@linkcode SCHEMA_VERSION}. Throws {@linkcode SnapshotStoreError} for a foreign or newer database.
 */
export function openSqliteStore(path: string): SqliteSnapshotStore {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path);
  } catch (error) {
    throw new SnapshotStoreError(`Cannot open snapshot store "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  let store: SqliteSnapshotStore;
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    migrate(db, path);
    // After the checks: switching to WAL rewrites the file header, which a foreign file must never see.
    const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode;
    if (mode !== "wal" && path !== ":memory:") {
      log.warn("SQLite WAL mode unavailable for {path}; using journal mode {mode}", { path, mode });
    }
    db.exec("PRAGMA synchronous = NORMAL");
    store = new SqliteSnapshotStore(db, path);
  } catch (error) {
    db.close();
    if (error instanceof SnapshotStoreError) throw error;
    throw new SnapshotStoreError(`Cannot open snapshot store "${path}": ${errorMessage(error)}`, {
      cause: error,
    });
  }
  return store;
}
