/**
 * The behaviour every real snapshot store shares (SQLite, CSV, KV), run against each: exact round-trips,
 * history filters and ordering, batch validation, reads during writes, retention and restart continuity.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { openCsvStore } from "../../src/persistence/csv_store.ts";
import { createKvStore } from "../../src/persistence/kv_store.ts";
import { openSnapshotStore } from "../../src/persistence/open_store.ts";
import { type SnapshotRow, type SnapshotStore, SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import { BASE_MS, MINUTE_MS, row, trickyRows, withTempDir } from "./rows.ts";

type FileMode = "sqlite" | "csv" | "kv";

interface Harness {
  mode: FileMode;
  /** A fresh store (in memory where the mode has that), and its clean-up. */
  fresh(): Promise<{ store: SnapshotStore; cleanup(): Promise<void> }>;
}

const HARNESSES: Harness[] = [
  {
    mode: "sqlite",
    fresh() {
      const store = openSqliteStore(":memory:");
      return Promise.resolve({ store, cleanup: () => store.close() });
    },
  },
  {
    mode: "csv",
    async fresh() {
      const dir = await Deno.makeTempDir({ prefix: "snapshot_store_test_" });
      const store = await openCsvStore(join(dir, "rolling_store.csv"));
      return {
        store,
        async cleanup() {
          await store.close();
          await Deno.remove(dir, { recursive: true });
        },
      };
    },
  },
  {
    mode: "kv",
    async fresh() {
      const store = createKvStore(await Deno.openKv(":memory:"), {
        location: "deno-kv::memory:",
        closeKv: true,
      });
      return { store, cleanup: () => store.close() };
    },
  },
];

async function withStore(harness: Harness, fn: (store: SnapshotStore) => Promise<void>): Promise<void> {
  const { store, cleanup } = await harness.fresh();
  try {
    await fn(store);
  } finally {
    await cleanup();
  }
}

function openFileStore(mode: FileMode, dataDir: string): Promise<SnapshotStore> {
  return openSnapshotStore(mode, { dataDir, kvPath: join(dataDir, "rolling_store.kv") });
}

const ALL = { signal: "alpha", windowSec: 3600, limit: 1000 };

