/**
 * The transitions log contract, run against every mode (sqlite, csv, kv, none), then each file mode's own
 * concerns: torn CSV lines, foreign files, an existing v0.1 database, a shared KV handle, and kill -9.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { StoreMode } from "../../src/core/vocabulary.ts";
import {
  CsvTransitionLog,
  DELIVERY_JSON,
  TRANSITIONS_CSV_HEADER,
} from "../../src/persistence/csv_transitions.ts";
import { openKvStore } from "../../src/persistence/kv_store.ts";
import { createKvTransitionLog, KV_MAX_TRANSITION_BYTES } from "../../src/persistence/kv_transitions.ts";
import { openTransitionLog } from "../../src/persistence/open_transitions.ts";
import { SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import {
  compareTransitions,
  cursorOf,
  isAfter,
  type TransitionLog,
  TRANSITIONS_CSV,
} from "../../src/persistence/transitions.ts";
import type { Transition } from "../../src/core/alerts.ts";
import { BASE_MS, MINUTE_MS, row, spawnWriter, watchWriter, withTempDir } from "./rows.ts";
import { transition } from "./transition_rows.ts";

const MODES: readonly StoreMode[] = ["sqlite", "csv", "kv", "none"];
const DURABLE: readonly StoreMode[] = ["sqlite", "csv", "kv"];
const ALL = { limit: 10_000 };

function open(mode: StoreMode, dir: string): Promise<TransitionLog> {
  return openTransitionLog(mode, {
    dataDir: join(dir, "data"),
    kvPath: join(dir, "data", "rolling_store.kv"),
  });
}

/** Runs `fn` with a fresh log of `mode` in a temp dir, closing the log afterwards. */
function withLog(mode: StoreMode, fn: (log: TransitionLog, dir: string) => Promise<void>): Promise<void> {
  return withTempDir(async (dir) => {
    const log = await open(mode, dir);
    try {
      await fn(log, dir);
    } finally {
      await log.close();
    }
  });
}

const ids = (ts: readonly Transition[]) => ts.map((t) => t.id);

/** Values that must round-trip exactly: quotes, commas, unicode, nulls, fractional times, both boundaries. */
function tricky(): Transition[] {
  return [
    transition(0, { signal: 'a,"b" 信号-α 🚀', mean: null, stdev: null, volatilityIndex: null, n: 0 }),
    transition(1, {
      at: "2024-05-01T12:01:00.123Z",
      mean: 0.1 + 0.2,
      stdev: 5e-324,
      volatilityIndex: -1.5e-300,
    }),
    transition(2, { rule: 'mean < 0.6, "quoted", \\ back', signal: "'q'" }),
    transition(4, {
      nearestBoundary: {
        boundary: "high",
        rule: "volatility",
        changesAt: 1 / 3,
        direction: "fall",
        text: 'a "b", c',
      },
    }),
  ];
}

