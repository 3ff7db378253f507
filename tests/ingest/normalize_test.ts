import { deepEqual, equal, ok } from "node:assert/strict";
import { type Dialect, DIALECT_NAMES, DIALECTS } from "../../src/ingest/dialect.ts";
import {
  normalizeRecord,
  normalizeRecords,
  normalizeRecordStrict,
  recordsOf,
} from "../../src/ingest/normalize.ts";
import { EPOCH_MS_THRESHOLD, parseTimestamp } from "../../src/core/time.ts";

const TS_TEXT = "2025-10-29T16:43:00Z";
const TS_MS = Date.UTC(2025, 9, 29, 16, 43, 0);

/** Normalises and asserts success; returns the point. */
function accepted(raw: unknown, dialect: Dialect = DIALECTS.darshan) {
  const r = normalizeRecord(raw, dialect);
  ok(r.ok, `expected ${JSON.stringify(raw)} to be accepted, got ${JSON.stringify(r)}`);
  return r.point;
}

/** Normalises and asserts rejection; returns the reason. */
function rejected(raw: unknown): string {
  const r = normalizeRecord(raw);
  ok(!r.ok, `expected ${JSON.stringify(raw)} to be rejected, got ${JSON.stringify(r)}`);
  return r.reason;
}

// ---------------------------------------------------------------------------------------------------------
// Field names

Deno.test("normalizeRecord() reads the documented camelCase record", () => {
  const point = accepted({
    signal: "alpha",
    timestamp: TS_TEXT,
    coherenceScore: 86.2,
    agentStates: { active: 12, idle: 3 },
    eventCount: 41,
  });
  deepEqual(point, {
    signal: "alpha",
    ts: TS_MS,
    score: 86.2,
    agentStates: { active: 12, idle: 3 },
    eventCount: 41,
  });
});

Deno.test("normalizeRecord() reads snake_case keys", () => {
  const point = accepted({
    signal_id: "beta",
    timestamp: TS_TEXT,
    coherence_score: 71.5,
    agent_states: { active: 1 },
    event_count: 7,
  });
  deepEqual(point, { signal: "beta", ts: TS_MS, score: 71.5, agentStates: { active: 1 }, eventCount: 7 });
});

Deno.test("normalizeRecord() takes the signal from signal, signal_id or signalId", () => {
  equal(accepted({ signal: "a", timestamp: TS_TEXT, coherenceScore: 1 }).signal, "a");
  equal(accepted({ signal_id: "b", timestamp: TS_TEXT, coherenceScore: 1 }).signal, "b");
  equal(accepted({ signalId: "c", timestamp: TS_TEXT, coherenceScore: 1 }).signal, "c");
  // The first name present wins.
  equal(accepted({ signalId: "c", signal: "a", timestamp: TS_TEXT, coherenceScore: 1 }).signal, "a");
});

Deno.test("normalizeRecord() puts a record without any signal key in signal default", () => {
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 50 }).signal, "default");
  equal(accepted({ signal: null, timestamp: TS_TEXT, coherenceScore: 50 }).signal, "default");
});

Deno.test("normalizeRecord() rejects an empty, non-string or over-long signal", () => {
  equal(rejected({ signal: "", timestamp: TS_TEXT, coherenceScore: 50 }), "invalid_signal");
  equal(rejected({ signal: 5, timestamp: TS_TEXT, coherenceScore: 50 }), "invalid_signal");
  equal(rejected({ signal: "x".repeat(201), timestamp: TS_TEXT, coherenceScore: 50 }), "invalid_signal");
  equal(accepted({ signal: "x".repeat(200), timestamp: TS_TEXT, coherenceScore: 50 }).signal.length, 200);
});

Deno.test("normalizeRecord() prefers coherenceScore over coherence_score when both are present", () => {
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 10, coherence_score: 20 }).score, 10);
});

Deno.test("normalizeRecord() drops malformed optional fields instead of rejecting the record", () => {
  const point = accepted({ timestamp: TS_TEXT, coherenceScore: 50, agentStates: "busy", eventCount: -1 });
  deepEqual(point, { signal: "default", ts: TS_MS, score: 50 });
  ok(!("agentStates" in point) && !("eventCount" in point));
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 50, eventCount: 1.5 }).eventCount, undefined);
});

// ---------------------------------------------------------------------------------------------------------
// Timestamps

Deno.test("parseTimestamp() reads RFC 3339 with Z", () => {
  equal(parseTimestamp("2025-10-29T16:43:00Z"), TS_MS);
  equal(parseTimestamp("2025-10-29t16:43:00z"), TS_MS);
  equal(parseTimestamp("2025-10-29 16:43:00Z"), TS_MS);
});

