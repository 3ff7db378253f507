import assert from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { toRfc3339 } from "../../src/core/report.ts";
import type { NormalizedPoint } from "../../src/ingest/normalize.ts";
import { UpstreamError } from "../../src/ingest/darshan_client.ts";
import { createPoller, type PollerOptions } from "../../src/ingest/poller.ts";
import { emptyStats, type PullResult, type PullStats, type Source } from "../../src/ingest/source.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { captureLogs } from "../helpers.ts";

const T0 = Date.parse("2025-10-29T17:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const MAX_WINDOW_SEC = 3600;
const OVERLAP_SEC = 300;
const INTERVAL_SEC = 30;

/** A promise with its resolve/reject exposed. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A controllable clock. */
function fakeClock(start = T0) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

interface PullCall {
  fromMs: number;
  toMs: number;
  requestId: string;
  signal?: AbortSignal;
}

type Reply = PullResult | Error | ((call: PullCall) => Promise<PullResult>);

/** A Source answering from a script of replies (the last reply repeats), recording every pull. */
function fakeSource(replies: Reply[], { unbounded = false } = {}) {
  const calls: PullCall[] = [];
  const source: Source = {
    kind: "darshan_api",
    location: "https://darshan.test",
    unbounded,
    async pull(fromMs, toMs, options) {
      const call = { fromMs, toMs, requestId: options.requestId, signal: options.signal };
      calls.push(call);
      const reply = replies.length > 1 ? replies.shift()! : replies[0];
      if (reply instanceof Error) throw reply;
      if (typeof reply === "function") return await reply(call);
      return reply;
    },
  };
  return { source, calls };
}

/** A fake setTimeout/clearTimeout pair: timers only fire when the test says so. */
function fakeTimers() {
  let nextId = 1;
  const pending = new Map<number, { fn: () => void; ms: number }>();
  const scheduled: number[] = [];
  const cleared: number[] = [];
  let waiter: ReturnType<typeof deferred<number>> | null = null;
  return {
    pending,
    scheduled,
    cleared,
    setTimeout: (fn: () => void, ms: number): unknown => {
      const id = nextId++;
      pending.set(id, { fn, ms });
      scheduled.push(ms);
      waiter?.resolve(id);
      waiter = null;
      return id;
    },
    clearTimeout: (id: never) => {
      cleared.push(id as number);
      pending.delete(id as number);
    },
    /** Resolves with the id of the next timer scheduled. */
    nextScheduled(): Promise<number> {
      waiter = deferred<number>();
      return waiter.promise;
    },
    fire(id: number) {
      const timer = pending.get(id);
      assert.ok(timer, `timer ${id} is not pending`);
      pending.delete(id);
      timer.fn();
    },
  };
}

function points(signal: string, fromMs: number, count: number, stepMs = MIN, score = 80): NormalizedPoint[] {
  return Array.from({ length: count }, (_, i) => ({ signal, ts: fromMs + i * stepMs, score }));
}

function ok(pts: NormalizedPoint[], stats: Partial<PullStats> = {}): PullResult {
  return { points: pts, stats: { ...emptyStats(), pages: 1, received: pts.length, ...stats } };
}

function poller(source: Source, extra: Partial<PollerOptions> = {}) {
  const clock = fakeClock();
  const store = new PointStore();
  let ids = 0;
  const p = createPoller({
    source,
    store,
    maxWindowSec: MAX_WINDOW_SEC,
    overlapSec: OVERLAP_SEC,
    intervalSec: INTERVAL_SEC,
    now: clock.now,
    newRequestId: () => `req-${++ids}`,
    setTimeout: () => {
      throw new Error("this test does not expect a schedule");
    },
    clearTimeout: () => {},
    ...extra,
  });
  return { poller: p, store, clock };
}

Deno.test("createPoller() backfills the largest window on its first cycle", async () => {
  const { source, calls } = fakeSource([ok(points("alpha", T0 - 10 * MIN, 11))]);
  const { poller: p } = poller(source);
  const cycle = await p.runCycle();
  assert.equal(calls.length, 1);
  assert.equal(calls[0].fromMs, T0 - MAX_WINDOW_SEC * 1000);
  assert.equal(calls[0].toMs, T0);
  assert.deepEqual(cycle.range, { from: toRfc3339(T0 - HOUR), to: toRfc3339(T0) });
  assert.equal(cycle.ok, true);
  assert.equal(cycle.error, null);
  assert.equal(cycle.startedAt, toRfc3339(T0));
});

Deno.test("createPoller() pulls from the newest held point minus the overlap on later cycles", async () => {
  const newest = T0 - 2 * MIN;
  const { source, calls } = fakeSource([ok(points("alpha", newest - 10 * MIN, 11)), ok([])]);
  const { poller: p, clock } = poller(source);
  await p.runCycle();
  clock.ms = T0 + INTERVAL_SEC * 1000;
  const second = await p.runCycle();
  assert.equal(calls[1].fromMs, newest - OVERLAP_SEC * 1000);
  assert.equal(calls[1].toMs, clock.ms);
  assert.deepEqual(second.range, { from: toRfc3339(newest - OVERLAP_SEC * 1000), to: toRfc3339(clock.ms) });
});

Deno.test("createPoller() backfills again when the first cycle failed", async () => {
  const { source, calls } = fakeSource([new Error("upstream down"), ok(points("alpha", T0 - 5 * MIN, 5))]);
  const { poller: p, clock } = poller(source);
  const first = await p.runCycle();
  assert.equal(first.ok, false);
  clock.ms = T0 + MIN;
  const second = await p.runCycle();
  assert.equal(second.ok, true);
  assert.equal(calls[1].fromMs, clock.ms - MAX_WINDOW_SEC * 1000);
  assert.equal(calls[1].toMs, clock.ms);
});

Deno.test("createPoller() keeps held points when a cycle fails and records ok=false with the error", async () => {
  const { source } = fakeSource([ok(points("alpha", T0 - 9 * MIN, 10)), new Error("HTTP 503 from upstream")]);
  const { poller: p, store, clock } = poller(source);
  await p.runCycle();
  const before = store.points("alpha", -Infinity, Infinity);
  assert.equal(before.length, 10);
  clock.ms = T0 + MIN;
  const failed = await p.runCycle();
  assert.equal(failed.ok, false);
  assert.equal(failed.error, "HTTP 503 from upstream");
  assert.equal(failed.inserted, 0);
  assert.equal(failed.evicted, 0);
  assert.deepEqual(store.points("alpha", -Infinity, Infinity), before);
  assert.equal(p.lastSuccessAtMs(), T0);
  assert.equal(p.coverageStartMs(), T0 - HOUR);
});

Deno.test("createPoller() records a non-Error rejection as its string", async () => {
  const { source } = fakeSource([() => Promise.reject("plain failure")]);
  const { poller: p } = poller(source);
  const cycle = await p.runCycle();
  assert.equal(cycle.ok, false);
  assert.equal(cycle.error, "plain failure");
});

Deno.test("createPoller() cycles() keeps the last keepCycles cycles, newest last", async () => {
  const { source } = fakeSource([ok([]), new Error("boom"), ok([]), ok([]), new Error("bang")]);
  const { poller: p, clock } = poller(source, { keepCycles: 3 });
  assert.deepEqual(p.cycles(), []);
  for (let i = 0; i < 5; i++) {
    await p.runCycle();
    clock.ms += MIN;
  }
  const kept = p.cycles();
  assert.deepEqual(kept.map((c) => c.requestId), ["req-3", "req-4", "req-5"]);
  assert.deepEqual(kept.map((c) => c.ok), [true, true, false]);
  assert.equal(kept[2].error, "bang");
  // A copy: callers cannot change the history.
  kept.pop();
  assert.equal(p.cycles().length, 3);
});

Deno.test("createPoller() copies provenance from the source stats and the store's apply result", async () => {
  const { source } = fakeSource([
    ok(points("alpha", T0 - 4 * MIN, 5, MIN, 70)),
    ok(
      [
        { signal: "alpha", ts: T0 - 2 * MIN, score: 70 }, // duplicate of a held point
        { signal: "alpha", ts: T0 - MIN, score: 71.5 }, // update of a held point
        { signal: "alpha", ts: T0 + MIN, score: 72 }, // new
        { signal: "beta", ts: T0 + MIN, score: 60 }, // new
        { signal: "beta", ts: T0 + MIN, score: 60 }, // in-batch duplicate
      ],
      {
        pages: 3,
        retries: 2,
        retryAfterWaitsMs: [1000, 2000],
        received: 8,
        rejected: { score_out_of_range: 2, missing_timestamp: 1 },
        upstreamLatencyMs: 123,
      },
    ),
  ]);
  const { poller: p, clock } = poller(source);
  const first = await p.runCycle();
  assert.equal(first.inserted, 5);
  assert.equal(first.accepted, 5);
  assert.equal(first.rejected, 0);
  clock.ms = T0 + 2 * MIN;
  const cycle = await p.runCycle();
  assert.equal(cycle.ok, true);
  assert.equal(cycle.pages, 3);
  assert.equal(cycle.retries, 2);
  assert.deepEqual(cycle.retryAfterWaitsMs, [1000, 2000]);
  assert.equal(cycle.upstreamLatencyMs, 123);
  assert.equal(cycle.received, 8);
  assert.equal(cycle.accepted, 5);
  assert.equal(cycle.inserted, 2);
  assert.equal(cycle.updated, 1);
  assert.equal(cycle.duplicates, 2);
  assert.equal(cycle.rejected, 3);
  assert.deepEqual(cycle.rejectedByReason, { score_out_of_range: 2, missing_timestamp: 1 });
  assert.equal(cycle.evicted, 0);
});

Deno.test("createPoller() never runs two cycles at once: a second runCycle() waits for the first", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const gates = [deferred(), deferred()];
  const started = [deferred(), deferred()];
  let call = 0;
  const { source, calls } = fakeSource([async () => {
    const i = call++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    started[i].resolve();
    await gates[i].promise;
    inFlight--;
    return ok(i === 0 ? points("alpha", T0 - 5 * MIN, 6) : []);
  }]);
  const { poller: p } = poller(source);
  const first = p.runCycle();
  const second = p.runCycle();
  await started[0].promise;
  // Let any eager second pull show itself before the first finishes.
  for (let i = 0; i < 20; i++) await Promise.resolve();
  assert.equal(calls.length, 1, "the second pull must not start while the first is in flight");
  gates[0].resolve();
  const firstCycle = await first;
  await started[1].promise;
  assert.equal(calls.length, 2);
  gates[1].resolve();
  const secondCycle = await second;
  assert.equal(maxInFlight, 1);
  assert.equal(firstCycle.requestId, "req-1");
  assert.equal(secondCycle.requestId, "req-2");
  // The second cycle saw the first one's data: it pulled incrementally.
  assert.equal(calls[1].fromMs, T0 - OVERLAP_SEC * 1000);
});

