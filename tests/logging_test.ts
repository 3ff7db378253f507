import { deepEqual, equal, ok } from "node:assert/strict";
import { configure, dispose, getLogger, jsonLinesFormatter, type LogRecord, reset } from "@logtape/logtape";
import {
  configureLogging,
  getBatchedStreamSink,
  getJsonLinesFormatter,
  levelEnabled,
} from "../src/logging.ts";

/** A sink stream that drops everything (each configuration locks its own). */
const discard = () => new WritableStream<Uint8Array>();

Deno.test("levelEnabled() follows the configured level and notices reconfiguration", async () => {
  const info = levelEnabled(["coherence", "http"], "info");
  const error = levelEnabled(["coherence", "http"], "error");
  try {
    await configureLogging({ level: "warning", stream: discard() });
    equal(info(), false);
    equal(error(), true);
    await configureLogging({ level: "info", stream: discard() });
    equal(info(), true);
    await configureLogging({ level: "fatal", stream: discard() });
    equal(error(), false);
  } finally {
    await reset();
  }
});

Deno.test("levelEnabled() is true when LogTape is not configured (nothing is skipped)", async () => {
  await reset();
  equal(levelEnabled(["coherence"], "debug")(), true);
});

Deno.test("levelEnabled() applies LogTape's chain: the most specific logger's level, then a parent's sinks", async () => {
  try {
    await configure({
      reset: true,
      sinks: { mem: () => {} },
      loggers: [
        { category: "coherence", lowestLevel: "debug", sinks: ["mem"] },
        { category: ["coherence", "http"], lowestLevel: "error" },
        { category: ["coherence", "quiet"], lowestLevel: "trace", parentSinks: "override" },
        { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mem"] },
      ],
    });
    equal(levelEnabled(["coherence", "http"], "info")(), false);
    equal(levelEnabled(["coherence", "http", "deep"], "error")(), true);
    equal(levelEnabled(["coherence", "metrics"], "debug")(), true);
    equal(levelEnabled(["coherence", "quiet"], "fatal")(), false);
    equal(levelEnabled(["other"], "fatal")(), false);
  } finally {
    await reset();
  }
});

Deno.test("configureLogging() never writes the user info of a URL, whoever logs it", async () => {
  let line = "";
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void (line += decoder.decode(chunk, { stream: true })),
  });
  try {
    await configureLogging({ level: "info", stream });
    getLogger(["coherence", "test"]).error("delivery to {url} failed", {
      url: "https://hook:P4ssw0rd@alerts.example/v1",
      error: "fetch https://hook:P4ssw0rd@alerts.example/v1 refused",
    });
  } finally {
    await dispose(); // flushes the buffered sink
  }
  ok(line.includes("https://***@alerts.example/v1"), line);
  ok(!line.includes("P4ssw0rd"), line);
});

/** A record whose message is `text`. */
function record(text: string): LogRecord {
  return {
    category: ["coherence", "test"],
    level: "info",
    timestamp: 0,
    rawMessage: text,
    message: [text],
    properties: {},
  };
}

/** A stream collecting each written chunk as text; `hold()` makes writes wait until `release()`. */
function recordingStream() {
  const chunks: string[] = [];
  let gate: PromiseWithResolvers<void> | null = null;
  let closed = false;
  const written: PromiseWithResolvers<void>[] = [Promise.withResolvers()];
  const stream = new WritableStream<Uint8Array>({
    async write(chunk) {
      chunks.push(new TextDecoder().decode(chunk));
      written.at(-1)!.resolve();
      written.push(Promise.withResolvers());
      if (gate) await gate.promise;
    },
    close() {
      closed = true;
    },
  });
  return {
    stream,
    chunks,
    /** Messages of each chunk's lines. */
    batches: () => chunks.map((c) => c.trimEnd().split("\n").map((line) => JSON.parse(line).message)),
    nextWrite: () => written.at(-1)!.promise,
    hold: () => void (gate = Promise.withResolvers()),
    release: () => gate?.resolve(),
    closed: () => closed,
  };
}