Deno.test("parseTimestamp() reads RFC 3339 with a numeric offset", () => {
  equal(parseTimestamp("2025-10-29T18:43:00+02:00"), TS_MS);
  equal(parseTimestamp("2025-10-29T11:13:00-05:30"), TS_MS);
  equal(parseTimestamp("2025-10-29T16:43:00+00:00"), TS_MS);
  equal(parseTimestamp("2025-10-29T16:43:00-00:00"), TS_MS);
});

Deno.test("parseTimestamp() reads fractional seconds down to the millisecond", () => {
  equal(parseTimestamp("2025-10-29T16:43:00.5Z"), TS_MS + 500);
  equal(parseTimestamp("2025-10-29T16:43:00.123Z"), TS_MS + 123);
  equal(parseTimestamp("2025-10-29T16:43:00.123456789+00:00"), TS_MS + 123);
  ok(Number.isInteger(parseTimestamp("2025-10-29T16:43:00.999999Z")));
});

Deno.test("parseTimestamp() rejects a date-time without a zone", () => {
  equal(parseTimestamp("2025-10-29T16:43:00"), null);
  equal(parseTimestamp("2025-10-29T16:43:00.123"), null);
  equal(parseTimestamp("2025-10-29"), null);
});

Deno.test("parseTimestamp() rejects text that is not RFC 3339", () => {
  for (
    const text of [
      "",
      "yesterday",
      "1761756180",
      "2025-10-29T16:43Z",
      "2025-10-29T16:43:00+0200",
      "Wed, 29 Oct 2025 16:43:00 GMT",
      " 2025-10-29T16:43:00Z",
    ]
  ) {
    equal(parseTimestamp(text), null, text);
  }
});

Deno.test("parseTimestamp() rejects calendar dates that do not exist instead of rolling them over", () => {
  // Date.parse alone turns 2025-02-30 into 2 March and 24:00 into the next day.
  equal(parseTimestamp("2025-02-30T00:00:00Z"), null);
  equal(parseTimestamp("2025-02-29T00:00:00Z"), null);
  equal(parseTimestamp("2025-04-31T00:00:00Z"), null);
  equal(parseTimestamp("2025-13-01T00:00:00Z"), null);
  equal(parseTimestamp("2025-00-10T00:00:00Z"), null);
  equal(parseTimestamp("2025-10-00T00:00:00Z"), null);
  equal(parseTimestamp("2025-10-29T24:00:00Z"), null);
  equal(parseTimestamp("2025-10-29T16:60:00Z"), null);
  equal(parseTimestamp("2025-10-29T16:43:00+24:00"), null);
  // Real month ends and leap days are fine.
  equal(parseTimestamp("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  equal(parseTimestamp("2000-02-29T12:00:00Z"), Date.UTC(2000, 1, 29, 12));
  equal(parseTimestamp("2025-04-30T23:59:59Z"), Date.UTC(2025, 3, 30, 23, 59, 59));
  equal(parseTimestamp("2025-12-31T23:59:59.999Z"), Date.UTC(2025, 11, 31, 23, 59, 59, 999));
  equal(parseTimestamp("1900-02-28T00:00:00Z"), Date.UTC(1900, 1, 28));
  equal(parseTimestamp("1900-02-29T00:00:00Z"), null);
});

Deno.test("parseTimestamp() reads epoch seconds below 1e11 and milliseconds above", () => {
  equal(EPOCH_MS_THRESHOLD, 1e11);
  equal(parseTimestamp(1_761_756_180), TS_MS); // seconds
  equal(parseTimestamp(1_761_756_180_000), TS_MS); // milliseconds
  equal(parseTimestamp(1e11), 1e14); // exactly 1e11 is still seconds
  equal(parseTimestamp(1e11 + 1), 1e11 + 1); // above it, milliseconds
  equal(parseTimestamp(99_999_999_999), 99_999_999_999_000);
  equal(parseTimestamp(0), 0);
});

Deno.test("parseTimestamp() rounds fractional epochs to whole milliseconds", () => {
  equal(parseTimestamp(1_761_756_180.5), TS_MS + 500);
  equal(parseTimestamp(1_761_756_180.0004), TS_MS);
  equal(parseTimestamp(1_761_756_180_000.6), TS_MS + 1);
});

Deno.test("parseTimestamp() rejects negative, non-finite and unrepresentable epochs and other types", () => {
  equal(parseTimestamp(-1), null);
  equal(parseTimestamp(Number.NaN), null);
  equal(parseTimestamp(Number.POSITIVE_INFINITY), null);
  // Beyond ±8.64e15 ms a JavaScript Date cannot hold the instant (new Date(ms).toISOString() throws).
  equal(parseTimestamp(8.64e15), 8.64e15);
  equal(parseTimestamp(8.64e15 + 1), null);
  equal(parseTimestamp(1e20), null);
  equal(parseTimestamp(true), null);
  equal(parseTimestamp({}), null);
  equal(parseTimestamp(null), null);
  equal(parseTimestamp(undefined), null);
});

Deno.test("normalizeRecord() gives missing_timestamp or invalid_timestamp", () => {
  equal(rejected({ coherenceScore: 50 }), "missing_timestamp");
  equal(rejected({ timestamp: null, coherenceScore: 50 }), "missing_timestamp");
  equal(rejected({ timestamp: "2025-10-29T16:43:00", coherenceScore: 50 }), "invalid_timestamp");
  equal(rejected({ timestamp: "2025-02-30T00:00:00Z", coherenceScore: 50 }), "invalid_timestamp");
  equal(rejected({ timestamp: -5, coherenceScore: 50 }), "invalid_timestamp");
  equal(rejected({ timestamp: 1e20, coherenceScore: 50 }), "invalid_timestamp");
});

Deno.test("normalizeRecord() stores epoch seconds and milliseconds as the same instant", () => {
  equal(accepted({ timestamp: 1_761_756_180, coherenceScore: 1 }).ts, TS_MS);
  equal(accepted({ timestamp: 1_761_756_180_000, coherenceScore: 1 }).ts, TS_MS);
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 1 }).ts, TS_MS);
});

