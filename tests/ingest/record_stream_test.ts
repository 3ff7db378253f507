import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import fc from "fast-check";
import { recordBatches, RecordStreamError } from "../../src/ingest/record_stream.ts";

const DATA = ["data"] as const;

/** The document's bytes in chunks of `size` (the last one shorter). */
async function* chunksOf(text: string | Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function readAll(text: string | Uint8Array, size: number, names: readonly string[] = DATA) {
  const out: unknown[] = [];
  let batches = 0;
  for await (const batch of recordBatches(chunksOf(text, size), names)) {
    out.push(...batch);
    batches++;
  }
  return { records: out, batches };
}

/** The records and the envelope (the generator's return value). */
async function readWithEnvelope(text: string | Uint8Array, size: number, names: readonly string[] = DATA) {
  const records: unknown[] = [];
  const batches = recordBatches(chunksOf(text, size), names);
  while (true) {
    const next = await batches.next();
    if (next.done) return { records, envelope: next.value };
    records.push(...next.value);
  }
}

async function streamError(text: string, size = 5): Promise<RecordStreamError> {
  try {
    await readAll(text, size);
  } catch (error) {
    ok(error instanceof RecordStreamError, `expected a RecordStreamError, got ${error}`);
    return error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

const TRICKY = [
  { signal: "alpha", timestamp: "2025-10-29T16:43:00Z", coherenceScore: 86.2, agentStates: { active: 12 } },
  { signal: 'quote " and \\ backslash, comma, ] bracket } brace', coherenceScore: 1e-7 },
  { signal: "ünïcødé 🚀 across chunk boundaries", nested: [[1, [2, { a: "]" }]], {}], eventCount: 0 },
  "not a record",
  42,
  null,
  [],
];

Deno.test("recordBatches() reads a bare array and {data} alike, whatever the chunk size", async () => {
  const documents = [
    JSON.stringify(TRICKY),
    JSON.stringify({ data: TRICKY, next_cursor: null }),
    JSON.stringify({ next_cursor: 'x",]}', meta: { data: [1, 2] }, data: TRICKY, after: [3] }),
    `\uFEFF  {\n  "data" : [\n ${TRICKY.map((r) => JSON.stringify(r)).join(" ,\n ")} \n ] }\n\n`,
  ];
  for (const text of documents) {
    for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
      const { records } = await readAll(text, size);
      deepEqual(records, TRICKY, `chunk size ${size}: ${text.slice(0, 40)}`);
    }
  }
});

Deno.test("recordBatches() yields one batch per chunk that completes records, never the whole document", async () => {
  const records = Array.from({ length: 1000 }, (_, i) => ({ signal: "a", ts: i, score: i / 10 }));
  const { records: read, batches } = await readAll(JSON.stringify({ data: records }), 1024);
  deepEqual(read, records);
  ok(batches > 10, `${batches} batches`);
});

Deno.test("recordBatches() takes the records from the first array under one of the dialect's names", async () => {
  deepEqual((await readAll('{"items": [1], "rows": [2, 3]}', 4, ["rows", "items"])).records, [1]);
  deepEqual((await readAll('{"data": [], "x": 1}', 3)).records, []);
  deepEqual((await readAll("[]", 1)).records, []);
});

Deno.test("recordBatches() refuses a document that holds no records array", async () => {
  for (const text of ['{"items": [1]}', '{"data": 5}', '{"data": {"a": [1]}}', "42", '"data"', "null"]) {
    equal((await streamError(text)).kind, "no_records", text);
  }
});

Deno.test("recordBatches() refuses broken JSON with a syntax error", async () => {
  for (
    const text of [
      "",
      "   ",
      '{"data": [1, 2',
      '{"data": [{"a": "unterminated]}',
      "[1,,2]",
      "[,1]",
      "[1,]",
      '[{"a": tru}]',
      "[1] [2]",
      '{"data": [1]} x',
      "[1]]",
    ]
  ) {
    equal((await streamError(text)).kind, "syntax", JSON.stringify(text));
  }
});

Deno.test("recordBatches() keeps JSON.parse's SyntaxError as the cause of a syntax error inside a record", async () => {
  const error = await streamError('[{"a": tru}]', 64);
  equal(error.kind, "syntax");
  ok(error.cause instanceof SyntaxError, String(error.cause));
  ok(error.message.startsWith(error.cause.message), error.message);
});

Deno.test("recordBatches() agrees with JSON.parse on random documents and chunkings (property)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.jsonValue(), { maxLength: 30 }),
      fc.dictionary(fc.string().filter((k) => k !== "data"), fc.jsonValue(), { maxKeys: 3 }),
      fc.boolean(),
      fc.integer({ min: 1, max: 50 }),
      async (records, others, bare, size) => {
        const expected = JSON.parse(JSON.stringify(records));
        const text = bare ? JSON.stringify(records) : JSON.stringify({ ...others, data: records });
        const read = await readWithEnvelope(text, size);
        deepEqual(read.records, expected);
        // The envelope is the document with the records array emptied.
        deepEqual(JSON.parse(read.envelope), bare ? [] : JSON.parse(JSON.stringify({ ...others, data: [] })));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("recordBatches() surfaces a failing chunk source", async () => {
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield new TextEncoder().encode('{"data": [1, ');
    throw new Error("disk went away");
  }
  await rejects(async () => {
    for await (const _ of recordBatches(failing(), DATA)) { /* drain */ }
  }, /disk went away/);
});

Deno.test("recordBatches() returns the envelope without the records or the whitespace between tokens", async () => {
  const spaces = " ".repeat(100_000);
  const text =
    `{ "next_cursor" : "a ] b",${spaces}"data": [${spaces}{"x": "]"},${spaces}2${spaces}] ,"page":3}${spaces}`;
  const read = await readWithEnvelope(text, 4096);
  deepEqual(read.records, [{ x: "]" }, 2]);
  equal(read.envelope, '{"next_cursor":"a ] b","data":[],"page":3}');
});
