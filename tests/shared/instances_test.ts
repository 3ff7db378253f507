import { deepEqual, equal, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { createSharedInstances, isLockedError } from "../../src/shared/instances.ts";
import type { Lease, LeaseStatus } from "../../src/shared/lease.ts";
import { ingestCycle } from "../helpers.ts";

const T = Date.parse("2025-10-29T16:00:00Z");

/** A lease under the test's control: `set(true|false)` gains or loses it. */
function fakeLease(self: string) {
  let holding = false;
  const listeners = new Set<(h: boolean) => void>();
  const lease: Lease = {
    tryAcquire: () => Promise.resolve(holding),
    renew: () => Promise.resolve(holding),
    release: () => Promise.resolve(),
    isHolder: () => holding,
    status: (): LeaseStatus => ({
      key: ["lease", "ingest"],
      holder: holding ? self : "other",
      until: T + 15_000,
      acquiredAt: T,
      self,
      isHolder: holding,
      ttlMs: 15_000,
      takeovers: holding ? 1 : 0,
      renewFailures: 0,
    }),
    start() {},
    stop: () => Promise.resolve(),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    lease,
    set(next: boolean) {
      holding = next;
      for (const listener of listeners) listener(next);
    },
  };
}

const points = (signal: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ signal, ts: T + i * 1000, score: 50 + (i % 7) }));

/** A cycle that pulled from T on (its changed chunks), started after the points. */
const cycle = (ok = true) =>
  ingestCycle({
    ok,
    startedAt: new Date(T + 120_000).toISOString(),
    range: { from: new Date(T).toISOString(), to: new Date(T + 120_000).toISOString() },
  });

function instance(kv: Deno.Kv, id: string, extra: Partial<Parameters<typeof createSharedInstances>[0]> = {}) {
  const store = new PointStore();
  const lease = fakeLease(id);
  const shared = createSharedInstances({
    kv,
    store,
    holderId: id,
    leaseMs: 15_000,
    syncMs: 50,
    maxWindowSec: 86_400,
    overlapSec: 300,
    lease: lease.lease,
    ...extra,
  });
  return { store, lease, shared };
}

Deno.test("createSharedInstances(): only the holder writes a cycle's points; a follower loads them at start and reports the version", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const holder = instance(kv, "h");
    const follower = instance(kv, "f");
    holder.store.apply(points("alpha", 100));
    follower.store.apply(points("beta", 3)); // a follower writes nothing, even when it holds points
    equal(await follower.shared.afterCycle(cycle()), null);
    holder.lease.set(true);
    equal(await holder.shared.afterCycle(cycle(false)), null, "a failed cycle writes nothing");
    const written = await holder.shared.afterCycle(cycle());
    ok(written?.ok);
    equal(written.version, 1);
    await follower.shared.start();
    deepEqual(
      follower.store.points("alpha", -Infinity, Infinity),
      holder.store.points("alpha", -Infinity, Infinity),
    );
    const sync = follower.shared.syncStatus();
    equal(sync.version, 1);
    equal(sync.loadedPoints, 100);
    equal(sync.syncIntervalMs, 50);
    deepEqual(follower.shared.leaseStatus(), {
      self: "f",
      holder: "other",
      until: new Date(T + 15_000).toISOString(),
      isHolder: false,
      takeovers: 0,
      leaseSec: 15,
    });
    equal(holder.shared.syncStatus().version, 1, "the holder reports the version it wrote");
    await follower.shared.stop();
  } finally {
    kv.close();
  }
});

Deno.test("createSharedInstances(): a follower's store follows new versions (onApply); gaining and losing the lease reach onHolderChange", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const holder = instance(kv, "h");
    const changes: boolean[] = [];
    let applied = 0;
    const follower = instance(kv, "f", {
      onHolderChange: (h) => changes.push(h),
      onApply: () => applied++,
    });
    holder.lease.set(true);
    await follower.shared.start();
    holder.store.apply(points("alpha", 10));
    await holder.shared.afterCycle(cycle());
    const deadline = Date.now() + 5_000;
    while (follower.store.size < 10 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    equal(follower.store.size, 10, "the poll brought the new version");
    ok(applied >= 1);
    follower.lease.set(true);
    follower.lease.set(false);
    deepEqual(changes, [true, false]);
    await follower.shared.stop();
  } finally {
    kv.close();
  }
});

Deno.test("createSharedInstances(): a points write refused with 'database is locked' is retried with a short backoff", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    let failures = 2;
    // A KV whose first two commits throw as SQLite does when another process holds the file's write lock.
    const flaky = new Proxy(kv, {
      get(target, prop) {
        if (prop === "atomic") {
          return () => {
            const op = target.atomic();
            const commit = op.commit.bind(op);
            op.commit = () => failures-- > 0 ? Promise.reject(new TypeError("database is locked")) : commit();
            return op;
          };
        }
        const value = Reflect.get(target, prop);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const waits: number[] = [];
    const holder = instance(flaky, "h", { sleep: (ms) => (waits.push(ms), Promise.resolve()) });
    holder.lease.set(true);
    holder.store.apply(points("alpha", 5));
    const written = await holder.shared.afterCycle(cycle());
    ok(written?.ok);
    deepEqual(waits, [10, 20]);
    equal(isLockedError(new Error("database is locked")), true);
    equal(isLockedError(new Error("value too large")), false);
  } finally {
    kv.close();
  }
});

Deno.test("createSharedInstances(): the holder's coverage start travels with the version, so a follower warns as the holder does", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const holder = instance(kv, "h");
    const follower = instance(kv, "f");
    holder.lease.set(true);
    holder.store.apply(points("alpha", 10));
    const coverage = T - 60_000;
    ok((await holder.shared.afterCycle(cycle(), { coverageStartMs: coverage }))?.ok);
    equal(holder.shared.coverageStartMs(coverage), coverage, "the holder answers with its own");
    equal(follower.shared.coverageStartMs(null), null, "nothing applied yet");
    await follower.shared.start();
    equal(follower.shared.coverageStartMs(null), coverage, "a follower takes the holder's");
    equal(
      follower.shared.coverageStartMs(T),
      coverage,
      "even when its own poller ran once (not holding now)",
    );
    // An unbounded source has no coverage start: none is carried.
    holder.store.apply(points("alpha", 11));
    ok((await holder.shared.afterCycle(cycle(), { unbounded: true, coverageStartMs: coverage }))?.ok);
    await follower.shared.reader.sync();
    equal(follower.shared.coverageStartMs(null), null);
    // A follower that just took over (its poller has not run yet) keeps the last one carried to it.
    holder.store.apply(points("alpha", 12));
    ok((await holder.shared.afterCycle(cycle(), { coverageStartMs: coverage + 1_000 }))?.ok);
    await follower.shared.reader.sync();
    follower.lease.set(true);
    equal(follower.shared.coverageStartMs(null), coverage + 1_000);
    equal(follower.shared.coverageStartMs(coverage + 2_000), coverage + 2_000, "then its own");
    await follower.shared.stop();
  } finally {
    kv.close();
  }
});