Deno.test("createPoller() serialises three concurrent runCycle() calls", async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const { source, calls } = fakeSource([async () => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    for (let i = 0; i < 5; i++) await Promise.resolve();
    inFlight--;
    return ok([]);
  }]);
  const { poller: p } = poller(source);
  const cycles = await Promise.all([p.runCycle(), p.runCycle(), p.runCycle()]);
  assert.equal(calls.length, 3);
  assert.equal(maxInFlight, 1);
  assert.deepEqual(cycles.map((c) => c.ok), [true, true, true]);
  assert.equal(new Set(cycles.map((c) => c.requestId)).size, 3);
});

Deno.test("createPoller() evicts points older than maxWindow + overlap and counts them", async () => {
  // One point a minute over the last 1 h 10 min before T0 (older ones are outside the backfill, but held anyway).
  const held = points("alpha", T0 - 70 * MIN, 71);
  const { source } = fakeSource([ok(held), ok([])]);
  const { poller: p, store, clock } = poller(source);
  const first = await p.runCycle();
  // Cutoff T0 − 65 min: the 5 points before it go at once.
  assert.equal(first.evicted, 5);
  assert.equal(store.signals()[0].oldestMs, T0 - 65 * MIN);
  clock.ms = T0 + 10 * MIN;
  const second = await p.runCycle();
  // Cutoff T0 − 55 min: points at −65..−56 min (10) go; −55 min stays (eviction is strictly older than).
  assert.equal(second.evicted, 10);
  assert.equal(store.signals()[0].oldestMs, T0 - 55 * MIN);
  assert.equal(store.size, 56);
});

