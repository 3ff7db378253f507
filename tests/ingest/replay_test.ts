import assert from "node:assert/strict";
import type { NormalizedPoint } from "../../src/ingest/normalize.ts";
import { createReplay, medianGap } from "../../src/ingest/replay.ts";

const MIN = 60_000;
/** The recording: two signals, 10 records each, one a minute, at the file's own (old) time. */
const FILE_START = Date.parse("2025-10-28T16:00:00Z");
const COUNT = 10;
const SIGNALS = ["alpha", "beta"];
/** Where the newest record is to land (start-up time). */
const ANCHOR = Date.parse("2026-01-15T09:30:00Z");

function recording(): NormalizedPoint[] {
  const out: NormalizedPoint[] = [];
  for (let i = 0; i < COUNT; i++) {
    for (const [s, signal] of SIGNALS.entries()) {
      out.push({ signal, ts: FILE_START + i * MIN, score: 50 + 10 * s + i, eventCount: i });
    }
  }
  return out;
}

const key = (p: NormalizedPoint) => `${p.signal}@${p.ts}`;

Deno.test("createReplay() lands the newest record exactly at the anchor", () => {
  const replay = createReplay(recording(), ANCHOR);
  const atAnchor = replay.between(ANCHOR - 1, ANCHOR);
  assert.deepEqual(atAnchor.map((p) => [p.signal, p.ts, p.score]), [
    ["alpha", ANCHOR, 59],
    ["beta", ANCHOR, 69],
  ]);
  // The whole file, shifted as one block: the oldest record is 9 cadences before the anchor.
  const all = replay.between(ANCHOR - COUNT * MIN, ANCHOR);
  assert.equal(all.length, COUNT * SIGNALS.length);
  assert.equal(all[0].ts, ANCHOR - (COUNT - 1) * MIN);
  assert.equal(all.at(-1)!.ts, ANCHOR);
  // Nothing but the timestamp changes.
  assert.deepEqual(all[0], { signal: "alpha", ts: ANCHOR - 9 * MIN, score: 50, eventCount: 0 });
});

Deno.test("createReplay() between() excludes from and includes to", () => {
  const replay = createReplay(recording(), ANCHOR);
  const window = replay.between(ANCHOR - 3 * MIN, ANCHOR - MIN);
  assert.deepEqual([...new Set(window.map((p) => p.ts))], [ANCHOR - 2 * MIN, ANCHOR - MIN]);
  assert.equal(window.length, 4);
  assert.deepEqual(replay.between(ANCHOR - MIN, ANCHOR - MIN), [], "an empty interval holds nothing");
  assert.deepEqual(replay.between(ANCHOR, ANCHOR - MIN), [], "a reversed interval holds nothing");
  assert.deepEqual(
    replay.between(ANCHOR, ANCHOR + MIN - 1),
    [],
    "nothing between the anchor and the next cadence",
  );
});

Deno.test("createReplay() between() returns records oldest first", () => {
  const replay = createReplay(recording(), ANCHOR);
  const out = replay.between(ANCHOR - 30 * MIN, ANCHOR + 30 * MIN);
  for (let i = 1; i < out.length; i++) assert.ok(out[i].ts >= out[i - 1].ts);
});

Deno.test("createReplay() releases one record per signal for each cadence the clock advances", () => {
  const replay = createReplay(recording(), ANCHOR);
  const seen = new Set<string>();
  let now = ANCHOR;
  // Three whole loops of the file, one cadence at a time.
  for (let step = 0; step < 3 * COUNT; step++) {
    const released = replay.between(now, now + MIN);
    now += MIN;
    assert.deepEqual(released.map((p) => p.signal), SIGNALS, `step ${step}`);
    for (const p of released) {
      assert.equal(p.ts, now);
      // Loop k replays the file from its first record again.
      assert.equal(p.score, (p.signal === "alpha" ? 50 : 60) + (step % COUNT));
      assert.ok(!seen.has(key(p)), `duplicate ${key(p)}`);
      seen.add(key(p));
    }
  }
});

Deno.test("createReplay() loops with period = span + cadence and no duplicate timestamps at the seams", () => {
  const replay = createReplay(recording(), ANCHOR);
  assert.equal(replay.cadenceMs, MIN);
  assert.equal(replay.periodMs, (COUNT - 1) * MIN + MIN);
  const loops = 4;
  const out = replay.between(ANCHOR - replay.periodMs, ANCHOR + (loops - 1) * replay.periodMs);
  assert.equal(out.length, loops * COUNT * SIGNALS.length);
  assert.equal(new Set(out.map(key)).size, out.length);
  for (const signal of SIGNALS) {
    const ts = out.filter((p) => p.signal === signal).map((p) => p.ts);
    for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], MIN, `${signal} gap at ${i}`);
  }
  // The first record of loop 1 sits one cadence after the anchor; loop k is loop 0 moved by k periods.
  const loop1 = replay.between(ANCHOR, ANCHOR + replay.periodMs);
  const loop0 = replay.between(ANCHOR - replay.periodMs, ANCHOR);
  assert.equal(loop1[0].ts, ANCHOR + MIN);
  assert.deepEqual(loop1, loop0.map((p) => ({ ...p, ts: p.ts + replay.periodMs })));
});