// ---------------------------------------------------------------------------------------------------------
// Scores

Deno.test("normalizeRecord() accepts scores 0 and 100", () => {
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 0 }).score, 0);
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 100 }).score, 100);
});

Deno.test("normalizeRecord() rejects scores just outside 0..100 as score_out_of_range", () => {
  equal(rejected({ timestamp: TS_TEXT, coherenceScore: 100.0001 }), "score_out_of_range");
  equal(rejected({ timestamp: TS_TEXT, coherenceScore: -0.1 }), "score_out_of_range");
  equal(rejected({ timestamp: TS_TEXT, coherenceScore: 1e9 }), "score_out_of_range");
});

Deno.test("normalizeRecord() gives missing_score for an absent or null score", () => {
  equal(rejected({ timestamp: TS_TEXT }), "missing_score");
  equal(rejected({ timestamp: TS_TEXT, coherenceScore: null }), "missing_score");
});

Deno.test("normalizeRecord() gives invalid_score for strings, booleans and non-finite numbers", () => {
  for (
    const score of [
      "86.2",
      "",
      true,
      {},
      [50],
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]
  ) {
    equal(rejected({ timestamp: TS_TEXT, coherenceScore: score }), "invalid_score", String(score));
  }
});

Deno.test("normalizeRecord() keeps scores bit-exact", () => {
  for (const score of [0.1 + 0.2, 1 / 3, 86.2, 5e-324, 99.99999999999999, Math.PI * 10]) {
    ok(Object.is(accepted({ timestamp: TS_TEXT, coherenceScore: score }).score, score), String(score));
  }
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 0.1 + 0.2 }).score, 0.30000000000000004);
});

Deno.test("normalizeRecord() keeps scores bit-exact through JSON text", () => {
  const body = JSON.parse('[{"timestamp":"2025-10-29T16:43:00Z","coherenceScore":0.30000000000000004}]');
  equal(accepted(body[0]).score, 0.1 + 0.2);
});

// ---------------------------------------------------------------------------------------------------------
// Records that are not objects, and the order of reasons

Deno.test("normalizeRecord() gives not_an_object for null, arrays and primitives", () => {
  for (const raw of [null, undefined, 5, "record", true, [1, 2]]) equal(rejected(raw), "not_an_object");
});

Deno.test("normalizeRecord() reports the first failing field: signal, then timestamp, then score", () => {
  equal(rejected({ signal: "", timestamp: "bad", coherenceScore: "bad" }), "invalid_signal");
  equal(rejected({ timestamp: "bad", coherenceScore: "bad" }), "invalid_timestamp");
  equal(rejected({ timestamp: TS_TEXT, coherenceScore: 101 }), "score_out_of_range");
});

// ---------------------------------------------------------------------------------------------------------
// Batches