Deno.test("createPoller() coverageStartMs() is null at first, the backfill start after it, and moves with eviction", async () => {
  const { source } = fakeSource([new Error("down"), ok(points("alpha", T0 - 5 * MIN, 6)), ok([]), ok([])]);
  const { poller: p, clock } = poller(source);
  assert.equal(p.coverageStartMs(), null);
  await p.runCycle();
  assert.equal(p.coverageStartMs(), null, "a failed first cycle covers nothing");
  await p.runCycle();
  assert.equal(p.coverageStartMs(), T0 - HOUR);
  // One minute later the retention cutoff (now − 65 min) is still before the backfill start.
  clock.ms = T0 + MIN;
  await p.runCycle();
  assert.equal(p.coverageStartMs(), T0 - HOUR);
  // Twenty minutes later the cutoff has passed it.
  clock.ms = T0 + 20 * MIN;
  await p.runCycle();
  assert.equal(p.coverageStartMs(), T0 + 20 * MIN - (MAX_WINDOW_SEC + OVERLAP_SEC) * 1000);
});

Deno.test("createPoller() with an unbounded source has no range, no eviction and null coverage", async () => {
  const old = points("alpha", T0 - 30 * 24 * HOUR, 10);
  const { source } = fakeSource([ok(old), ok([])], { unbounded: true });
  const { poller: p, store, clock } = poller(source);
  const first = await p.runCycle();
  assert.equal(first.ok, true);
  assert.equal(first.range, null);
  assert.equal(first.evicted, 0);
  clock.ms = T0 + 7 * 24 * HOUR;
  const second = await p.runCycle();
  assert.equal(second.evicted, 0);
  assert.equal(store.size, 10);
  assert.equal(p.coverageStartMs(), null);
  assert.equal(p.lastSuccessAtMs(), clock.ms);
});