for (const mode of MODES) {
  Deno.test(`${mode} transitions log: list() filters by signal, window and since, newest limit oldest first`, () =>
    withLog(mode, async (log) => {
      const alpha = [0, 1, 2, 3, 4].map((i) => transition(i));
      const beta = [0, 2, 4].map((i) => transition(i, { signal: "beta" }));
      const day = [1, 3].map((i) => transition(i, { windowSec: 86_400 }));
      const all = [...alpha, ...beta, ...day].sort(compareTransitions);
      await log.append(all);
      deepEqual(await log.list(ALL), all);
      deepEqual(await log.list({ signal: "alpha", windowSec: 3600, limit: 100 }), alpha);
      deepEqual(await log.list({ signal: "alpha", windowSec: 3600, limit: 2 }), alpha.slice(-2));
      deepEqual(await log.list({ signal: "beta", limit: 100 }), beta);
      deepEqual(await log.list({ windowSec: 86_400, limit: 100 }), day);
      const since = BASE_MS + 2 * MINUTE_MS;
      deepEqual(
        await log.list({ signal: "alpha", sinceMs: since, limit: 100 }),
        all.filter((t) => t.signal === "alpha" && Date.parse(t.at) >= since),
      );
      deepEqual(await log.list({ sinceMs: BASE_MS + 4 * MINUTE_MS, limit: 1 }), [all[all.length - 1]]);
      deepEqual(await log.list({ signal: "gamma", limit: 10 }), []);
      deepEqual(await log.list({ limit: 0 }), []);
    }));

  Deno.test(`${mode} transitions log: round-trips awkward values exactly`, () =>
    withLog(mode, async (log) => {
      const ts = tricky();
      await log.append(ts);
      deepEqual(await log.list(ALL), ts);
      deepEqual(await log.after(null, 100), ts);
    }));

  Deno.test(`${mode} transitions log: a transition appended twice is held once`, () =>
    withLog(mode, async (log) => {
      await log.append([transition(0), transition(1)]);
      await log.append([transition(1), transition(2)]); // a retried append overlapping the last one
      await log.append([transition(3), transition(3)]); // the same id twice in one batch
      deepEqual(ids(await log.list(ALL)), [0, 1, 2, 3].map((i) => transition(i).id));
      equal(await log.countAfter(null), 4);
    }));

  Deno.test(`${mode} transitions log: latest() is the newest transition of every key`, () =>
    withLog(mode, async (log) => {
      deepEqual(await log.latest(), []);
      await log.append([transition(0), transition(1, { signal: "beta" }), transition(2)]);
      await log.append([transition(5, { windowSec: 86_400 })]);
      await log.append([transition(1)]); // older than alpha's newest: latest stays transition(2)
      deepEqual(
        (await log.latest()).sort(compareTransitions), // latest() promises no order
        [transition(1, { signal: "beta" }), transition(2), transition(5, { windowSec: 86_400 })],
      );
    }));

  Deno.test(`${mode} transitions log: after() pages in (at, id) order across equal at, countAfter() agrees`, () =>
    withLog(mode, async (log) => {
      // Six keys transitioning at the same instant, then two later ones.
      const same = ["a", "b", "c", "d", "e", "f"].map((signal) => transition(3, { signal }));
      const all = [...same, transition(4), transition(5, { signal: "b" })].sort(compareTransitions);
      await log.append(all.slice(0, 4));
      await log.append(all.slice(4));
      const paged: Transition[] = [];
      let cursor = null;
      for (let page = await log.after(cursor, 3); page.length > 0; page = await log.after(cursor, 3)) {
        ok(page.length <= 3);
        equal(await log.countAfter(cursor), all.length - paged.length);
        paged.push(...page);
        cursor = cursorOf(page[page.length - 1]);
      }
      deepEqual(paged, all);
      equal(await log.countAfter(cursor), 0);
      deepEqual(await log.after(cursorOf(all[2]), 2), all.slice(3, 5));
      equal(await log.countAfter(cursorOf(all[2])), all.length - 3);
      // A cursor between held transitions (pruned away, say) still orders correctly.
      deepEqual(await log.after({ atMs: BASE_MS + 3 * MINUTE_MS, id: "tr_" }, 100), all);
      deepEqual(await log.after({ atMs: BASE_MS + 10 * MINUTE_MS, id: "x" }, 100), []);
    }));

  Deno.test(`${mode} transitions log: cursors are per target and move`, () =>
    withLog(mode, async (log) => {
      equal(await log.cursor("webhook"), null);
      await log.setCursor("webhook", cursorOf(transition(1)));
      await log.setCursor("alertmanager", cursorOf(transition(0)));
      await log.setCursor("webhook", cursorOf(transition(2)));
      deepEqual(await log.cursor("webhook"), cursorOf(transition(2)));
      deepEqual(await log.cursor("alertmanager"), cursorOf(transition(0)));
      if (mode !== "none") { // the memory log (on main) does not check its arguments
        await rejects(log.setCursor("webhook", { atMs: Number.NaN, id: "x" }), SnapshotStoreError);
        await rejects(log.setCursor("", cursorOf(transition(3))), SnapshotStoreError);
      }
      deepEqual(await log.cursor("webhook"), cursorOf(transition(2)));
    }));

  Deno.test(`${mode} transitions log: prune() deletes old transitions but keeps each key's newest`, () =>
    withLog(mode, async (log) => {
      const alpha = [0, 1, 2, 3].map((i) => transition(i));
      const beta = transition(0, { signal: "beta" }); // old, but beta's newest
      await log.append([...alpha, beta].sort(compareTransitions));
      equal(await log.prune(BASE_MS + 2 * MINUTE_MS), 2);
      deepEqual(await log.list(ALL), [beta, alpha[2], alpha[3]]);
      equal(await log.prune(BASE_MS + 100 * MINUTE_MS), 1); // alpha[2]; alpha[3] and beta are newest
      deepEqual(await log.list(ALL), [beta, alpha[3]]);
      deepEqual((await log.latest()).sort(compareTransitions), [beta, alpha[3]]);
      equal(await log.prune(BASE_MS + 100 * MINUTE_MS), 0);
      await log.append([transition(4)]);
      deepEqual(await log.list(ALL), [beta, alpha[3], transition(4)]);
    }));

  Deno.test(`${mode} transitions log: an invalid transition rejects the batch with a SnapshotStoreError`, () =>
    withLog(mode, async (log) => {
      await log.append([transition(0)]);
      const bad = { ...transition(1), to: "extreme" } as unknown as Transition;
      await rejects(log.append([transition(2), bad]), (error: Error) => {
        ok(error instanceof SnapshotStoreError, String(error));
        ok(error.cause !== undefined);
        ok(error.message.includes(transition(1).id), error.message);
        return true;
      });
      await rejects(log.append([transition(3, { signal: "two\nlines" })]), SnapshotStoreError);
      if (mode !== "none") await rejects(log.list({ limit: -1 }), SnapshotStoreError);
      // Still usable; nothing of the refused batches landed.
      await log.append([transition(4)]);
      deepEqual(ids(await log.list(ALL)), [transition(0).id, transition(4).id]);
    }));
}