for (const harness of HARNESSES) {
  const { mode } = harness;

  Deno.test(`${mode} store round-trips rows exactly (floats, nulls, "*", unicode, commas and quotes)`, () =>
    withStore(harness, async (store) => {
      const rows = trickyRows();
      await store.append(rows);
      const back: SnapshotRow[] = [];
      for (const signal of new Set(rows.map((r) => r.signal))) {
        back.push(...await store.history({ signal, windowSec: 3600, limit: 10 }));
      }
      deepEqual(
        back,
        [...new Set(rows.map((r) => r.signal))].flatMap((s) => rows.filter((r) => r.signal === s)),
      );
      equal(back[0].mean, 0.30000000000000004);
      equal(back[0].stdev, 1e-17);
    }));

  Deno.test(`${mode} store history filters by signal, window and since (inclusive)`, () =>
    withStore(harness, async (store) => {
      const rows: SnapshotRow[] = [];
      for (let i = 0; i < 10; i++) {
        rows.push(
          row(i),
          row(i, { window_sec: 86_400 }),
          row(i, { signal: "alpha,beta" }),
          row(i, { signal: "alph" }),
          row(i, { signal: "*" }),
        );
      }
      await store.append(rows);
      deepEqual(await store.history(ALL), rows.filter((r) => r.signal === "alpha" && r.window_sec === 3600));
      deepEqual(
        await store.history({ signal: "alpha", windowSec: 86_400, limit: 100 }),
        rows.filter((r) => r.window_sec === 86_400),
      );
      deepEqual(
        await store.history({ signal: "alpha,beta", windowSec: 3600, limit: 100 }),
        rows.filter((r) => r.signal === "alpha,beta"),
      );
      deepEqual(await store.history({ ...ALL, sinceMs: BASE_MS + 7 * MINUTE_MS }), [row(7), row(8), row(9)]);
      deepEqual(await store.history({ ...ALL, sinceMs: BASE_MS + 7 * MINUTE_MS + 1 }), [row(8), row(9)]);
      deepEqual(await store.history({ ...ALL, sinceMs: BASE_MS + 60 * MINUTE_MS }), []);
      deepEqual(await store.history({ signal: "nobody", windowSec: 3600, limit: 10 }), []);
      deepEqual(await store.history({ signal: "alpha", windowSec: 60, limit: 10 }), []);
    }));

  Deno.test(`${mode} store history keeps the newest N rows, oldest first, equal times in insertion order`, () =>
    withStore(harness, async (store) => {
      // Appended out of time order, in several batches; rows 3a and 3b share computed_at.
      const a = row(3, { n: 1 });
      const b = row(3, { n: 2 });
      await store.append([row(5), row(1)]);
      await store.append([a, row(4)]);
      await store.append([row(0), b, row(2)]);
      deepEqual(await store.history({ ...ALL, limit: 3 }), [a, b, row(4), row(5)].slice(1));
      deepEqual(await store.history({ ...ALL, limit: 4 }), [a, b, row(4), row(5)]);
      deepEqual(await store.history({ ...ALL, limit: 100 }), [row(0), row(1), row(2), a, b, row(4), row(5)]);
      deepEqual(await store.history({ ...ALL, limit: 1 }), [row(5)]);
      deepEqual(await store.history({ ...ALL, limit: 0 }), []);
      deepEqual(await store.history({ ...ALL, limit: 2, sinceMs: BASE_MS + MINUTE_MS }), [row(4), row(5)]);
    }));

  Deno.test(`${mode} store rejects a batch with an invalid row and writes none of it`, () =>
    withStore(harness, async (store) => {
      await store.append([]);
      const bad = [
        row(0),
        row(1, { computed_at: "2024-05-01 12:01" }),
      ];
      await rejects(store.append(bad), (error: Error) => {
        ok(error instanceof SnapshotStoreError);
        ok(error.message.includes('row 1 (signal "alpha"): computed_at'), error.message);
        return true;
      });
      await rejects(store.append([row(0, { signal: "two\nlines" })]), /line breaks/);
      await rejects(store.append([row(0, { mean: NaN })]), SnapshotStoreError);
      await rejects(store.append([row(0, { mean: Infinity })]), SnapshotStoreError);
      await rejects(store.append([row(0, { engine_version: '0.1"' })]), /quotes/);
      await rejects(store.history({ ...ALL, limit: -1 }), RangeError);
      await rejects(store.prune(NaN), RangeError);
      deepEqual(await store.history(ALL), []);
      await store.append([row(0)]);
      deepEqual(await store.history(ALL), [row(0)]);
    }));

  Deno.test(`${mode} store reads during writes see whole batches of whole rows only`, () =>
    withStore(harness, async (store) => {
      const batches = Array.from(
        { length: 40 },
        (_, b) =>
          Array.from(
            { length: 5 },
            (_, k) => row(b * 5 + k, { signal: "live", source: `batch ${b}, "k" ${k}` }),
          ),
      );
      const query = { signal: "live", windowSec: 3600, limit: 10_000 };
      const reads: Promise<SnapshotRow[]>[] = [];
      const writes: Promise<void>[] = [];
      for (const batch of batches) {
        writes.push(store.append(batch));
        reads.push(store.history(query));
      }
      await Promise.all(writes);
      const all = batches.flat();
      for (const seen of await Promise.all(reads)) {
        // Whole rows, in time order, and whole batches: every batch is there entirely or not at all.
        const batchesSeen = new Set(seen.map((r) => Math.floor((r.n - 100) / 5)));
        deepEqual(seen, all.filter((r) => batchesSeen.has(Math.floor((r.n - 100) / 5))));
      }
      deepEqual(await store.history(query), all);
    }));

  Deno.test(`${mode} store prune deletes rows computed before the bound and returns the count`, () =>
    withStore(harness, async (store) => {
      const rows: SnapshotRow[] = [];
      for (let i = 0; i < 10; i++) rows.push(row(i), row(i, { signal: "*" }), row(i, { window_sec: 60 }));
      await store.append(rows);
      equal(await store.prune(BASE_MS + 4 * MINUTE_MS), 12);
      equal(await store.prune(BASE_MS + 4 * MINUTE_MS), 0);
      deepEqual(await store.history(ALL), [4, 5, 6, 7, 8, 9].map((i) => row(i)));
      deepEqual(
        await store.history({ signal: "*", windowSec: 3600, limit: 100 }),
        [4, 5, 6, 7, 8, 9].map((i) => row(i, { signal: "*" })),
      );
      equal(await store.prune(BASE_MS + 100 * MINUTE_MS), 18);
      deepEqual(await store.history(ALL), []);
      await store.append([row(20)]);
      deepEqual(await store.history(ALL), [row(20)]);
    }));

  Deno.test(`${mode} store keeps every row across a restart and continues after them`, () =>
    withTempDir(async (dir) => {
      const first = await openFileStore(mode, dir);
      await first.append(trickyRows());
      await first.append([row(10), row(11)]);
      await first.close();

      const second = await openFileStore(mode, dir);
      try {
        const tricky = trickyRows();
        deepEqual(await second.history({ ...ALL, limit: 3 }), [tricky[6], row(10), row(11)]);
        await second.append([row(12)]);
        deepEqual(await second.history({ ...ALL, limit: 4 }), [tricky[6], row(10), row(11), row(12)]);
        const expected = [...tricky, row(10), row(11), row(12)];
        for (const signal of new Set(expected.map((r) => r.signal))) {
          deepEqual(
            await second.history({ signal, windowSec: 3600, limit: 100 }),
            expected.filter((r) => r.signal === signal),
          );
        }
      } finally {
        await second.close();
      }
    }));

  Deno.test(`${mode} store rejects operations once closed`, () =>
    withStore(harness, async (store) => {
      await store.close();
      await rejects(store.append([row(0)]), SnapshotStoreError);
      await rejects(store.history(ALL), SnapshotStoreError);
      await store.close();
    }));
}