Deno.test("createPoller() start() runs a cycle at once and schedules the next with the interval", async () => {
  const timers = fakeTimers();
  const { source, calls } = fakeSource([ok([])]);
  const { poller: p, clock } = poller(source, {
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
  });
  const firstTimer = timers.nextScheduled();
  p.start();
  const id1 = await firstTimer;
  assert.equal(calls.length, 1);
  assert.deepEqual(timers.scheduled, [INTERVAL_SEC * 1000]);
  // A second start() while running is a no-op.
  p.start();
  await Promise.resolve();
  assert.equal(calls.length, 1);
  clock.ms += INTERVAL_SEC * 1000;
  const secondTimer = timers.nextScheduled();
  timers.fire(id1);
  const id2 = await secondTimer;
  assert.equal(calls.length, 2);
  assert.equal(calls[1].toMs, T0 + INTERVAL_SEC * 1000);
  assert.deepEqual(timers.scheduled, [INTERVAL_SEC * 1000, INTERVAL_SEC * 1000]);
  await p.stop();
  assert.deepEqual(timers.cleared, [id2]);
  assert.equal(timers.pending.size, 0);
  assert.equal(p.cycles().length, 2);
});

Deno.test("createPoller() stop() aborts an in-flight pull, waits for it and schedules nothing more", async () => {
  const timers = fakeTimers();
  const pulling = deferred<AbortSignal>();
  let finished = false;
  const { source } = fakeSource([(call) => {
    pulling.resolve(call.signal!);
    return new Promise<PullResult>((_, reject) => {
      call.signal!.addEventListener("abort", () => {
        // The pull winds down asynchronously after the abort.
        queueMicrotask(() => {
          finished = true;
          reject(call.signal!.reason);
        });
      });
    });
  }]);
  const { poller: p } = poller(source, { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout });
  p.start();
  const signal = await pulling.promise;
  assert.equal(signal.aborted, false);
  await p.stop();
  assert.equal(signal.aborted, true);
  assert.equal(finished, true, "stop() resolves only after the pull has finished");
  const [cycle] = p.cycles();
  assert.equal(cycle.ok, false);
  assert.equal(cycle.error, "ingest stopped");
  assert.deepEqual(timers.scheduled, [], "no cycle is scheduled after stop()");
});

