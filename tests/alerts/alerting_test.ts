import { deepEqual, equal, ok } from "node:assert/strict";
import { createAlerting } from "../../src/alerts/alerting.ts";
import { type AlertSettings, replay, type Transition } from "../../src/core/alerts.ts";
import { toRfc3339 } from "../../src/core/report.ts";
import { DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";
import { createMemoryTransitionLog } from "../../src/persistence/memory_transitions.ts";
import type { SnapshotRow } from "../../src/persistence/snapshot.ts";
import type { TransitionLog } from "../../src/persistence/transitions.ts";
import { captureLogs } from "../helpers.ts";

const SETTINGS: AlertSettings = { forMs: 120_000, recoveryMargin: 1, thresholds: DEFAULT_THRESHOLDS };
const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** A snapshot row of `signal` over `windowSec` at minute `i`, with mean `mean` and a small spread. */
function row(i: number, signal: string, mean: number | null, windowSec = 3600): SnapshotRow {
  const at = toRfc3339(T0 + i * MINUTE);
  return {
    computed_at: at,
    signal,
    window_sec: windowSec,
    start_ts: toRfc3339(T0 + i * MINUTE - windowSec * 1000),
    end_ts: at,
    n: mean === null ? 0 : 50,
    mean,
    stdev: mean === null ? null : 1,
    volatility_index: mean === null ? null : 1 / mean,
    risk: "low",
    source: "mock_file",
    engine_version: "0.1.0",
  };
}

/** A cycle's rows: each signal's mean, at minute i, for both windows. */
function cycle(i: number, means: Record<string, number | null>, windows = [3600, 86400]): SnapshotRow[] {
  return windows.flatMap((w) => Object.entries(means).map(([s, m]) => row(i, s, m, w)));
}

const noPause = () => Promise.resolve();

Deno.test("createAlerting() evaluates one key per row and appends each cycle's transitions, then wakes delivery", async () => {
  const log = createMemoryTransitionLog();
  const woken: Transition[][] = [];
  const alerting = createAlerting({
    log,
    settings: SETTINGS,
    windows: [3600, 86400],
    onTransitions: (t) => woken.push([...t]),
    pause: noPause,
  });
  await alerting.restore();
  for (let i = 0; i <= 2; i++) await alerting.evaluate(cycle(i, { a: 90, b: 90, "*": 90 }));
  equal(alerting.states().length, 6);
  equal((await log.list({ limit: 100 })).length, 6);
  deepEqual(woken.map((w) => w.length), [6]);
  ok(woken[0].every((t) => t.from === "unknown" && t.to === "low" && t.at === toRfc3339(T0 + 2 * MINUTE)));
  equal(alerting.status().transitionsWritten, 6);
  equal(alerting.status().transitionsByLevel.low, 6);
  equal(alerting.status().lastEvaluation?.keys, 6);
});

Deno.test("createAlerting() gives the same transitions as replaying the state machine over the rows", async () => {
  const log = createMemoryTransitionLog();
  const alerting = createAlerting({ log, settings: SETTINGS, windows: [3600], pause: noPause });
  await alerting.restore();
  const means = [90, 90, 90, 70, 70, 55, 55, 55, 61.5, 61.5, 61.5, 61.5];
  for (let i = 0; i < means.length; i++) await alerting.evaluate([row(i, "a", means[i])]);
  const expected = replay(
    { signal: "a", windowSec: 3600 },
    means.map((m, i) => ({
      signal: "a",
      windowSec: 3600,
      atMs: T0 + i * MINUTE,
      summary: { n: 50, mean: m, stdev: 1, volatilityIndex: 1 / m },
    })),
    SETTINGS,
  );
  deepEqual(await log.list({ limit: 100 }), expected.transitions);
  deepEqual(alerting.states()[0], expected.state);
});

Deno.test("createAlerting() shows pending keys with since-when, and active keys", async () => {
  const alerting = createAlerting({
    log: createMemoryTransitionLog(),
    settings: SETTINGS,
    windows: [3600],
    pause: noPause,
  });
  await alerting.restore();
  for (let i = 0; i <= 2; i++) await alerting.evaluate(cycle(i, { a: 55, b: 90 }, [3600]));
  await alerting.evaluate(cycle(3, { a: 55, b: 70 }, [3600]));
  const b = alerting.states().find((s) => s.signal === "b")!;
  deepEqual(b.pending, { level: "medium", sinceMs: T0 + 3 * MINUTE });
  equal(b.level, "low");
  deepEqual(alerting.active().map((s) => [s.signal, s.level]), [["a", "high"]]);
  const status = alerting.status();
  equal(status.active, 1);
  equal(status.pending, 1);
  deepEqual(status.levels, { low: 1, medium: 0, high: 1, unknown: 0 });
  deepEqual(status.settings, { forSec: 120, recoveryMargin: 1 });
});

Deno.test("createAlerting() ignores rows of windows that are not configured", async () => {
  const alerting = createAlerting({
    log: createMemoryTransitionLog(),
    settings: SETTINGS,
    windows: [3600],
    pause: noPause,
  });
  await alerting.restore();
  await alerting.evaluate(cycle(0, { a: 90 }));
  deepEqual(alerting.states().map((s) => s.windowSec), [3600]);
});

Deno.test("createAlerting() restores each key's level from the log's last transition, and fires nothing again", async () => {
  const log = createMemoryTransitionLog();
  const first = createAlerting({ log, settings: SETTINGS, windows: [3600], pause: noPause });
  await first.restore();
  for (let i = 0; i <= 2; i++) await first.evaluate([row(i, "a", 55)]);
  equal((await log.list({ limit: 10 })).length, 1);

  const second = createAlerting({ log, settings: SETTINGS, windows: [3600], pause: noPause });
  await second.restore();
  const [restored] = second.states();
  equal(restored.level, "high");
  equal(restored.sinceMs, T0 + 2 * MINUTE);
  equal(second.status().restored, 1);
  for (let i = 3; i <= 6; i++) await second.evaluate([row(i, "a", 55)]);
  equal((await log.list({ limit: 10 })).length, 1, "the same change is not logged twice");
  equal(second.status().transitionsWritten, 0);
});

Deno.test("createAlerting() restores lazily before its first evaluation when restore() was not called", async () => {
  const log = createMemoryTransitionLog();
  const first = createAlerting({ log, settings: { ...SETTINGS, forMs: 0 }, windows: [3600], pause: noPause });
  await first.evaluate([row(0, "a", 55)]);
  const second = createAlerting({
    log,
    settings: { ...SETTINGS, forMs: 0 },
    windows: [3600],
    pause: noPause,
  });
  await second.evaluate([row(1, "a", 55)]);
  equal((await log.list({ limit: 10 })).length, 1);
  equal(second.status().ready, true);
});

/** A log whose appends fail while `failing` is true. */
function flakyLog(): TransitionLog & { failing: boolean } {
  const inner = createMemoryTransitionLog();
  const flaky = {
    ...inner,
    failing: true,
    append(transitions: readonly Transition[]) {
      return flaky.failing ? Promise.reject(new Error("disk I/O error")) : inner.append(transitions);
    },
  };
  return flaky;
}

Deno.test("createAlerting() keeps a state behind a transition that could not be written, and writes it next cycle", async () => {
  const log = flakyLog();
  const woken: number[] = [];
  const alerting = createAlerting({
    log,
    settings: SETTINGS,
    windows: [3600],
    onTransitions: (t) => woken.push(t.length),
    pause: noPause,
  });
  await alerting.restore();
  for (let i = 0; i <= 2; i++) await alerting.evaluate([row(i, "a", 55)]);
  const [held] = alerting.states();
  equal(held.level, "unknown", "the state does not move past the unwritten transition");
  deepEqual(held.pending, { level: "high", sinceMs: T0 });
  ok(held.why.includes("could not be written"));
  const status = alerting.status();
  equal(status.appendFailures, 1);
  equal(status.lastEvaluation?.ok, false);
  equal(status.lastEvaluation?.error, "disk I/O error");
  deepEqual(woken, []);

  log.failing = false;
  await alerting.evaluate([row(3, "a", 55)]);
  const written = await log.list({ limit: 10 });
  deepEqual(written.map((t) => [t.from, t.to, t.pendingSince, t.at]), [
    ["unknown", "high", toRfc3339(T0), toRfc3339(T0 + 3 * MINUTE)],
  ]);
  equal(alerting.states()[0].level, "high");
  deepEqual(woken, [1]);
  equal(alerting.status().lastEvaluation?.ok, true);
});

Deno.test("createAlerting() never rejects: a failing hook and a failing restore are logged and shown", async () => {
  const broken: TransitionLog = {
    ...createMemoryTransitionLog(),
    latest: () => Promise.reject(new Error("no such table")),
  };
  const alerting = createAlerting({
    log: broken,
    settings: SETTINGS,
    windows: [3600],
    onTransitions: () => {
      throw new Error("hook");
    },
    pause: noPause,
  });
  await alerting.evaluate([row(0, "a", 55)]);
  equal(alerting.status().ready, false);
  equal(alerting.status().lastEvaluation?.ok, false);
  ok(alerting.status().lastEvaluation?.error?.includes("no such table"));
  equal(alerting.states().length, 0, "nothing is evaluated without the restored states");

  const hooked = createAlerting({
    log: createMemoryTransitionLog(),
    settings: { ...SETTINGS, forMs: 0 },
    windows: [3600],
    onTransitions: () => {
      throw new Error("hook");
    },
    pause: noPause,
  });
  await hooked.evaluate([row(0, "a", 55)]);
  equal(hooked.status().transitionsWritten, 1);
});

Deno.test("createAlerting() holds at most maxKeys keys and counts the rows it refused", async () => {
  const alerting = createAlerting({
    log: createMemoryTransitionLog(),
    settings: SETTINGS,
    windows: [3600],
    maxKeys: 2,
    pause: noPause,
  });
  await alerting.evaluate(cycle(0, { a: 90, b: 90, c: 90 }, [3600]));
  equal(alerting.states().length, 2);
  equal(alerting.status().keysRefused, 1);
});

Deno.test("createAlerting() evaluates 10,000 signals × 2 windows in slices and appends in batches, pausing between them", async () => {
  let pauses = 0;
  let clock = 0;
  const alerting = createAlerting({
    log: createMemoryTransitionLog(),
    settings: { ...SETTINGS, forMs: 0 },
    windows: [3600, 86400],
    sliceRows: 500,
    sliceMs: 0,
    pause: () => {
      pauses++;
      clock++;
      return Promise.resolve();
    },
  });
  const means: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) means[`s${i}`] = 90;
  await alerting.evaluate(cycle(0, means));
  equal(alerting.states().length, 20_000);
  equal(alerting.status().transitionsWritten, 20_000);
  // Between slices of 500 rows, then between appends of 200 transitions.
  equal(pauses, (20_000 / 500 - 1) + (20_000 / 200 - 1));
  ok(clock > 0);
});

