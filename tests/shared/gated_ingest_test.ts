import { deepEqual, equal, rejects } from "node:assert/strict";
import { createGatedIngest, leaseGatedSource, NotLeaseHolderError } from "../../src/shared/gated_ingest.ts";
import type { Lease, LeaseStatus } from "../../src/shared/lease.ts";
import { emptyStats, type Source } from "../../src/ingest/source.ts";
import type { IngestCycle } from "../../src/schemas.ts";

/** A lease under the test's control: `set(true|false)` gains or loses it; `acquirable` is what tryAcquire finds. */
function fakeLease() {
  let holding = false;
  const calls: string[] = [];
  const listeners = new Set<(h: boolean) => void>();
  const control = {
    calls,
    acquirable: false,
    set(next: boolean) {
      holding = next;
      for (const listener of listeners) listener(next);
    },
  };
  const lease: Lease = {
    tryAcquire() {
      calls.push("tryAcquire");
      if (control.acquirable) holding = true;
      return Promise.resolve(holding);
    },
    renew() {
      calls.push("renew");
      return Promise.resolve(holding);
    },
    release() {
      calls.push("release");
      holding = false;
      return Promise.resolve();
    },
    isHolder: () => holding,
    status: (): LeaseStatus => ({
      key: ["lease", "ingest"],
      holder: holding ? "me" : "other-1-abcdef",
      until: null,
      acquiredAt: null,
      self: "me",
      isHolder: holding,
      ttlMs: 3000,
      takeovers: 0,
      renewFailures: 0,
    }),
    start() {
      calls.push("start");
    },
    stop({ release = true } = {}) {
      calls.push(release ? "stop" : "stop(keep)");
      if (release) holding = false;
      return Promise.resolve();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { lease, control };
}

function fakePoller() {
  const calls: string[] = [];
  return {
    calls,
    poller: {
      start() {
        calls.push("poller.start");
      },
      async stop() {
        calls.push("poller.stop");
        await Promise.resolve();
        calls.push("poller.stopped");
      },
      runCycle() {
        calls.push("poller.runCycle");
        return Promise.resolve({ ok: true } as IngestCycle);
      },
    },
  };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("createGatedIngest(): the poller runs only while the lease is held, stopping on loss and restarting on regain", async () => {
  const { lease, control } = fakeLease();
  const { poller, calls } = fakePoller();
  const gated = createGatedIngest({ lease, poller });
  gated.start();
  await flush();
  deepEqual(control.calls, ["start"], "the lease schedule runs");
  deepEqual(calls, [], "no cycle while another holds the lease");
  control.set(true);
  await flush();
  deepEqual(calls, ["poller.start"]);
  control.set(false);
  await flush();
  deepEqual(calls, ["poller.start", "poller.stop", "poller.stopped"]);
  control.set(true);
  await flush();
  deepEqual(calls, ["poller.start", "poller.stop", "poller.stopped", "poller.start"]);
  await gated.stop();
  deepEqual(calls.slice(4), ["poller.stop", "poller.stopped"]);
  deepEqual(control.calls, ["start", "stop"], "the poller stops before the lease is released");
  control.set(true);
  await flush();
  equal(calls.length, 6, "after stop() lease changes start nothing");
});

Deno.test("createGatedIngest(): start() on an instance that already holds the lease starts the poller at once", async () => {
  const { lease, control } = fakeLease();
  const { poller, calls } = fakePoller();
  control.set(true);
  const gated = createGatedIngest({ lease, poller });
  gated.start();
  await flush();
  deepEqual(calls, ["poller.start"]);
  await gated.stop();
});

Deno.test("createGatedIngest(): runCycle() (a cron tick) runs a cycle only when the lease is held or can be taken, renewing it during the cycle and keeping it after", async () => {
  const { lease, control } = fakeLease();
  const { poller, calls } = fakePoller();
  const gated = createGatedIngest({ lease, poller });
  equal(await gated.runCycle(), null);
  deepEqual(control.calls, ["tryAcquire"]);
  deepEqual(calls, []);
  control.acquirable = true;
  deepEqual(await gated.runCycle(), { ok: true });
  deepEqual(await gated.runCycle(), { ok: true });
  deepEqual(control.calls, [
    "tryAcquire",
    "tryAcquire",
    "start",
    "stop(keep)",
    "renew",
    "start",
    "stop(keep)",
  ], "the holder renews on each tick and on the lease's timer while the cycle runs; it keeps the lease");
  equal(lease.isHolder(), true);
  deepEqual(calls, ["poller.runCycle", "poller.runCycle"]);
});

function countingSource() {
  const pulls: number[] = [];
  const source: Source = {
    kind: "darshan_api",
    location: "http://upstream.test",
    pull(fromMs) {
      pulls.push(fromMs);
      return Promise.resolve({ points: [], stats: emptyStats() });
    },
  };
  return { source, pulls };
}

Deno.test("leaseGatedSource(): a non-holder's pull is refused without reaching upstream, naming the holder", async () => {
  const { lease } = fakeLease();
  const { source, pulls } = countingSource();
  const gated = leaseGatedSource(source, lease);
  await rejects(gated.pull(0, 1, { requestId: "r" }), (error: Error) => {
    equal(error instanceof NotLeaseHolderError, true);
    equal(
      error.message,
      "Cannot pull from upstream: me does not hold the ingest lease (holder: other-1-abcdef)",
    );
    return true;
  });
  deepEqual(pulls, []);
});

Deno.test("leaseGatedSource(): the holder renews the lease before each pull and then pulls; kind and location pass through", async () => {
  const { lease, control } = fakeLease();
  const { source, pulls } = countingSource();
  const gated = leaseGatedSource(source, lease);
  control.set(true);
  await gated.pull(5, 10, { requestId: "r" });
  await gated.pull(6, 11, { requestId: "r" });
  deepEqual(pulls, [5, 6]);
  deepEqual(control.calls, ["renew", "renew"]);
  equal(gated.kind, "darshan_api");
  equal(gated.location, "http://upstream.test");
  equal(gated.unbounded, undefined);
});

Deno.test("leaseGatedSource(): a holder whose renewal shows the lease lost does not pull", async () => {
  const { lease, control } = fakeLease();
  const { source, pulls } = countingSource();
  control.set(true);
  const losing: Lease = {
    ...lease,
    renew() {
      control.set(false);
      return Promise.resolve(false);
    },
  };
  await rejects(leaseGatedSource(source, losing).pull(0, 1, { requestId: "r" }), NotLeaseHolderError);
  deepEqual(pulls, []);
});
