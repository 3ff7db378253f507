import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import {
  type AlertSettings,
  type Evaluation,
  initialState,
  replay,
  restoreState,
  step,
  transitionId,
} from "../../src/core/alerts.ts";
import { DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";
import type { RiskLevel } from "../../src/core/vocabulary.ts";

const SETTINGS: AlertSettings = { forMs: 120_000, recoveryMargin: 1, thresholds: DEFAULT_THRESHOLDS };
const KEY = { signal: "alpha", windowSec: 3600 };
const T0 = Date.UTC(2026, 0, 1);

/** An evaluation with mean `mean` and a small spread (σ 1: the mean cut-offs decide H = 60, M = 80). */
function at(i: number, mean: number, stepMs = 60_000): Evaluation {
  return { ...KEY, atMs: T0 + i * stepMs, summary: { n: 50, mean, stdev: 1, volatilityIndex: 1 / mean } };
}

Deno.test("a new level is pending until it has held for ALERT_FOR, then one transition", () => {
  const evaluations = [at(0, 90), at(1, 90), at(2, 90), at(3, 70), at(4, 70), at(5, 70)];
  const { state, transitions } = replay(KEY, evaluations, SETTINGS);
  deepEqual(transitions.map((t) => [t.from, t.to, t.at, t.pendingSince]), [
    ["unknown", "low", new Date(T0 + 120_000).toISOString().replace(".000", ""), "2026-01-01T00:00:00Z"],
    ["low", "medium", "2026-01-01T00:05:00Z", "2026-01-01T00:03:00Z"],
  ]);
  equal(state.level, "medium");
  equal(state.pending, null);
});

Deno.test("a level that does not hold every evaluation over ALERT_FOR never fires", () => {
  const seq = [90, 90, 90, 70, 90, 70, 90, 70, 70, 90];
  const { transitions } = replay(KEY, seq.map((m, i) => at(i, m)), SETTINGS);
  deepEqual(transitions.map((t) => t.to), ["low"]);
});

Deno.test("pending shows the candidate and since when", () => {
  const { state } = replay(KEY, [at(0, 90), at(1, 90), at(2, 90), at(3, 55)], SETTINGS);
  deepEqual(state.pending, { level: "high", sinceMs: T0 + 180_000 });
  equal(state.level, "low");
});

Deno.test("recovery needs the mean to clear the effective boundary by the margin", () => {
  const high = replay(KEY, [at(0, 50), at(1, 50), at(2, 50)], SETTINGS);
  equal(high.state.level, "high");
  // 60.5 is medium by the rules but within the margin of H = 60: stays high however long it lasts.
  const stuck = replay(KEY, [at(3, 60.5), at(4, 60.5), at(5, 60.5), at(6, 60.5)], SETTINGS, high.state);
  deepEqual(stuck.transitions, []);
  equal(stuck.state.evaluated?.candidate, "high");
  // 61.5 clears it: medium after ALERT_FOR.
  const cleared = replay(KEY, [at(7, 61.5), at(8, 61.5), at(9, 61.5)], SETTINGS, stuck.state);
  deepEqual(cleared.transitions.map((t) => [t.from, t.to]), [["high", "medium"]]);
  // Mean 80.5 is low by the rules but only clears H by the margin, not M: medium stays.
  const partial = replay(KEY, [at(10, 80.5), at(11, 80.5), at(12, 80.5)], SETTINGS, cleared.state);
  deepEqual(partial.transitions, []);
});

Deno.test("a worse level needs no margin", () => {
  const low = replay(KEY, [at(0, 90), at(1, 90), at(2, 90)], SETTINGS);
  const worse = replay(KEY, [at(3, 79.9), at(4, 79.9), at(5, 79.9)], SETTINGS, low.state);
  deepEqual(worse.transitions.map((t) => t.to), ["medium"]);
});

Deno.test("ALERT_FOR=0 confirms at the first evaluation", () => {
  const { transitions } = replay(KEY, [at(0, 50)], { ...SETTINGS, forMs: 0 });
  deepEqual(transitions.map((t) => [t.from, t.to]), [["unknown", "high"]]);
});

Deno.test("a transition carries the numbers, the rule and the nearest boundary", () => {
  const { transitions } = replay(KEY, [at(0, 55), at(1, 55), at(2, 55)], SETTINGS);
  const t = transitions[0];
  equal(t.id, transitionId(KEY, T0 + 120_000, "unknown", "high"));
  deepEqual([t.n, t.mean, t.stdev, t.windowSec, t.signal], [50, 55, 1, 3600, "alpha"]);
  equal(t.rule, "high because mean 55 < 60");
  deepEqual([t.nearestBoundary?.boundary, t.nearestBoundary?.changesAt, t.nearestBoundary?.direction], [
    "high",
    60,
    "rise",
  ]);
});

Deno.test("restoreState comes back at the last transition's level; no transition for the same level", () => {
  const { transitions } = replay(KEY, [at(0, 55), at(1, 55), at(2, 55)], SETTINGS);
  const restored = restoreState(transitions[0]);
  equal(restored.level, "high");
  const again = step(restored, at(3, 55), SETTINGS);
  equal(again.transition, null);
});

/** Arbitrary evaluation histories: means around the cut-offs, steps of 10 s to 3 min. */
const history = fc.array(
  fc.record({
    mean: fc.oneof(
      fc.double({ min: 40, max: 100, noNaN: true }),
      fc.constantFrom(59.5, 60, 60.5, 79.5, 80, 80.5),
    ),
    gapMs: fc.integer({ min: 10_000, max: 180_000 }),
    empty: fc.integer({ min: 0, max: 9 }).map((i) => i === 0),
  }),
  { maxLength: 60 },
).map((items) => {
  let t = T0;
  return items.map(({ mean, gapMs, empty }) => {
    t += gapMs;
    return empty
      ? { ...KEY, atMs: t, summary: { n: 0, mean: null, stdev: null, volatilityIndex: null } }
      : { ...KEY, atMs: t, summary: { n: 30, mean, stdev: 1, volatilityIndex: 1 / mean } };
  });
});

Deno.test("property: no transition unless the new level held for every evaluation over ALERT_FOR", () => {
  fc.assert(fc.property(history, fc.integer({ min: 0, max: 300_000 }), (evaluations, forMs) => {
    const settings = { ...SETTINGS, forMs };
    let state = initialState(KEY);
    const candidates: { atMs: number; candidate: RiskLevel }[] = [];
    for (const e of evaluations) {
      const r = step(state, e, settings);
      candidates.push({ atMs: e.atMs, candidate: r.state.evaluated!.candidate });
      if (r.transition) {
        const since = Date.parse(r.transition.pendingSince);
        equal(e.atMs - since >= forMs, true);
        // Every evaluation from pendingSince to now gave the new level.
        for (const c of candidates) if (c.atMs >= since) equal(c.candidate, r.transition.to);
      }
      state = r.state;
    }
  }));
});

Deno.test("property: a mean oscillating within the margin around a boundary makes at most one transition", () => {
  fc.assert(fc.property(
    fc.constantFrom(60, 80),
    fc.array(fc.double({ min: -0.99, max: 0.99, noNaN: true }), { minLength: 1, maxLength: 80 }),
    fc.integer({ min: 0, max: 240_000 }),
    (boundary, offsets, forMs) => {
      const settings = { ...SETTINGS, forMs };
      // Settle on the side the first value gives, then oscillate.
      const start = replay(KEY, [at(0, boundary + offsets[0])], { ...settings, forMs: 0 }).state;
      const { transitions } = replay(KEY, offsets.map((o, i) => at(i + 1, boundary + o)), settings, start);
      equal(transitions.length <= 1, true, JSON.stringify(transitions.map((t) => [t.from, t.to])));
    },
  ));
});

Deno.test("property: the state is a pure function of the evaluation history", () => {
  fc.assert(fc.property(history, (evaluations) => {
    const a = replay(KEY, evaluations, SETTINGS);
    const b = replay(KEY, structuredClone(evaluations), SETTINGS);
    deepEqual(a, b);
    // Replaying in two halves from the intermediate state gives the same end.
    const half = Math.floor(evaluations.length / 2);
    const first = replay(KEY, evaluations.slice(0, half), SETTINGS);
    const second = replay(KEY, evaluations.slice(half), SETTINGS, first.state);
    deepEqual(second.state, a.state);
    deepEqual([...first.transitions, ...second.transitions], a.transitions);
  }));
});