Deno.test("createAlerting() runs evaluations one at a time, in call order", async () => {
  const log = createMemoryTransitionLog();
  const alerting = createAlerting({ log, settings: { ...SETTINGS, forMs: 0 }, windows: [3600] });
  await Promise.all([
    alerting.evaluate([row(0, "a", 90)]),
    alerting.evaluate([row(1, "a", 70)]),
    alerting.evaluate([row(2, "a", 55)]),
  ]);
  deepEqual((await log.list({ limit: 10 })).map((t) => t.to), ["low", "medium", "high"]);
});

Deno.test("createAlerting() prunes transitions older than the retention once per pruneEveryMs, keeping each key's newest", async () => {
  const log = createMemoryTransitionLog();
  const alerting = createAlerting({
    log,
    settings: { ...SETTINGS, forMs: 0 },
    windows: [3600],
    retentionMs: 10 * MINUTE,
    pruneEveryMs: 5 * MINUTE,
    pause: noPause,
  });
  // a: low, medium, high at minutes 0, 1, 2; b: low at minute 0 (its newest: kept).
  await alerting.evaluate(cycle(0, { a: 90, b: 90 }, [3600]));
  await alerting.evaluate([row(1, "a", 70)]);
  await alerting.evaluate([row(2, "a", 55)]);
  equal((await log.list({ limit: 10 })).length, 4);
  // Minute 11: due (first prune ran at minute 0); before minute 1 goes: a's first transition.
  await alerting.evaluate([row(11, "a", 55)]);
  deepEqual((await log.list({ limit: 10 })).map((t) => [t.signal, t.to]), [
    ["b", "low"],
    ["a", "medium"],
    ["a", "high"],
  ]);
  equal(alerting.status().transitionsPruned, 1);
  // Minute 13: not due yet (last prune at minute 11).
  await alerting.evaluate([row(13, "a", 55)]);
  equal((await log.list({ limit: 10 })).length, 3);
  // Minute 16: due; before minute 6: a's medium goes, a's high and b's low are their keys' newest.
  await alerting.evaluate([row(16, "a", 55)]);
  deepEqual((await log.list({ limit: 10 })).map((t) => [t.signal, t.to]), [["b", "low"], ["a", "high"]]);
  equal(alerting.status().transitionsPruned, 2);
});