for (const mode of DURABLE) {
  Deno.test(`${mode} transitions log: close and reopen keeps transitions, latest and cursors`, () =>
    withTempDir(async (dir) => {
      const ts = [...tricky(), transition(5), transition(6, { signal: "beta" })].sort(compareTransitions);
      let log = await open(mode, dir);
      await log.append(ts.slice(0, 3));
      await log.append(ts.slice(3));
      await log.setCursor("webhook", cursorOf(ts[2]));
      const latest = await log.latest();
      await log.close();
      await rejects(log.list(ALL), SnapshotStoreError);
      log = await open(mode, dir);
      try {
        deepEqual(await log.list(ALL), ts);
        deepEqual(await log.latest(), latest);
        deepEqual(await log.cursor("webhook"), cursorOf(ts[2]));
        deepEqual(await log.after(await log.cursor("webhook"), 100), ts.slice(3));
        equal(await log.cursor("alertmanager"), null);
        await log.append([ts[0], transition(7)]); // the retried one is still known after the restart
        deepEqual(await log.list(ALL), [...ts, transition(7)]);
      } finally {
        await log.close();
      }
    }));

  Deno.test(`${mode} transitions log: a child killed with SIGKILL mid-append leaves a consistent log`, () =>
    withTempDir(async (dir) => {
      const dataDir = join(dir, "data");
      const { lastAcked, status, stderr } = await watchWriter(
        spawnWriter([mode, dataDir], "./transitions_crash_writer.ts"),
        40,
      );
      equal(status.signal, "SIGKILL", stderr);
      ok(lastAcked >= 39, `acked ${lastAcked}`);
      const log = await open(mode, dir);
      try {
        const all = await log.list(ALL);
        const held = new Set(ids(all));
        equal(held.size, all.length, "ids are unique");
        // Every acknowledged append is there, whole, in order; at most the one in flight follows.
        ok(
          all.length >= 2 * (lastAcked + 1) && all.length <= 2 * (lastAcked + 2),
          `${all.length}, acked ${lastAcked}`,
        );
        const expected = Array.from({ length: all.length / 2 }, (_, i) => [
          transition(i),
          transition(i, { signal: "beta" }),
        ]).flat().sort(compareTransitions);
        deepEqual(all, expected);
        const cursor = await log.cursor("webhook");
        ok(cursor !== null && held.has(cursor.id), JSON.stringify(cursor));
        ok(cursor.atMs >= BASE_MS + (lastAcked - 1) * MINUTE_MS);
        equal(await log.countAfter(cursor), all.filter((t) => isAfter(t, cursor)).length);
        // And it goes on: the next append lands whole.
        await log.append([transition(1000)]);
        deepEqual((await log.list({ limit: 1 }))[0], transition(1000));
      } finally {
        await log.close();
      }
    }));
}