Deno.test("createPoller() stop() before start() resolves and does nothing", async () => {
  const timers = fakeTimers();
  const { source, calls } = fakeSource([ok([])]);
  const { poller: p } = poller(source, { setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout });
  await p.stop();
  assert.equal(calls.length, 0);
  assert.deepEqual(timers.cleared, []);
});

Deno.test("createPoller() logs onCycle errors without breaking the poller", async () => {
  const seen: IngestCycle[] = [];
  let mode: "throw" | "reject" | "fine" = "throw";
  const timers = fakeTimers();
  const { source, calls } = fakeSource([ok(points("alpha", T0 - MIN, 2))]);
  const { poller: p } = poller(source, {
    setTimeout: timers.setTimeout,
    clearTimeout: timers.clearTimeout,
    onCycle: (cycle) => {
      seen.push(cycle);
      if (mode === "throw") throw new Error("snapshot disk full");
      if (mode === "reject") return Promise.reject(new Error("snapshot write failed"));
    },
  });
  const first = await p.runCycle();
  assert.equal(first.ok, true);
  mode = "reject";
  const second = await p.runCycle();
  assert.equal(second.ok, true);
  assert.deepEqual(seen.map((c) => c.requestId), ["req-1", "req-2"]);
  assert.strictEqual(seen[1], second);
  // The scheduled loop carries on past a failing hook too.
  mode = "throw";
  const scheduled = timers.nextScheduled();
  p.start();
  const id = await scheduled;
  assert.equal(calls.length, 3);
  const again = timers.nextScheduled();
  timers.fire(id);
  await again;
  assert.equal(calls.length, 4);
  await p.stop();
  assert.equal(p.cycles().every((c) => c.ok), true);
});

Deno.test("createPoller() gives each cycle its own request id and passes it to pull", async () => {
  const { source, calls } = fakeSource([ok([]), new Error("x"), ok([])]);
  const { poller: p } = poller(source);
  const cycles = [await p.runCycle(), await p.runCycle(), await p.runCycle()];
  assert.deepEqual(cycles.map((c) => c.requestId), ["req-1", "req-2", "req-3"]);
  assert.deepEqual(calls.map((c) => c.requestId), ["req-1", "req-2", "req-3"]);
  assert.ok(calls.every((c) => c.signal instanceof AbortSignal));
});

Deno.test("createPoller() uses a fresh ingest-<uuid> request id by default", async () => {
  const { source, calls } = fakeSource([ok([])]);
  const p = createPoller({
    source,
    store: new PointStore(),
    maxWindowSec: MAX_WINDOW_SEC,
    overlapSec: OVERLAP_SEC,
    intervalSec: INTERVAL_SEC,
    now: () => T0,
  });
  await p.runCycle();
  await p.runCycle();
  assert.match(calls[0].requestId, /^ingest-[0-9a-f-]{36}$/);
  assert.notEqual(calls[0].requestId, calls[1].requestId);
});

