import { deepEqual, equal, ok } from "node:assert/strict";
import {
  type Fixture,
  type FixtureRecord,
  generateFixture,
  serializeFixture,
} from "../../scripts/gen_fixture.ts";

const FIXTURE_PATH = `${import.meta.dirname}/../../fixtures/signals.json`;
const SIGNALS = ["alpha", "beta", "gamma", "delta"];
const END_MS = Date.parse("2025-10-29T18:00:00Z");
const HOUR_MS = 3_600_000;
const CADENCE_MS = 60_000;
const HOURS = 26;
const RFC3339_UTC_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const fileText = await Deno.readTextFile(FIXTURE_PATH);
const fixture: Fixture = JSON.parse(fileText);

type Risk = "low" | "medium" | "high";

interface WindowStats {
  n: number;
  mean: number;
  stdev: number;
  vi: number;
  risk: Risk;
}

/** Two-pass mean and sample stdev, classified with the SPEC's drift-risk rules. */
function windowStats(scores: number[]): WindowStats {
  const n = scores.length;
  let sum = 0;
  for (const x of scores) sum += x;
  const mean = sum / n;
  let squares = 0;
  for (const x of scores) squares += (x - mean) ** 2;
  const stdev = Math.sqrt(squares / (n - 1));
  const vi = stdev / mean;
  const risk: Risk = vi > 0.25 || mean < 60 ? "high" : vi > 0.10 || mean < 80 ? "medium" : "low";
  return { n, mean, stdev, vi, risk };
}

/** Scores of `signal` with timestamps in the half-open window `(endMs − lengthMs, endMs]`. */
function scoresIn(signal: string, endMs: number, lengthMs: number): number[] {
  return fixture.data
    .filter((r) => r.signal === signal)
    .filter((r) => {
      const t = Date.parse(r.timestamp);
      return t > endMs - lengthMs && t <= endMs;
    })
    .map((r) => r.coherenceScore);
}

/** Stats of every 1h window aligned to the hour, oldest first. */
function hourlyStats(signal: string): WindowStats[] {
  const stats: WindowStats[] = [];
  for (let h = HOURS - 1; h >= 0; h--) {
    stats.push(windowStats(scoresIn(signal, END_MS - h * HOUR_MS, HOUR_MS)));
  }
  return stats;
}

function last24h(signal: string): WindowStats {
  return windowStats(scoresIn(signal, END_MS, 24 * HOUR_MS));
}

Deno.test("generateFixture() output has the upstream shape with records sorted by timestamp", () => {
  deepEqual(Object.keys(fixture), ["data", "next_cursor"]);
  equal(fixture.next_cursor, null);
  ok(Array.isArray(fixture.data));
  let previous = -Infinity;
  for (const record of fixture.data) {
    deepEqual(Object.keys(record), ["signal", "timestamp", "coherenceScore", "agentStates", "eventCount"]);
    ok(SIGNALS.includes(record.signal), `unexpected signal ${record.signal}`);
    ok(RFC3339_UTC_SECONDS.test(record.timestamp), `bad timestamp ${record.timestamp}`);
    const t = Date.parse(record.timestamp);
    ok(t >= previous, `${record.timestamp} is before the previous record`);
    previous = t;
    deepEqual(Object.keys(record.agentStates), ["active", "idle"]);
    ok(Number.isInteger(record.agentStates.active) && record.agentStates.active >= 0);
    ok(Number.isInteger(record.agentStates.idle) && record.agentStates.idle >= 0);
    ok(record.agentStates.active + record.agentStates.idle > 0);
    ok(Number.isInteger(record.eventCount) && record.eventCount >= 0);
  }
});

Deno.test("generateFixture() interleaves 4 signals over 26 hours at a 60 s cadence ending at 18:00Z", () => {
  const count = HOURS * 60;
  equal(fixture.data.length, SIGNALS.length * count);
  for (let i = 0; i < count; i++) {
    const expected = new Date(END_MS - (count - 1 - i) * CADENCE_MS).toISOString().slice(0, 19) + "Z";
    const group = fixture.data.slice(i * SIGNALS.length, (i + 1) * SIGNALS.length);
    deepEqual(group.map((r) => r.signal), SIGNALS);
    for (const record of group) equal(record.timestamp, expected);
  }
  equal(fixture.data.at(-1)?.timestamp, "2025-10-29T18:00:00Z");
});