Deno.test("csv transitions log: a torn last line is skipped and the next append starts on a fresh line", () =>
  withTempDir(async (dir) => {
    const path = join(dir, "data", TRANSITIONS_CSV);
    let log = await open("csv", dir);
    await log.append([transition(0), transition(1)]);
    await log.close();
    const whole = await Deno.readTextFile(path);
    const lastLine = whole.trimEnd().split("\n").at(-1)!;
    // A crash mid-append: every prefix of a line is skipped (try a few cut points, including inside the JSON).
    for (const cut of [1, 10, lastLine.length - 30, lastLine.length - 2, lastLine.length - 1]) {
      await Deno.writeTextFile(path, whole + lastLine.slice(0, cut));
      log = await open("csv", dir);
      try {
        equal((log as CsvTransitionLog).skippedLines, 1, `cut at ${cut}`);
        deepEqual(await log.list(ALL), [transition(0), transition(1)]);
      } finally {
        await log.close();
      }
    }
    log = await open("csv", dir);
    await log.append([transition(2)]);
    await log.close();
    const lines = (await Deno.readTextFile(path)).split("\n");
    equal(lines[0], TRANSITIONS_CSV_HEADER);
    equal(lines.at(-1), "");
    equal(lines.at(-3), lastLine.slice(0, lastLine.length - 1)); // the torn line stays a line of its own
    log = await open("csv", dir);
    try {
      deepEqual(await log.list(ALL), [transition(0), transition(1), transition(2)]);
      equal((log as CsvTransitionLog).skippedLines, 1);
      await log.prune(0); // a rewrite drops the torn line
      equal((log as CsvTransitionLog).skippedLines, 0);
      equal((await Deno.readTextFile(path)).split("\n").length, 5);
      deepEqual(await log.list(ALL), [transition(0), transition(1), transition(2)]);
    } finally {
      await log.close();
    }
  }));

Deno.test("csv transitions log: a foreign CSV or cursor file is a clear SnapshotStoreError and left unchanged", () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, "data");
    await Deno.mkdir(dataDir);
    const path = join(dataDir, TRANSITIONS_CSV);
    await Deno.writeTextFile(path, "name,age\nbob,3\n");
    await rejects(open("csv", dir), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(path) && error.message.includes("name,age"), error.message);
      return true;
    });
    equal(await Deno.readTextFile(path), "name,age\nbob,3\n");
    await Deno.remove(path);
    for (const garbage of ["{not json", '{"webhook": {"atMs": "soon"}}', "[1,2]"]) {
      await Deno.writeTextFile(join(dataDir, DELIVERY_JSON), garbage);
      await rejects(open("csv", dir), (error: Error) => {
        ok(error instanceof SnapshotStoreError);
        ok(error.message.includes(DELIVERY_JSON), error.message);
        return true;
      });
      equal(await Deno.readTextFile(join(dataDir, DELIVERY_JSON)), garbage);
    }
  }));

