import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { STORE_FILE_NAMES } from "../../src/core/vocabulary.ts";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SNAPSHOT_COLUMNS, SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import {
  BUSY_TIMEOUT_MS,
  MIGRATIONS,
  openSqliteStore,
  SCHEMA_VERSION,
} from "../../src/persistence/sqlite_store.ts";
import { row, spawnWriter, trickyRows, watchWriter, withTempDir } from "./rows.ts";

const ALL = { signal: "alpha", windowSec: 3600, limit: 10_000 };

/** Runs `fn` with a second, plain connection to the database file. */
function withDb<T>(path: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function columnsOf(db: DatabaseSync, table: string): string[] {
  return db.prepare("SELECT name FROM pragma_table_info(?)").all(table).map((r) => String(r.name));
}

Deno.test("openSqliteStore() creates rolling_metrics with the snapshot columns, indexes and version 1", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const store = openSqliteStore(path);
    deepEqual(store.settings(), {
      journalMode: "wal",
      synchronous: 1, // NORMAL
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      userVersion: SCHEMA_VERSION,
    });
    equal(store.mode, "sqlite");
    equal(store.location, path);
    await store.close();
    equal(SCHEMA_VERSION, 1);
    equal(MIGRATIONS.length, SCHEMA_VERSION);
    withDb(path, (db) => {
      deepEqual(columnsOf(db, "rolling_metrics"), [...SNAPSHOT_COLUMNS, "computed_at_ms"]);
      const indexes = db.prepare("SELECT name FROM pragma_index_list('rolling_metrics') ORDER BY name").all()
        .map((r) => String(r.name));
      deepEqual(indexes, ["rolling_metrics_signal_window_time", "rolling_metrics_time"]);
      deepEqual(
        db.prepare("SELECT name FROM pragma_index_info('rolling_metrics_signal_window_time')").all()
          .map((r) => String(r.name)),
        ["signal", "window_sec", "computed_at_ms"],
      );
    });
  }));

Deno.test("sqlite store keeps floats as REAL, exactly, and computed_at_ms as epoch ms", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const store = openSqliteStore(path);
    await store.append(trickyRows());
    await store.close();
    withDb(path, (db) => {
      const r = db.prepare(
        "SELECT mean, typeof(mean) AS t, stdev, computed_at, computed_at_ms FROM rolling_metrics WHERE rowid = 1",
      ).get();
      deepEqual({ ...r }, {
        mean: 0.30000000000000004,
        t: "real",
        stdev: 1e-17,
        computed_at: "2024-05-01T12:00:00Z",
        computed_at_ms: Date.UTC(2024, 4, 1, 12),
      });
      equal(db.prepare("SELECT count(*) AS c FROM rolling_metrics WHERE mean IS NULL").get()?.c, 1);
    });
  }));

Deno.test("openSqliteStore() refuses a rolling_metrics table with other columns and leaves the file unchanged", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    withDb(path, (db) => {
      db.exec("CREATE TABLE rolling_metrics (ts TEXT, signal TEXT, value REAL)");
      db.exec("INSERT INTO rolling_metrics VALUES ('2024-01-01', 'x', 1.5)");
    });
    const before = await Deno.readFile(path);
    throws(() => openSqliteStore(path), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(`"${path}"`), error.message);
      ok(error.message.includes("table rolling_metrics has columns (ts, signal, value)"), error.message);
      ok(error.message.includes("expected (computed_at, signal, window_sec,"), error.message);
      ok(error.message.includes("left unchanged"), error.message);
      return true;
    });
    deepEqual(await Deno.readFile(path), before);
    withDb(path, (db) => equal(db.prepare("SELECT value FROM rolling_metrics").get()?.value, 1.5));
  }));