Deno.test("normalizeRecords() keeps valid records in order and counts rejects by reason", () => {
  const raw = [
    { signal: "a", timestamp: TS_TEXT, coherenceScore: 80 },
    null,
    { signal: "a", timestamp: TS_TEXT, coherenceScore: 101 },
    { signal: "b", timestamp: 1_761_756_180, coherence_score: 90 },
    { signal: "a", timestamp: TS_TEXT },
    { signal: "a", timestamp: TS_TEXT, coherenceScore: -1 },
    { signal: "a", coherenceScore: 10 },
    "garbage",
    { signal_id: "c", timestamp: 1_761_756_180_000, coherenceScore: 0 },
  ];
  const result = normalizeRecords(raw);
  deepEqual(result.points, [
    { signal: "a", ts: TS_MS, score: 80 },
    { signal: "b", ts: TS_MS, score: 90 },
    { signal: "c", ts: TS_MS, score: 0 },
  ]);
  deepEqual(result.rejected, {
    not_an_object: 2,
    score_out_of_range: 2,
    missing_score: 1,
    missing_timestamp: 1,
  });
  equal(result.rejectedTotal, 6);
  equal(result.points.length + result.rejectedTotal, raw.length);
});

Deno.test("normalizeRecords() of no records is empty with no reasons", () => {
  deepEqual(normalizeRecords([]), { points: [], rejected: {}, rejectedTotal: 0 });
});

Deno.test("normalizeRecords() does not deduplicate: that is the store's job", () => {
  const record = { signal: "a", timestamp: TS_TEXT, coherenceScore: 80 };
  equal(normalizeRecords([record, record]).points.length, 2);
});

// ---------------------------------------------------------------------------------------------------------
// Bodies and dialects

Deno.test("recordsOf() takes the records from { data: [...] }", () => {
  const data = [{ signal: "a" }];
  equal(recordsOf({ data, next_cursor: null }), data);
  deepEqual(recordsOf({ data: [] }), []);
});

Deno.test("recordsOf() accepts a bare array", () => {
  const body = [{ signal: "a" }, 5];
  equal(recordsOf(body), body);
});

Deno.test("recordsOf() returns null for a body of neither shape", () => {
  for (const body of [null, undefined, "data", 42, true, {}, { data: "x" }, { data: null }, { items: [] }]) {
    equal(recordsOf(body), null, JSON.stringify(body));
  }
});

Deno.test("the start_end dialect reads records and bodies the same way", () => {
  ok(DIALECT_NAMES.includes("start_end"));
  const body = {
    data: [
      { signalId: "a", timestamp: TS_TEXT, coherence_score: 55 },
      { timestamp: 1_761_756_180, coherenceScore: 101 },
    ],
    next_page: "p2",
  };
  const records = recordsOf(body, DIALECTS.start_end);
  ok(records !== null);
  const result = normalizeRecords(records, DIALECTS.start_end);
  deepEqual(result.points, [{ signal: "a", ts: TS_MS, score: 55 }]);
  deepEqual(result.rejected, { score_out_of_range: 1 });
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 1 }, DIALECTS.start_end).signal, "default");
  equal(DIALECTS.start_end.params.from, "start_ts");
  equal(DIALECTS.start_end.params.to, "end_ts");
  equal(DIALECTS.start_end.body.nextCursor[0], "next_page");
});

Deno.test("normalizeRecord() uses the dialect's default signal", () => {
  const dialect = { ...DIALECTS.darshan, defaultSignal: "unnamed" };
  equal(accepted({ timestamp: TS_TEXT, coherenceScore: 1 }, dialect).signal, "unnamed");
});

Deno.test("normalizeRecord() rejects signal names with line breaks or other control characters", () => {
  for (const signal of ["a\nb", "a\r", "tab\there", "\u0000"]) {
    const r = normalizeRecord({ signal, timestamp: "2025-10-29T16:43:00Z", coherenceScore: 80 });
    deepEqual(r, { ok: false, reason: "invalid_signal" }, JSON.stringify(signal));
  }
});

Deno.test("normalizeRecords() rejects the pooled name * as reserved_signal and blank names as invalid_signal", () => {
  const record = (signal: string) => ({ signal, timestamp: "2025-10-29T17:00:00Z", coherenceScore: 80 });
  const r = normalizeRecords([
    record("*"),
    record(" * "),
    record(" "),
    record("\u00a0\t".slice(0, 1)),
    record("a*"),
    record(" alpha"),
  ]);
  deepEqual(r.points.map((p) => p.signal), ["a*", " alpha"]);
  deepEqual(r.rejected, { reserved_signal: 2, invalid_signal: 2 });
  equal(r.rejectedTotal, 4);
  for (const name of ["*", " "]) {
    deepEqual(normalizeRecordStrict(record(name)), normalizeRecord(record(name)));
  }
});