Deno.test("createPoller() records duration and finish time from the injected clock", async () => {
  const clock = fakeClock();
  const { source } = fakeSource([() => {
    clock.ms += 1500;
    return Promise.resolve(ok([]));
  }]);
  const { poller: p } = poller(source, { now: clock.now });
  const cycle = await p.runCycle();
  assert.equal(cycle.startedAt, toRfc3339(T0));
  assert.equal(cycle.finishedAt, toRfc3339(T0 + 1500));
  assert.equal(cycle.durationMs, 1500);
  assert.equal(p.lastSuccessAtMs(), T0);
});

Deno.test("createPoller() logs each cycle's whole provenance as one line", async () => {
  const store = new PointStore();
  const source = {
    kind: "mock_file" as const,
    location: "test",
    pull: () =>
      Promise.resolve({
        points: [{ signal: "a", ts: 1_000, score: 50 }],
        stats: {
          pages: 2,
          retries: 1,
          retryAfterWaitsMs: [1500],
          received: 2,
          rejected: { missing_score: 1 },
          upstreamLatencyMs: 12,
          loopGuardStops: 1,
          outOfWindow: 3,
        },
      }),
  };
  const poller = createPoller({
    source,
    store,
    maxWindowSec: 3600,
    overlapSec: 60,
    intervalSec: 60,
    now: () => 2_000,
  });
  const { records } = await captureLogs(() => poller.runCycle());
  const lines = records.filter((r) => r.category.join(".") === "coherence.ingest");
  assert.equal(lines.length, 1);
  const p = lines[0].properties;
  for (
    const key of [
      "pages",
      "retries",
      "retryAfterWaitsMs",
      "received",
      "accepted",
      "inserted",
      "updated",
      "duplicates",
      "rejected",
      "rejectedByReason",
      "durationMs",
      "upstreamLatencyMs",
      "outOfWindow",
      "loopGuardStops",
      "error",
      "requestId",
    ]
  ) {
    assert.ok(key in p, key);
  }
  assert.deepEqual(p.retryAfterWaitsMs, [1500]);
  assert.deepEqual(p.rejectedByReason, { missing_score: 1 });
  assert.equal(p.outOfWindow, 3);
  assert.equal(p.loopGuardStops, 1);
});

Deno.test("createPoller() reports what a failed pull did (pages, retries, waits, latency, out-of-window) in the cycle and its log line", async () => {
  const store = new PointStore();
  const stats: PullStats = {
    ...emptyStats(),
    pages: 2,
    retries: 5,
    retryAfterWaitsMs: [1000, 2000],
    received: 7,
    rejected: { missing_score: 1 },
    upstreamLatencyMs: 340,
    outOfWindow: 2,
  };
  const failure = new UpstreamError("Darshan upstream failed after 4 attempts: 503 from /signals/summary", {
    status: 503,
    path: "/signals/summary",
    attempts: 4,
    stats,
  });
  const source: Source = { kind: "darshan_api", location: "test", pull: () => Promise.reject(failure) };
  const poller = createPoller({
    source,
    store,
    maxWindowSec: 3600,
    overlapSec: 60,
    intervalSec: 60,
    now: () => 2_000,
  });
  const { result: cycle, records } = await captureLogs(() => poller.runCycle());
  assert.equal(cycle.ok, false);
  assert.equal(cycle.pages, 2);
  assert.equal(cycle.retries, 5);
  assert.deepEqual(cycle.retryAfterWaitsMs, [1000, 2000]);
  assert.equal(cycle.upstreamLatencyMs, 340);
  assert.equal(cycle.received, 7);
  assert.equal(cycle.rejected, 1);
  assert.equal(cycle.outOfWindow, 2);
  assert.equal(cycle.accepted, 0);
  const line = records.find((r) => r.category.join(".") === "coherence.ingest");
  assert.ok(line);
  assert.equal(line.properties.retries, 5);
  assert.equal(line.properties.pages, 2);
  assert.equal(line.properties.outOfWindow, 2);
  assert.deepEqual(line.properties.retryAfterWaitsMs, [1000, 2000]);
});