Deno.test("openSqliteStore() refuses a database whose user_version is newer than ours", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const store = openSqliteStore(path);
    await store.append([row(0)]);
    await store.close();
    withDb(path, (db) => {
      db.exec("PRAGMA journal_mode = DELETE"); // fold the WAL in, so the main file holds everything
      db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 6}`);
    });
    const before = await Deno.readFile(path);
    throws(() => openSqliteStore(path), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(path), error.message);
      ok(
        error.message.includes(`schema version (PRAGMA user_version) is 7, newer than the 1`),
        error.message,
      );
      return true;
    });
    deepEqual(await Deno.readFile(path), before);
  }));

Deno.test("openSqliteStore() refuses a file that is not SQLite and leaves it unchanged", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const text = "computed_at,signal\nthis is not a database\n".repeat(20);
    await Deno.writeTextFile(path, text);
    throws(() => openSqliteStore(path), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(path), error.message);
      ok(/not a database/.test(error.message), error.message);
      return true;
    });
    equal(await Deno.readTextFile(path), text);
  }));

Deno.test("openSqliteStore() creates its table alongside other tables, which it leaves alone", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    withDb(path, (db) => {
      db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
      db.exec("INSERT INTO notes (body) VALUES ('keep me')");
    });
    const store = openSqliteStore(path);
    await store.append([row(0)]);
    deepEqual(await store.history(ALL), [row(0)]);
    equal(store.settings().userVersion, 1);
    await store.close();
    withDb(path, (db) => {
      equal(db.prepare("SELECT body FROM notes").get()?.body, "keep me");
      deepEqual(columnsOf(db, "notes"), ["id", "body"]);
    });
  }));

Deno.test("openSqliteStore() adopts an unversioned table that has exactly the version 1 columns", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    withDb(path, (db) => MIGRATIONS[0].up(db)); // as if created before user_version was set
    const store = openSqliteStore(path);
    equal(store.settings().userVersion, 1);
    await store.append([row(1)]);
    deepEqual(await store.history(ALL), [row(1)]);
    await store.close();
  }));

Deno.test("sqlite store append rejects a failed write, keeps none of the batch, and stays usable", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const store = openSqliteStore(path);
    try {
      await store.append([row(0)]);
      // Another connection makes inserts of signal "boom" fail, as a full disk or I/O error would.
      withDb(
        path,
        (db) =>
          db.exec(`CREATE TRIGGER fail BEFORE INSERT ON rolling_metrics WHEN NEW.signal = 'boom'
                 BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`),
      );
      await rejects(store.append([row(1), row(2, { signal: "boom" }), row(3)]), (error: Error) => {
        ok(error instanceof SnapshotStoreError);
        ok(error.message.includes(`Cannot append 3 snapshot rows to "${path}"`), error.message);
        ok(error.message.includes("simulated write failure"), error.message);
        ok(error.cause instanceof Error);
        return true;
      });
      deepEqual(await store.history(ALL), [row(0)]); // the batch is all or nothing
      withDb(path, (db) => db.exec("DROP TRIGGER fail"));
      await store.append([row(1), row(3)]);
      deepEqual(await store.history(ALL), [row(0), row(1), row(3)]);
    } finally {
      await store.close();
    }
  }));

Deno.test("openSqliteStore() in a missing directory throws a SnapshotStoreError naming the file", () =>
  withTempDir((dir) => {
    const path = join(dir, "missing", STORE_FILE_NAMES.sqlite);
    throws(
      () => openSqliteStore(path),
      (error: Error) => error instanceof SnapshotStoreError && error.message.includes(path),
    );
    return Promise.resolve();
  }));

Deno.test("sqlite store keeps every committed batch when its writer is killed with SIGKILL", () =>
  withTempDir(async (dir) => {
    const { lastAcked, status } = await watchWriter(spawnWriter(["sqlite", dir, "loop"]), 40);
    equal(status.signal, "SIGKILL");
    ok(lastAcked >= 39, `acknowledged ${lastAcked}`);
    const store = openSqliteStore(join(dir, STORE_FILE_NAMES.sqlite));
    try {
      const rows = await store.history(ALL);
      // Every acknowledged batch is there; at most the one in flight may also have committed.
      ok(
        rows.length === lastAcked + 1 || rows.length === lastAcked + 2,
        `${rows.length} rows, acked ${lastAcked}`,
      );
      deepEqual(rows, rows.map((_, i) => row(i)));
      equal((await store.history({ ...ALL, signal: "beta" })).length, rows.length);
      await store.append([row(1000)]);
      equal((await store.history({ ...ALL, limit: 1 }))[0].n, row(1000).n);
    } finally {
      await store.close();
    }
    withDb(
      join(dir, STORE_FILE_NAMES.sqlite),
      (db) => equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok"),
    );
  }));

Deno.test("sqlite store keeps every batch of a writer that exits without closing", () =>
  withTempDir(async (dir) => {
    const { lastAcked, status, stderr } = await watchWriter(spawnWriter(["sqlite", dir, "exit", "25"]));
    equal(status.code, 0, stderr);
    equal(lastAcked, 24);
    const store = openSqliteStore(join(dir, STORE_FILE_NAMES.sqlite));
    try {
      deepEqual(await store.history(ALL), Array.from({ length: 25 }, (_, i) => row(i)));
    } finally {
      await store.close();
    }
  }));

Deno.test("sqlite store history keeps the unreadable row's error as the cause of its SnapshotStoreError", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.sqlite);
    const store = openSqliteStore(path);
    try {
      await store.append([row(0)]);
      withDb(path, (db) => db.exec("UPDATE rolling_metrics SET risk = 'bogus'"));
      await rejects(store.history(ALL), (error: Error) => {
        ok(error instanceof SnapshotStoreError);
        ok(error.message.startsWith(`Cannot read snapshot history from "${path}": `), error.message);
        ok(error.cause instanceof TypeError, String(error.cause));
        ok(error.cause.message.includes('risk is "bogus"'), error.cause.message);
        return true;
      });
    } finally {
      await store.close();
    }
  }));