Deno.test("csv transitions log keeps cursors as JSON in alert_delivery.json, leaving no temp file behind", () =>
  withTempDir(async (dir) => {
    const log = await open("csv", dir);
    try {
      await log.setCursor("webhook", { atMs: 5, id: "tr_x" });
      deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "data", DELIVERY_JSON))), {
        webhook: { atMs: 5, id: "tr_x" },
      });
      await log.setCursor("alertmanager", { atMs: 6, id: "tr_y" });
      await log.append([transition(0), transition(1)]);
      await log.prune(BASE_MS + 10 * MINUTE_MS);
      deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "data", DELIVERY_JSON))), {
        webhook: { atMs: 5, id: "tr_x" },
        alertmanager: { atMs: 6, id: "tr_y" },
      });
      deepEqual((await Array.fromAsync(Deno.readDir(join(dir, "data")))).map((e) => e.name).sort(), [
        DELIVERY_JSON,
        TRANSITIONS_CSV,
      ]);
    } finally {
      await log.close();
    }
  }));

Deno.test("sqlite transitions log: a file that is not SQLite, or a foreign table, is a SnapshotStoreError", () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, "data");
    await Deno.mkdir(dataDir);
    const path = join(dataDir, "rolling_store.db");
    const garbage = "this is not a database".repeat(100);
    await Deno.writeTextFile(path, garbage);
    await rejects(open("sqlite", dir), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(path), error.message);
      return true;
    });
    equal(await Deno.readTextFile(path), garbage);
    await Deno.remove(path);
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE risk_transitions (id TEXT, what TEXT)");
    db.close();
    await rejects(open("sqlite", dir), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes("risk_transitions has columns (id, what)"), error.message);
      return true;
    });
  }));

Deno.test("sqlite transitions log shares an existing v0.1 rolling_store.db with the snapshots, in either order", () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, "data");
    await Deno.mkdir(dataDir);
    const path = join(dataDir, "rolling_store.db");
    const history = { signal: "alpha", windowSec: 3600, limit: 100 };
    let store = openSqliteStore(path); // a v0.1 database: snapshots only
    await store.append([row(0), row(1)]);
    const { userVersion } = store.settings();
    await store.close();
    const log = await open("sqlite", dir);
    store = openSqliteStore(path); // opened second, beside the log's connection
    try {
      await log.append([transition(0)]);
      await store.append([row(2)]);
      deepEqual(await store.history(history), [row(0), row(1), row(2)]);
      equal(store.settings().userVersion, userVersion);
      equal(store.settings().journalMode, "wal");
      deepEqual(await log.list(ALL), [transition(0)]);
    } finally {
      await log.close();
      await store.close();
    }
    store = openSqliteStore(path);
    await store.close();
    // A fresh database, the log first: the snapshot store then creates its table as on a new file.
    const fresh = join(dir, "fresh");
    const first = await openTransitionLog("sqlite", { dataDir: fresh });
    await first.append([transition(0)]);
    store = openSqliteStore(join(fresh, "rolling_store.db"));
    try {
      await store.append([row(0)]);
      deepEqual(await store.history(history), [row(0)]);
      equal(store.settings().userVersion, userVersion);
      deepEqual(await first.list(ALL), [transition(0)]);
    } finally {
      await first.close();
      await store.close();
    }
  }));

Deno.test("kv transitions log can share the snapshot store's KV handle and leaves it open", () =>
  withTempDir(async (dir) => {
    const kv = await Deno.openKv(join(dir, "shared.kv"));
    try {
      const log = await openTransitionLog("kv", { dataDir: dir, kv });
      await log.append([transition(0)]);
      await log.close();
      equal((await kv.get(["transitions_by_id", transition(0).id])).value, BASE_MS);
      const again = await openTransitionLog("kv", { dataDir: dir, kv });
      deepEqual(await again.list(ALL), [transition(0)]);
      await again.close();
    } finally {
      kv.close();
    }
  }));

