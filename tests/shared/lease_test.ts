import { deepEqual, equal, match, ok } from "node:assert/strict";
import fc from "fast-check";
import {
  createLease,
  instanceId,
  type Lease,
  LEASE_KEY,
  type LeaseRecord,
  resolveInstanceId,
} from "../../src/shared/lease.ts";
import { FakeClock, FakeTimers, FaultyKv, sharedKv } from "./lease_support.ts";

const TTL = 3_000;

interface Instance {
  id: string;
  lease: Lease;
  /** The handle itself, for the test's own reads. */
  raw: Deno.Kv;
  kv: FaultyKv;
  timers: FakeTimers;
  changes: boolean[];
}

/** Retry waits asked for by every lease of the test file (none is really waited). */
const sleeps: number[] = [];

function instances(kvs: Deno.Kv[], clock: FakeClock, ttlMs = TTL): Instance[] {
  return kvs.map((raw, i) => {
    const kv = new FaultyKv(raw);
    const timers = new FakeTimers(clock);
    const id = `host-${100 + i}-00000${i}`;
    const lease = createLease({
      kv,
      holderId: id,
      ttlMs,
      now: clock.now,
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    const changes: boolean[] = [];
    lease.onChange((holding) => changes.push(holding));
    return { id, lease, raw, kv, timers, changes };
  });
}

async function record(kv: Deno.Kv): Promise<LeaseRecord | null> {
  return (await kv.get<LeaseRecord>(LEASE_KEY)).value;
}

const holders = (all: Instance[]) => all.filter((i) => i.lease.isHolder()).map((i) => i.id);

Deno.test("instanceId() is hostname-pid-6 hex digits", () => {
  equal(instanceId({ hostname: "web-1", pid: 4242, random: () => 0.5 }), "web-1-4242-800000");
  match(instanceId({ hostname: "h", pid: 1 }), /^h-1-[0-9a-f]{6}$/);
});

Deno.test("resolveInstanceId() takes INSTANCE_ID when set, else hostname-pid-hex, 'instance' when the host name is unreadable", () => {
  equal(resolveInstanceId("edge-a"), "edge-a");
  equal(resolveInstanceId(undefined, { hostname: () => "box", pid: 7, random: () => 0 }), "box-7-000000");
  const denied = () => {
    throw new Deno.errors.NotCapable('Requires sys access to "hostname"');
  };
  equal(resolveInstanceId(undefined, { hostname: denied, pid: 7, random: () => 0 }), "instance-7-000000");
  match(resolveInstanceId(undefined), new RegExp(`-${Deno.pid}-[0-9a-f]{6}$`));
});

Deno.test("createLease(): of two leases on one KV the first takes it, the second is refused; status says who", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    equal(await a.lease.tryAcquire(), true);
    equal(await b.lease.tryAcquire(), false);
    deepEqual(holders([a, b]), [a.id]);
    deepEqual(a.lease.status(), {
      key: LEASE_KEY,
      holder: a.id,
      until: clock.t + TTL,
      acquiredAt: clock.t,
      self: a.id,
      isHolder: true,
      ttlMs: TTL,
      takeovers: 1,
      renewFailures: 0,
    });
    deepEqual(b.lease.status(), {
      key: LEASE_KEY,
      holder: a.id,
      until: clock.t + TTL,
      acquiredAt: clock.t,
      self: b.id,
      isHolder: false,
      ttlMs: TTL,
      takeovers: 0,
      renewFailures: 0,
    });
    deepEqual(await record(shared.kvs[0]), { holder: a.id, acquiredAt: clock.t, until: clock.t + TTL });
    deepEqual(a.changes, [true]);
    deepEqual(b.changes, []);
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): renew() extends until to now + ttl and keeps acquiredAt; a non-holder cannot renew", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    const t0 = clock.t;
    await a.lease.tryAcquire();
    clock.t += TTL / 2;
    equal(await a.lease.renew(), true);
    deepEqual(await record(shared.kvs[1]), { holder: a.id, acquiredAt: t0, until: clock.t + TTL });
    clock.t = t0 + TTL + 10; // past the first until: held thanks to the renewal
    equal(a.lease.isHolder(), true);
    equal(await b.lease.tryAcquire(), false);
    equal(await b.lease.renew(), false);
    equal(a.lease.status().takeovers, 1);
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): once until has passed another takes over; not a millisecond before", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    const t0 = clock.t;
    await a.lease.tryAcquire(); // then a dies: no renewals
    clock.t = t0 + TTL;
    equal(await b.lease.tryAcquire(), false, "until itself is still a's");
    clock.t = t0 + TTL + 1;
    equal(await b.lease.tryAcquire(), true);
    deepEqual(holders([a, b]), [b.id]);
    deepEqual(await record(shared.kvs[0]), { holder: b.id, acquiredAt: clock.t, until: clock.t + TTL });
    // a, back from the dead, is refused and learns it lost.
    equal(await a.lease.renew(), false);
    equal(await a.lease.tryAcquire(), false);
    deepEqual(a.changes, [true, false]);
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): release() hands the lease over at once", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    await a.lease.tryAcquire();
    await a.lease.release();
    equal(a.lease.isHolder(), false);
    equal(await record(shared.kvs[1]), null);
    equal(await b.lease.tryAcquire(), true, "same instant, no waiting for expiry");
    deepEqual(a.changes, [true, false]);
    // Releasing a lease we do not hold leaves the holder's key alone.
    await a.lease.release();
    equal((await record(shared.kvs[1]))?.holder, b.id);
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): stop() releases a held lease and ends the schedule", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    a.lease.start();
    await a.kv.settle();
    equal(a.lease.isHolder(), true);
    await a.lease.stop();
    equal(a.timers.pending, 0, "no timer left behind");
    equal(await record(shared.kvs[0]), null);
    equal(await b.lease.tryAcquire(), true);
  } finally {
    await shared.close();
  }
});

