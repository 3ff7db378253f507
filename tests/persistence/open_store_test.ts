import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { CSV_HEADER } from "../../src/persistence/csv_store.ts";
import { openSnapshotStore, storeFile } from "../../src/persistence/open_store.ts";
import { SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import { row, withTempDir } from "./rows.ts";

const ALL = { signal: "alpha", windowSec: 3600, limit: 100 };

Deno.test("storeFile() puts sqlite and csv in DATA_DIR under their names, kv at kvPath, none nowhere", () => {
  const options = { dataDir: "/var/lib/ce", kvPath: "/srv/kv/store.kv" };
  equal(storeFile("sqlite", options), join("/var/lib/ce", "rolling_store.db"));
  equal(storeFile("csv", options), join("/var/lib/ce", "rolling_store.csv"));
  equal(storeFile("kv", options), "/srv/kv/store.kv");
  equal(storeFile("kv", { dataDir: "/var/lib/ce" }), undefined);
  equal(storeFile("none", options), undefined);
});

Deno.test("openSnapshotStore() creates DATA_DIR and the file for sqlite and csv", () =>
  withTempDir(async (dir) => {
    const dataDir = join(dir, "nested", "data");
    for (const [mode, file] of [["sqlite", "rolling_store.db"], ["csv", "rolling_store.csv"]] as const) {
      const store = await openSnapshotStore(mode, { dataDir });
      try {
        equal(store.mode, mode);
        equal(store.location, join(dataDir, file));
        ok((await Deno.stat(join(dataDir, file))).isFile);
        await store.append([row(0)]);
        deepEqual(await store.history(ALL), [row(0)]);
      } finally {
        await store.close();
      }
    }
    equal((await Deno.readTextFile(join(dataDir, "rolling_store.csv"))).split("\n")[0], CSV_HEADER);
  }));

Deno.test("openSnapshotStore() opens kv at kvPath without creating DATA_DIR", () =>
  withTempDir(async (dir) => {
    const kvPath = join(dir, "kv.sqlite3");
    const store = await openSnapshotStore("kv", { dataDir: join(dir, "unused"), kvPath });
    try {
      equal(store.mode, "kv");
      equal(store.location, `deno-kv:${kvPath}`);
      await store.append([row(0)]);
      deepEqual(await store.history(ALL), [row(0)]);
    } finally {
      await store.close();
    }
    await rejects(Deno.stat(join(dir, "unused")), Deno.errors.NotFound);
  }));

Deno.test("openSnapshotStore('none') keeps nothing but still checks its input", async () => {
  const store = await openSnapshotStore("none", { dataDir: "/nonexistent/never/created" });
  equal(store.mode, "none");
  equal(store.location, "none");
  await store.append([row(0), row(1)]);
  deepEqual(await store.history(ALL), []);
  equal(await store.prune(Date.now()), 0);
  await rejects(store.append([row(0, { risk: "extreme" as "high" })]), SnapshotStoreError);
  await rejects(store.history({ ...ALL, limit: 1.5 }), RangeError);
  await rejects(store.prune(NaN), RangeError);
  await store.close();
  await rejects(Deno.stat("/nonexistent/never/created"), Deno.errors.NotFound);
});

Deno.test("openSnapshotStore() rejects a DATA_DIR it cannot create, naming it", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "x");
    const dataDir = join(dir, "file", "data");
    for (const mode of ["sqlite", "csv"] as const) {
      await rejects(openSnapshotStore(mode, { dataDir }), (error: Error) => {
        ok(error instanceof SnapshotStoreError);
        ok(error.message.includes(`Cannot create DATA_DIR "${dataDir}"`), error.message);
        return true;
      });
    }
  }));

Deno.test("openSnapshotStore() refuses an unknown mode", async () => {
  // @ts-expect-error: a mode outside PersistenceMode, as untyped callers could pass
  await rejects(openSnapshotStore("postgres", { dataDir: "." }), /Unknown persistence mode "postgres"/);
});

Deno.test("openSnapshotStore() passes a foreign file's error through unchanged", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "rolling_store.csv"), "a,b\n1,2\n");
    await rejects(openSnapshotStore("csv", { dataDir: dir }), /its CSV header is "a,b"/);
    equal(await Deno.readTextFile(join(dir, "rolling_store.csv")), "a,b\n1,2\n");
  }));