Deno.test("kv transitions log commits a large append in batches and refuses a value over KV's limit", () =>
  withLog("kv", async (log) => {
    const many = Array.from({ length: 260 }, (_, i) => transition(i)).concat(
      Array.from({ length: 40 }, (_, i) => transition(i, { signal: "beta", rule: "x".repeat(20_000) })),
    ).sort(compareTransitions);
    await log.append(many);
    deepEqual(await log.list(ALL), many);
    equal(await log.countAfter(null), 300);
    await rejects(
      log.append([transition(999, { rule: "x".repeat(KV_MAX_TRANSITION_BYTES) })]),
      SnapshotStoreError,
    );
    equal(await log.countAfter(null), 300);
  }));

Deno.test("kv transitions log: a KV file that cannot be opened is a SnapshotStoreError naming it", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "data"), "a file where DATA_DIR should be");
    await rejects(open("kv", dir), (error: Error) => {
      ok(error instanceof SnapshotStoreError, String(error));
      ok(error.message.includes(join(dir, "data")), error.message);
      return true;
    });
    const garbage = join(dir, "garbage.kv");
    await Deno.writeTextFile(garbage, "not a database ".repeat(500));
    await rejects(openTransitionLog("kv", { dataDir: dir, kvPath: garbage }), SnapshotStoreError);
  }));

Deno.test("openTransitionLog('none') is a memory log that keeps nothing across opens", async () => {
  const log = await openTransitionLog("none", { dataDir: "/nonexistent/never/created", maxTransitions: 3 });
  await log.append([0, 1, 2, 3, 4].map((i) => transition(i)));
  equal((await log.list(ALL)).length, 3);
  await log.close();
  const again = await openTransitionLog("none", { dataDir: "/nonexistent/never/created" });
  deepEqual(await again.list(ALL), []);
  await rejects(Deno.stat("/nonexistent/never/created"), Deno.errors.NotFound);
});

Deno.test("openTransitionLog('kv', {store}) shares the snapshot store's KV handle", () =>
  withTempDir(async (dir) => {
    const kvPath = join(dir, "data", "rolling_store.kv");
    await Deno.mkdir(join(dir, "data"));
    const store = await openKvStore(kvPath);
    const log = await openTransitionLog("kv", { dataDir: join(dir, "data"), kvPath, store });
    try {
      // Concurrent writes through the one handle: two handles on one file in a process would contend.
      await Promise.all([
        store.append([row(0)]),
        log.append([transition(0)]),
        log.append([transition(1)]),
        store.append([row(1)]),
      ]);
      deepEqual(await log.list(ALL), [transition(0), transition(1)]);
      equal((await store.kv.get(["transitions_by_id", transition(1).id])).value, BASE_MS + MINUTE_MS);
    } finally {
      await log.close();
      await store.close();
    }
  }));

Deno.test("kv transitions log: two writers racing to append the same transitions store each once", () =>
  withTempDir(async (dir) => {
    const kv = await Deno.openKv(join(dir, "shared.kv"));
    const [a, b] = [1, 2].map(() => createKvTransitionLog(kv));
    try {
      const batch = Array.from({ length: 60 }, (_, i) => transition(i));
      await Promise.all([a.append(batch), b.append(batch), a.append(batch.slice(20, 40))]);
      deepEqual(await b.list(ALL), batch);
      deepEqual(await a.latest(), [batch[59]]);
    } finally {
      await a.close();
      await b.close();
      kv.close();
    }
  }));

Deno.test("openTransitionLog() creates a nested DATA_DIR for sqlite and csv, and only the KV file's folder for kv", () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, "a", "b");
    for (const [mode, file] of [["sqlite", "rolling_store.db"], ["csv", TRANSITIONS_CSV]] as const) {
      const log = await openTransitionLog(mode, { dataDir });
      await log.close();
      ok((await Deno.stat(join(dataDir, file))).isFile);
    }
    const log = await openTransitionLog("kv", {
      dataDir: join(dir, "unused"),
      kvPath: join(dir, "kv", "t.kv"),
    });
    await log.close();
    ok((await Deno.stat(join(dir, "kv", "t.kv"))).isFile);
    await rejects(Deno.stat(join(dir, "unused")), Deno.errors.NotFound);
    await rejects(openTransitionLog("tape" as StoreMode, { dataDir }), SnapshotStoreError);
  }));
