/** Property tests: the normaliser's fast path agrees with the zod schema on every input. */
import { deepEqual } from "node:assert/strict";
import fc from "fast-check";
import { DIALECTS } from "../../src/ingest/dialect.ts";
import { normalizeRecord, normalizeRecordStrict } from "../../src/ingest/normalize.ts";

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const timestamp = fc.oneof(
  fc.date({
    min: new Date("1970-01-02T00:00:00Z"),
    max: new Date("2100-01-01T00:00:00Z"),
    noInvalidDate: true,
  })
    .map((d) => d.toISOString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace("Z", "+02:00")),
  fc.integer({ min: -10, max: 2e12 }),
  fc.double(),
  fc.constantFrom("2025-02-30T00:00:00Z", "2025-10-29T24:00:00Z", "2025-10-29", "yesterday", "", null),
);
const score = fc.oneof(
  fc.double({ min: -1, max: 101 }),
  fc.constantFrom(0, -0, 100, 100.0000001, Number.NaN, Infinity, -Infinity, "86.2", null, true),
  fc.double(),
);
const signal = fc.oneof(
  fc.string({ maxLength: 5 }),
  // Reserved and blank names (issue 12): the pooled "*", spaces, and both together.
  fc.constantFrom("*", " * ", "**", " ", "   ", "\u00a0", "a *"),
  fc.string({ minLength: 199, maxLength: 201 }),
  fc.integer(),
  fc.constant(null),
);
const agentStates = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 4 }), fc.integer()),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.double(), fc.string())),
  fc.array(fc.integer()),
  fc.constant(null),
);
const eventCount = fc.oneof(
  fc.integer({ min: -5, max: 100 }),
  fc.double(),
  fc.constant(2 ** 60),
  fc.string(),
);

const record = fc.record({
  signal: maybe(signal),
  signal_id: maybe(signal),
  timestamp: maybe(timestamp),
  coherenceScore: maybe(score),
  coherence_score: maybe(score),
  agentStates: maybe(agentStates),
  event_count: maybe(eventCount),
}, { requiredKeys: [] });

Deno.test("normalizeRecord() fast path gives exactly the zod schema's answer for any record", () => {
  fc.assert(
    fc.property(record, (r) => {
      deepEqual(normalizeRecord(r), normalizeRecordStrict(r));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("normalizeRecord() agrees with the zod schema in the start_end dialect and on non-objects", () => {
  fc.assert(
    fc.property(fc.oneof(record, fc.anything()), (r) => {
      deepEqual(normalizeRecord(r, DIALECTS.start_end), normalizeRecordStrict(r, DIALECTS.start_end));
    }),
    { numRuns: 2000 },
  );
});
