/**
 * The access-log line's pieces that `src/logging.ts` chose, each against LogTape's own: the JSON Lines
 * formatter, and the sink (format, buffer and write one record; the stream discards the bytes).
 */
import { getStreamSink, jsonLinesFormatter, type LogRecord } from "@logtape/logtape";
import { getBatchedStreamSink, getJsonLinesFormatter } from "../src/logging.ts";

const record: LogRecord = {
  category: ["coherence", "http"],
  level: "info",
  timestamp: Date.now(),
  rawMessage: "request",
  message: ["request"],
  properties: {
    requestId: "0b6f1d9e-8c3a-4c1e-9d4b-2f6a7e5c1b30",
    method: "GET",
    path: "/coherence/metrics",
    route: "/coherence/metrics",
    status: 200,
    latencyMs: 0.412,
  },
};

const discard = () => new WritableStream<Uint8Array>();
const formatter = getJsonLinesFormatter();

Deno.bench("LogTape's jsonLinesFormatter, an access-log line", { group: "formatter", baseline: true }, () => {
  jsonLinesFormatter(record);
});

Deno.bench("getJsonLinesFormatter() (same bytes), an access-log line", { group: "formatter" }, () => {
  formatter(record);
});

const streamSink = getStreamSink(discard(), {
  formatter: jsonLinesFormatter,
  nonBlocking: { bufferSize: 256, flushInterval: 100 },
});
const batchedSink = getBatchedStreamSink(discard());

Deno.bench(
  "LogTape's getStreamSink(nonBlocking), one record",
  { group: "sink", baseline: true },
  async () => {
    streamSink(record);
    await Promise.resolve(); // let the writes the sink started run, as they do between requests
  },
);

Deno.bench("getBatchedStreamSink(), one record", { group: "sink" }, async () => {
  batchedSink(record);
  await Promise.resolve();
});