Deno.test("createReplay() between() far into the future starts at the right loop", () => {
  const replay = createReplay(recording(), ANCHOR);
  const k = 1000;
  const from = ANCHOR + k * replay.periodMs - 90_000;
  const out = replay.between(from, from + 3 * MIN);
  // Loop k ends at anchor + k·period: the window holds its last two records (−60 s, 0 s) and loop k+1's first (+60 s).
  assert.deepEqual([...new Set(out.map((p) => p.ts - ANCHOR - k * replay.periodMs))], [-MIN, 0, MIN]);
  assert.deepEqual(out.filter((p) => p.signal === "alpha").map((p) => p.score), [58, 59, 50]);
});

Deno.test("createReplay() releases nothing before the first replayed record", () => {
  const replay = createReplay(recording(), ANCHOR);
  const firstTs = ANCHOR - (COUNT - 1) * MIN;
  assert.deepEqual(replay.between(firstTs - 10 * replay.periodMs, firstTs - 1), []);
  assert.equal(replay.between(firstTs - 10 * replay.periodMs, firstTs).length, SIGNALS.length);
});

Deno.test("createReplay() sorts an out-of-order file first", () => {
  const shuffled = recording().reverse();
  const replay = createReplay(shuffled, ANCHOR);
  const all = replay.between(ANCHOR - COUNT * MIN, ANCHOR);
  assert.equal(all.at(-1)!.ts, ANCHOR);
  assert.equal(all[0].ts, ANCHOR - (COUNT - 1) * MIN);
  for (let i = 1; i < all.length; i++) assert.ok(all[i].ts >= all[i - 1].ts);
});

Deno.test("createReplay() uses the median gap as cadence when the file has a hole", () => {
  const gaps = [0, 1, 2, 3, 10].map((m) => ({ signal: "alpha", ts: FILE_START + m * MIN, score: 70 }));
  const replay = createReplay(gaps, ANCHOR);
  assert.equal(replay.cadenceMs, MIN);
  assert.equal(replay.periodMs, 11 * MIN);
  const next = replay.between(ANCHOR, ANCHOR + replay.periodMs);
  assert.deepEqual(next.map((p) => p.ts - ANCHOR), [1, 2, 3, 4, 11].map((m) => m * MIN));
});

Deno.test("createReplay() with no records releases nothing", () => {
  const replay = createReplay([], ANCHOR);
  assert.deepEqual(replay.between(ANCHOR - 1e9, ANCHOR + 1e9), []);
  assert.deepEqual(replay.between(-Infinity, Infinity), []);
  assert.ok(replay.periodMs > 0);
  assert.equal(replay.cadenceMs, 60_000);
});

Deno.test("createReplay() with a single record repeats it every default cadence", () => {
  const replay = createReplay([{ signal: "solo", ts: FILE_START, score: 42 }], ANCHOR);
  assert.equal(replay.cadenceMs, 60_000);
  assert.equal(replay.periodMs, 60_000);
  const out = replay.between(ANCHOR - 1, ANCHOR + 3 * 60_000);
  assert.deepEqual(out.map((p) => p.ts - ANCHOR), [0, 60_000, 120_000, 180_000]);
  assert.ok(out.every((p) => p.score === 42 && p.signal === "solo"));
});

Deno.test("createReplay() does not modify the input records", () => {
  const input = recording();
  const copy = structuredClone(input);
  createReplay(input, ANCHOR).between(ANCHOR - 1e7, ANCHOR + 1e7);
  assert.deepEqual(input, copy);
});

Deno.test("medianGap() is the median of the positive gaps, ignoring repeated timestamps", () => {
  assert.equal(medianGap(Float64Array.from([0, 0, 60, 60, 120, 120, 180])), 60);
  assert.equal(medianGap(Float64Array.from([0, 10, 20, 30, 1000])), 10);
  assert.equal(medianGap(Float64Array.from([0, 5, 105, 205])), 100);
});

Deno.test("medianGap() is 60 s when there is no positive gap", () => {
  assert.equal(medianGap(new Float64Array(0)), 60_000);
  assert.equal(medianGap(Float64Array.from([5])), 60_000);
  assert.equal(medianGap(Float64Array.from([5, 5, 5])), 60_000);
});
