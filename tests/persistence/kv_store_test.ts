import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import {
  createKvStore,
  KV_ROWS_PREFIX,
  KV_SERIES_PREFIX,
  kvLocation,
  openKvStore,
} from "../../src/persistence/kv_store.ts";
import { SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import { BASE_MS, MINUTE_MS, row, spawnWriter, watchWriter, withTempDir } from "./rows.ts";

const ALL = { signal: "alpha", windowSec: 3600, limit: 10_000 };

async function withKv(fn: (kv: Deno.Kv) => Promise<void>): Promise<void> {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(kv);
  } finally {
    kv.close();
  }
}

Deno.test("kv store lays keys out as [snapshots, signal, windowSec, computedAtMs, seq] plus a series registry", () =>
  withKv(async (kv) => {
    const store = createKvStore(kv);
    await store.append([row(0), row(0, { n: 7 }), row(1, { signal: "*", window_sec: 60 })]);
    const keys = await Array.fromAsync(kv.list({ prefix: [KV_ROWS_PREFIX] }), (e) => e.key);
    equal(keys.length, 3);
    deepEqual(keys.map((k) => k.slice(0, 4)), [
      [KV_ROWS_PREFIX, "*", 60, BASE_MS + MINUTE_MS],
      [KV_ROWS_PREFIX, "alpha", 3600, BASE_MS],
      [KV_ROWS_PREFIX, "alpha", 3600, BASE_MS],
    ]);
    ok(keys.every((k) => k.length === 5 && typeof k[4] === "string"));
    ok(String(keys[1][4]) < String(keys[2][4]), "seq increases within a store");
    deepEqual(await Array.fromAsync(kv.list({ prefix: [KV_SERIES_PREFIX] }), (e) => e.key), [
      [KV_SERIES_PREFIX, "*", 60],
      [KV_SERIES_PREFIX, "alpha", 3600],
    ]);
    deepEqual((await kv.get(keys[1])).value, row(0)); // exactly the columns
    await store.close();
    ok((await kv.get(keys[1])).value !== null, "closing a store leaves a caller-owned handle open");
  }));

Deno.test("kv store does not overwrite rows with equal times written by two stores", () =>
  withKv(async (kv) => {
    const a = createKvStore(kv);
    const b = createKvStore(kv);
    await Promise.all([a.append([row(0, { n: 1 })]), b.append([row(0, { n: 2 })])]);
    const ns = (await a.history(ALL)).map((r) => r.n).sort();
    deepEqual(ns, [1, 2]);
  }));

Deno.test("kv store splits large appends into atomic batches and reads them back in order", () =>
  withKv(async (kv) => {
    const store = createKvStore(kv);
    const rows = Array.from({ length: 1_234 }, (_, i) => row(i, { signal: i % 2 === 0 ? "alpha" : "beta" }));
    await store.append(rows);
    deepEqual(await store.history(ALL), rows.filter((r) => r.signal === "alpha"));
    deepEqual(
      await store.history({ ...ALL, signal: "beta", limit: 3 }),
      rows.filter((r) => r.signal === "beta").slice(-3),
    );
    equal(await store.prune(BASE_MS + 1_000 * MINUTE_MS), 1_000);
    equal((await store.history(ALL)).length, 117);
  }));

Deno.test("kv store append rejects a value KV refuses, and the store stays usable", () =>
  withKv(async (kv) => {
    const store = createKvStore(kv, { location: "deno-kv:test" });
    await store.append([row(0)]);
    await rejects(store.append([row(1), row(2, { source: "x".repeat(70_000) })]), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes('Cannot append 2 snapshot rows to "deno-kv:test"'), error.message);
      ok(error.cause instanceof Error);
      return true;
    });
    deepEqual(await store.history(ALL), [row(0)]); // one atomic batch: none of it stored
    await store.append([row(3)]);
    deepEqual(await store.history(ALL), [row(0), row(3)]);
  }));

Deno.test("kv store skips values that are not valid rows", () =>
  withKv(async (kv) => {
    const store = createKvStore(kv);
    await store.append([row(0), row(2)]);
    await kv.set([KV_ROWS_PREFIX, "alpha", 3600, BASE_MS + MINUTE_MS, "x"], { computed_at: "garbage" });
    deepEqual(await store.history(ALL), [row(0), row(2)]);
    equal(store.skippedEntries, 1);
    deepEqual(await store.history({ ...ALL, limit: 2 }), [row(0), row(2)]);
  }));

Deno.test("kvLocation() names the KV without credentials", () => {
  equal(kvLocation(undefined), "deno-kv:default");
  equal(kvLocation("/data/kv.sqlite3"), "deno-kv:/data/kv.sqlite3");
  equal(kvLocation(":memory:"), "deno-kv::memory:");
  equal(kvLocation("https://user:secret@kv.example.com/v2?token=abc"), "deno-kv:https://kv.example.com/v2");
});

Deno.test("openKvStore() rejects a path it cannot open, naming it", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "file"), "");
    const path = join(dir, "file", "kv.sqlite3");
    await rejects(openKvStore(path), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(`deno-kv:${path}`), error.message);
      return true;
    });
  }));

Deno.test("kv store keeps every acknowledged batch when its writer is killed with SIGKILL", () =>
  withTempDir(async (dir) => {
    const { lastAcked, status } = await watchWriter(spawnWriter(["kv", dir, "loop"]), 30);
    equal(status.signal, "SIGKILL");
    const store = await openKvStore(join(dir, "rolling_store.kv"));
    try {
      const rows = await store.history(ALL);
      ok(
        rows.length === lastAcked + 1 || rows.length === lastAcked + 2,
        `${rows.length} rows, acked ${lastAcked}`,
      );
      deepEqual(rows, rows.map((_, i) => row(i)));
    } finally {
      await store.close();
    }
  }));

Deno.test("kv store history keeps Deno KV's failure as the cause of its SnapshotStoreError", async () => {
  const kv = await Deno.openKv(":memory:");
  const store = createKvStore(kv, { location: "deno-kv:test" });
  await store.append([row(0)]);
  kv.close(); // the store's own handle is gone: every read fails inside Deno KV
  await rejects(store.history(ALL), (error: Error) => {
    ok(error instanceof SnapshotStoreError);
    ok(error.message.startsWith('Cannot read snapshot history from "deno-kv:test": '), error.message);
    ok(error.cause instanceof Error && !(error.cause instanceof SnapshotStoreError), String(error.cause));
    return true;
  });
});

Deno.test("kv store append keeps a refused atomic commit, and its result, as the cause chain", () =>
  withKv(async (kv) => {
    // Deno KV refuses a commit only when a check fails; this store sets no checks, so a stand-in refuses it.
    const refusing = {
      atomic() {
        const operation = kv.atomic();
        return new Proxy(operation, {
          get(target, name) {
            if (name === "commit") return () => Promise.resolve({ ok: false });
            const value = Reflect.get(target, name, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      },
      list: kv.list.bind(kv),
      close() {},
    } as unknown as Deno.Kv;
    const store = createKvStore(refusing, { location: "deno-kv:test" });
    await rejects(store.append([row(0)]), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.cause instanceof Error);
      equal(error.cause.message, "Cannot commit snapshot rows: Deno KV refused the atomic operation");
      deepEqual(error.cause.cause, { ok: false });
      return true;
    });
  }));