Deno.test("getBatchedStreamSink() writes a full batch as one chunk and joins lines arriving meanwhile to the next", async () => {
  const out = recordingStream();
  const sink = getBatchedStreamSink(out.stream, { batchLines: 3, flushIntervalMs: 60_000 });
  for (let i = 1; i <= 7; i++) sink(record(`line ${i}`));
  await sink[Symbol.asyncDispose]();
  deepEqual(out.batches(), [
    ["line 1", "line 2", "line 3"],
    ["line 4", "line 5", "line 6", "line 7"],
  ]);
});

Deno.test("getBatchedStreamSink() writes a partial batch once its first line is flushIntervalMs old", async () => {
  const out = recordingStream();
  const sink = getBatchedStreamSink(out.stream, { batchLines: 100, flushIntervalMs: 1 });
  try {
    sink(record("alone"));
    sink(record("and another"));
    equal(out.chunks.length, 0, "nothing is written before the interval");
    await out.nextWrite();
    deepEqual(out.batches(), [["alone", "and another"]]);
  } finally {
    await sink[Symbol.asyncDispose]();
  }
});

Deno.test("getBatchedStreamSink() writes what is left and closes the stream when disposed", async () => {
  const out = recordingStream();
  const sink = getBatchedStreamSink(out.stream, { batchLines: 100, flushIntervalMs: 60_000 });
  sink(record("last words"));
  await sink[Symbol.asyncDispose]();
  deepEqual(out.batches(), [["last words"]]);
  ok(out.closed());
  sink(record("after the end"));
  equal(out.chunks.length, 1, "records after disposal are ignored");
});

Deno.test("getBatchedStreamSink() drops lines past maxPendingLines while a write is stalled, and says how many", async () => {
  const out = recordingStream();
  const sink = getBatchedStreamSink(out.stream, {
    batchLines: 1,
    flushIntervalMs: 60_000,
    maxPendingLines: 2,
  });
  out.hold();
  sink(record("first"));
  await out.nextWrite();
  for (const text of ["second", "third", "fourth", "fifth"]) sink(record(text));
  out.release();
  await sink[Symbol.asyncDispose]();
  deepEqual(out.batches(), [
    ["first"],
    ["second", "third", "Dropped 2 log lines: the log stream is slower than the lines arrive"],
  ]);
});

Deno.test("configureLogging() flushes buffered lines on reset (LogTape's dispose)", async () => {
  const out = recordingStream();
  await configureLogging({ level: "info", stream: out.stream });
  try {
    getLogger(["coherence", "test"]).info("buffered");
    equal(out.chunks.length, 0, "the line waits for its batch");
  } finally {
    await reset();
  }
  deepEqual(out.batches(), [["buffered"]]);
  ok(out.closed());
});

Deno.test("getJsonLinesFormatter() writes exactly LogTape's jsonLinesFormatter lines, also when the timestamp or logger changes", () => {
  const format = getJsonLinesFormatter();
  const base = record("request");
  const records: LogRecord[] = [
    { ...base, timestamp: 1_700_000_000_123, properties: { requestId: "r-1", status: 200, latencyMs: 0.25 } },
    { ...base, timestamp: 1_700_000_000_123, properties: { requestId: "r-2", path: '/a "quoted"\n' } },
    {
      ...base,
      category: ["coherence", "metrics"],
      level: "warning",
      timestamp: 1_700_000_000_124,
      rawMessage: "computed {n} points for {signal}",
      message: ["computed ", 42, " points for ", "alpha", ""],
      properties: { n: 42, signal: "alpha", nested: { list: [1, null], missing: undefined } },
    },
    { ...base, level: "error", timestamp: 0, message: ["failed: ", { code: 7 }, ""] },
    { ...base, level: "fatal", timestamp: 1_700_000_000_124, category: ["logtape", "meta"] },
    { ...base, level: "debug", timestamp: 1_700_000_000_124 },
  ];
  for (const r of records) equal(format(r), jsonLinesFormatter(r));
});