Deno.test("generateFixture() keeps every score within 0..100 with at most 1 decimal", () => {
  for (const { coherenceScore } of fixture.data) {
    ok(Number.isFinite(coherenceScore) && coherenceScore >= 0 && coherenceScore <= 100, `${coherenceScore}`);
    ok(/^\d{1,3}(\.\d)?$/.test(String(coherenceScore)), `${coherenceScore} has more than 1 decimal`);
  }
});

Deno.test("generateFixture() is deterministic and matches the committed fixture byte for byte", () => {
  const first = generateFixture();
  const second = generateFixture();
  deepEqual(first, second);
  deepEqual(first, fixture);
  equal(serializeFixture(first), fileText);
});

Deno.test("generateFixture() writes one record per line and stays under 1 MB", () => {
  const lines = fileText.split("\n");
  equal(lines[0], '{"data":[');
  equal(lines.at(-2), '],"next_cursor":null}');
  equal(lines.length, fixture.data.length + 3);
  ok(new TextEncoder().encode(fileText).length < 1_000_000);
});

Deno.test("generateFixture() fills the last 24h window of every signal", () => {
  for (const signal of SIGNALS) equal(last24h(signal).n, 24 * 60, signal);
});

const steadyBands: [string, Risk][] = [["alpha", "low"], ["beta", "medium"], ["gamma", "high"]];

for (const [signal, risk] of steadyBands) {
  Deno.test(`generateFixture() gives ${signal} a ${risk} risk over the last 24h`, () => {
    const stats = last24h(signal);
    equal(stats.risk, risk, JSON.stringify(stats));
  });

  Deno.test(`generateFixture() gives ${signal} a ${risk} risk in every hour`, () => {
    const hours = hourlyStats(signal);
    equal(hours.length, HOURS);
    hours.forEach((stats, i) => {
      equal(stats.n, 60, `${signal} hour ${i}`);
      equal(stats.risk, risk, `${signal} hour ${i}: ${JSON.stringify(stats)}`);
    });
  });
}

Deno.test("generateFixture() keeps alpha, beta and gamma near their target means and stdevs", () => {
  const targets: Record<string, { mean: number; stdev: number }> = {
    alpha: { mean: 88, stdev: 3 },
    beta: { mean: 72, stdev: 4 },
    gamma: { mean: 66, stdev: 20 },
  };
  for (const [signal, target] of Object.entries(targets)) {
    const stats = last24h(signal);
    ok(Math.abs(stats.mean - target.mean) < 2, `${signal} mean ${stats.mean}`);
    ok(Math.abs(stats.stdev - target.stdev) < target.stdev * 0.15, `${signal} stdev ${stats.stdev}`);
  }
});

Deno.test("generateFixture() gives gamma a high risk by volatility, not by its mean, in every hour", () => {
  for (const stats of hourlyStats("gamma")) {
    ok(stats.vi > 0.25, JSON.stringify(stats));
    ok(stats.mean >= 60, JSON.stringify(stats));
  }
});

Deno.test("generateFixture() gives delta low, medium and high risk hours as it drifts", () => {
  const hours = hourlyStats("delta");
  const risks = new Set(hours.map((s) => s.risk));
  deepEqual([...risks].sort(), ["high", "low", "medium"]);
  equal(hours[0].risk, "low");
  equal(hours.at(-1)?.risk, "low");
  const lowest = Math.min(...hours.map((s) => s.mean));
  ok(Math.abs(lowest - 50) < 3, `lowest hourly mean ${lowest}`);
  for (const stats of hours) ok(stats.stdev < 6, `delta noise too large: ${JSON.stringify(stats)}`);
});

Deno.test("generateFixture() keeps each signal's agent total fixed and reports events", () => {
  const bySignal = new Map<string, FixtureRecord[]>();
  for (const record of fixture.data) {
    const records = bySignal.get(record.signal) ?? [];
    records.push(record);
    bySignal.set(record.signal, records);
  }
  for (const [signal, records] of bySignal) {
    const totals = new Set(records.map((r) => r.agentStates.active + r.agentStates.idle));
    equal(totals.size, 1, `${signal} agent total changes`);
    ok(records.some((r) => r.eventCount > 0), `${signal} never reports events`);
  }
});