Deno.test("createPoller() reports an error without stats as a cycle that did nothing upstream", async () => {
  const source: Source = {
    kind: "darshan_api",
    location: "test",
    pull: () => Promise.reject(new Error("boom")),
  };
  const poller = createPoller({
    source,
    store: new PointStore(),
    maxWindowSec: 3600,
    overlapSec: 60,
    intervalSec: 60,
    now: () => 2_000,
  });
  const cycle = await poller.runCycle();
  assert.equal(cycle.error, "boom");
  assert.equal(cycle.retries, 0);
  assert.equal(cycle.pages, 0);
});

Deno.test("createPoller() rejects records of new signals beyond maxSignals as signal_limit; held ones keep updating", async () => {
  const { source } = fakeSource([
    ok([
      ...points("a", T0 - 10 * MIN, 2),
      ...points("b", T0 - 10 * MIN, 2),
      ...points("c", T0 - 10 * MIN, 3),
    ]),
    ok([...points("d", T0 - 5 * MIN, 4), ...points("a", T0 - 2 * MIN, 2, MIN, 60)], {
      rejected: { invalid_score: 1 },
    }),
  ]);
  const { poller: p, store } = poller(source, { maxSignals: 2 });
  const first = await p.runCycle();
  assert.equal(first.ok, true);
  assert.deepEqual(store.signals().map((s) => s.signal), ["a", "b"]);
  assert.equal(first.accepted, 4);
  assert.equal(first.rejected, 3);
  assert.deepEqual(first.rejectedByReason, { signal_limit: 3 });
  const second = await p.runCycle();
  assert.deepEqual(store.signals().map((s) => s.signal), ["a", "b"]);
  assert.equal(second.inserted, 2, "the held signal a still takes new points");
  assert.equal(second.rejected, 5);
  assert.deepEqual(second.rejectedByReason, { invalid_score: 1, signal_limit: 4 });
});

Deno.test("createPoller() prepares a large cycle in slices, readers seeing the held state until it is applied", async () => {
  const many = Array.from({ length: 1200 }, (_, i) => ({ signal: `s${i}`, ts: T0 - 10 * MIN, score: 70 }));
  const { source } = fakeSource([ok(points("held", T0 - 20 * MIN, 3)), ok(many)]);
  const seen: { size: number; signals: number }[] = [];
  const { poller: p, store } = poller(source, {
    sliceMs: 0,
    pause: () => {
      seen.push({ size: store.size, signals: store.signalCount });
      return Promise.resolve();
    },
  });
  await p.runCycle();
  seen.length = 0;
  const cycle = await p.runCycle();
  // 1,200 points grouped (1 each), 1,200 groups (1 each) and 1,200 signals built (10 each) in slices of
  // 2,500: five pauses, all before any of the cycle's points is visible.
  assert.deepEqual(seen, Array.from({ length: 5 }, () => ({ size: 3, signals: 1 })));
  assert.equal(cycle.inserted, 1200);
  assert.equal(store.signalCount, 1201);
});

Deno.test("createPoller() stop() during a cycle's preparation applies none of it", async () => {
  const many = Array.from({ length: 1200 }, (_, i) => ({ signal: `s${i}`, ts: T0 - 10 * MIN, score: 70 }));
  const { source } = fakeSource([ok(many)]);
  let stopping: Promise<void> | null = null;
  const { poller: p, store } = poller(source, {
    sliceMs: 0,
    pause: () => {
      stopping ??= p.stop();
      return Promise.resolve();
    },
  });
  const cycle = await p.runCycle();
  await stopping;
  assert.equal(cycle.ok, false);
  assert.match(cycle.error ?? "", /ingest stopped/);
  assert.equal(store.size, 0);
});