Deno.test("createAlerting() appends in batches; when one fails, the keys of the batches written move and the rest wait", async () => {
  const inner = createMemoryTransitionLog();
  let calls = 0;
  const log: TransitionLog = {
    ...inner,
    append(transitions) {
      calls++;
      return calls === 2 ? Promise.reject(new Error("disk full")) : inner.append(transitions);
    },
  };
  const woken: number[] = [];
  const alerting = createAlerting({
    log,
    settings: { ...SETTINGS, forMs: 0 },
    windows: [3600],
    appendBatch: 2,
    onTransitions: (t) => woken.push(t.length),
    pause: noPause,
  });
  await alerting.evaluate(cycle(0, { a: 55, b: 55, c: 55, d: 55 }, [3600]));
  const written = await inner.list({ limit: 10 });
  equal(written.length, 2, "the first batch landed");
  const moved = new Set(written.map((t) => t.signal));
  for (const state of alerting.states()) {
    if (moved.has(state.signal)) equal(state.level, "high", state.signal);
    else deepEqual([state.level, state.pending?.level], ["unknown", "high"], state.signal);
  }
  deepEqual(woken, [2], "delivery is woken for what was written");
  equal(alerting.status().transitionsWritten, 2);
  equal(alerting.status().appendFailures, 1);
  // The next cycle writes the other two (and nothing twice).
  await alerting.evaluate(cycle(1, { a: 55, b: 55, c: 55, d: 55 }, [3600]));
  equal((await inner.list({ limit: 10 })).length, 4);
  ok(alerting.states().every((s) => s.level === "high"));
});

Deno.test("createAlerting().restore() logs 'alert states restored' at info, or at the level asked (a follower's per-sync refresh: debug)", async () => {
  const log = createMemoryTransitionLog();
  const alerting = createAlerting({ log, settings: SETTINGS, windows: [3600], pause: noPause });
  const { records } = await captureLogs(async () => {
    await alerting.restore();
    await alerting.restore({ level: "debug" });
  });
  const restored = records.filter((r) => r.message.join("") === "alert states restored");
  deepEqual(restored.map((r) => r.level), ["info", "debug"]);
});