Deno.test('createLease(): a KV call that throws ("database is locked") is retried: reads afresh, then commits', async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    sleeps.length = 0;
    a.kv.failNext = 2;
    equal(await a.lease.tryAcquire(), true, "third attempt");
    deepEqual(sleeps, [10, 20], "waits 10 ms × attempt between attempts");
    b.kv.failNext = 5;
    equal(await b.lease.tryAcquire(), false, "five failures: gives up, not the holder");
    a.kv.failNext = 1;
    clock.t += 100;
    equal(await a.lease.renew(), true);
    equal(a.lease.status().renewFailures, 0);
    a.kv.failNext = 5;
    equal(await a.lease.renew(), false);
    equal(a.lease.status().renewFailures, 1);
    equal(a.lease.isHolder(), true, "one failed renewal is not yet a step-down");
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): stop({ release: false }) ends the schedule but keeps the lease until it expires", async () => {
  const shared = await sharedKv(2);
  try {
    const clock = new FakeClock();
    const [a, b] = instances(shared.kvs, clock);
    a.lease.start();
    await a.kv.settle();
    await a.lease.stop({ release: false });
    equal(a.lease.isHolder(), true);
    equal((await record(shared.kvs[1]))?.holder, a.id);
    equal(await b.lease.tryAcquire(), false);
    clock.t += TTL + 1;
    equal(await b.lease.tryAcquire(), true);
  } finally {
    await shared.close();
  }
});

/**
 * Drives instances on a shared fake clock in `stepMs` steps: each alive instance's due timers fire, then its KV
 * calls settle. After every step at most one instance may believe it holds the lease, and that one must be
 * the holder named in KV.
 */
async function drive(
  all: Instance[],
  clock: FakeClock,
  { untilMs, stepMs, alive, onStep }: {
    untilMs: number;
    stepMs: number;
    alive: (i: Instance) => boolean;
    onStep?: () => void | Promise<void>;
  },
): Promise<void> {
  while (clock.t < untilMs) {
    clock.t += stepMs;
    for (const instance of all) {
      if (!alive(instance)) continue;
      instance.timers.runDue();
      await instance.kv.settle();
    }
    const holding = holders(all);
    ok(holding.length <= 1, `two holders at ${clock.t}: ${holding}`);
    if (holding.length === 1) equal((await record(all[0].raw))?.holder, holding[0]);
    await onStep?.();
  }
}

Deno.test("createLease(): a holder whose renewals fail steps down ttl/3 before another can take over", async () => {
  const shared = await sharedKv(3);
  try {
    const clock = new FakeClock();
    const all = instances(shared.kvs, clock);
    const [a] = all;
    await a.lease.tryAcquire();
    for (const i of all) i.lease.start();
    await drive(all, clock, { untilMs: clock.t + 2 * TTL, stepMs: 50, alive: () => true });
    deepEqual(
      holders(all),
      [a.id],
      `a renews on its schedule and keeps it: ${JSON.stringify(all.map((i) => i.lease.status()))}`,
    );
    const lastRenewal = (await record(shared.kvs[0]))!.until - TTL;
    a.kv.failing = true; // a can no longer reach KV but runs on
    let aSteppedDown: number | null = null;
    let takenOver: number | null = null;
    await drive(all, clock, {
      untilMs: clock.t + 2 * TTL,
      stepMs: 50,
      alive: () => true,
      onStep: () => {
        if (aSteppedDown === null && !a.lease.isHolder()) aSteppedDown = clock.t;
        if (takenOver === null && holders(all).length === 1 && !a.lease.isHolder()) takenOver = clock.t;
      },
    });
    ok(aSteppedDown !== null && takenOver !== null);
    ok(aSteppedDown <= lastRenewal + (2 * TTL) / 3, `a stepped down at +${aSteppedDown - lastRenewal} ms`);
    ok(takenOver > lastRenewal + TTL, `taken over at +${takenOver - lastRenewal} ms, after a's until`);
    ok(takenOver - aSteppedDown >= TTL / 3 - 50, "a gap of ttl/3 between step-down and takeover");
    ok(a.lease.status().renewFailures >= 1);
    deepEqual(a.changes, [true, false]);
    for (const i of all) await i.lease.stop().catch(() => {});
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): when the holder dies another takes over within ttl of its last renewal", async () => {
  const shared = await sharedKv(3);
  try {
    const clock = new FakeClock();
    const all = instances(shared.kvs, clock);
    for (const i of all) i.lease.start();
    await drive(all, clock, { untilMs: clock.t + TTL, stepMs: 20, alive: () => true });
    const [holder] = holders(all);
    ok(holder, "one of three took the lease");
    const dead = all.find((i) => i.id === holder)!;
    const lastRenewal = (await record(shared.kvs[0]))!.until - TTL;
    const killedAt = clock.t;
    let takenOver: number | null = null;
    await drive(all, clock, {
      untilMs: clock.t + 2 * TTL,
      stepMs: 20,
      alive: (i) => i !== dead,
      onStep: () => {
        const live = all.filter((i) => i !== dead && i.lease.isHolder());
        if (takenOver === null && live.length === 1) takenOver = clock.t;
      },
    });
    ok(takenOver !== null);
    ok(
      takenOver - lastRenewal <= TTL + 20,
      `taken over ${takenOver - lastRenewal} ms after the last renewal`,
    );
    ok(takenOver - killedAt <= TTL + 20, `taken over ${takenOver - killedAt} ms after the kill`);
    for (const i of all) if (i !== dead) await i.lease.stop();
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): under random concurrent acquire/renew/release and clock steps there is never more than one holder (property)", async () => {
  const shared = await sharedKv(3);
  try {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("acquire" as const), who: fc.nat(2) }),
      fc.record({ kind: fc.constant("renew" as const), who: fc.nat(2) }),
      fc.record({ kind: fc.constant("release" as const), who: fc.nat(2) }),
      fc.record({ kind: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 2 * TTL }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(op, { minLength: 1, maxLength: 4 }), { maxLength: 12 }),
        async (batches) => {
          for (const kv of shared.kvs) await kv.delete(LEASE_KEY);
          const clock = new FakeClock();
          const all = instances(shared.kvs, clock);
          for (const batch of batches) {
            // A batch's operations run concurrently, racing on the key.
            await Promise.all(batch.map((o) => {
              if (o.kind === "tick") {
                clock.t += o.ms;
                return Promise.resolve();
              }
              const lease = all[o.who].lease;
              return o.kind === "acquire"
                ? lease.tryAcquire()
                : o.kind === "renew"
                ? lease.renew()
                : lease.release();
            }));
            const holding = holders(all);
            ok(holding.length <= 1, `two holders: ${holding}`);
            if (holding.length === 1) equal((await record(shared.kvs[0]))?.holder, holding[0]);
          }
        },
      ),
      { numRuns: 60 },
    );
  } finally {
    await shared.close();
  }
});

Deno.test("createLease(): three leases racing tryAcquire on three handles: exactly one wins every round", async () => {
  const shared = await sharedKv(3);
  try {
    const clock = new FakeClock();
    const all = instances(shared.kvs, clock);
    const winners = new Map<string, number>();
    for (let round = 0; round < 40; round++) {
      clock.t += TTL + 1; // whoever held it has expired
      const results = await Promise.all(all.map((i) => i.lease.tryAcquire()));
      equal(results.filter(Boolean).length, 1, `round ${round}: ${results}`);
      const [holder] = holders(all);
      equal((await record(shared.kvs[round % 3]))?.holder, holder);
      winners.set(holder, (winners.get(holder) ?? 0) + 1);
    }
    equal([...winners.values()].reduce((a, b) => a + b), 40);
  } finally {
    await shared.close();
  }
});
