/**
 * LogTape set-up: JSON lines on stdout with implicit per-request contexts. Only `main.ts` calls this; modules
 * call `getLogger(["coherence", …])`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  compareLogLevel,
  type Config as LogTapeConfig,
  configure,
  getConfig,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";
import type { LogLevel } from "./config.ts";
import { redactUserInfo } from "./core/redact.ts";

/**
 * JSON lines to `stream` (stdout by default) at `level` and above, written in batches by
 * {@linkcode getBatchedStreamSink} (flushed on shutdown by LogTape's `dispose()`; a crash can lose at most the
 * last `flushIntervalMs` of lines).
 */
export async function configureLogging(
  { level, stream = Deno.stdout.writable }: { level: LogLevel; stream?: WritableStream<Uint8Array> },
): Promise<void> {
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { out: getBatchedStreamSink(stream, { formatter: redactingFormatter(getJsonLinesFormatter()) }) },
    loggers: [
      { category: ["coherence"], lowestLevel: level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** `format`, with the user info of any URL in the line (scheme://user:password@host) shown as `***`. */
function redactingFormatter(format: TextFormatter): TextFormatter {
  return (record) => redactUserInfo(format(record));
}

export interface BatchedStreamSinkOptions {
  /** Turns a record into one line (with its newline). {@linkcode getJsonLinesFormatter}`()` by default. */
  formatter?: TextFormatter;
  /** Lines that start a write at once. */
  batchLines?: number;
  /** Longest a line waits for its batch, ms. */
  flushIntervalMs?: number;
  /**
   * Lines held while a write is in flight before new ones are dropped (counted, and reported by a warning line
   * in the next batch): bounds the memory a stalled stream can take.
   */
  maxPendingLines?: number;
}

/**
 * A LogTape sink that formats each record at once and writes the lines to `stream` in batches: one string,
 * one `TextEncoder` pass and one `write()` per batch, with at most one write in flight (lines arriving
 * meanwhile join the next batch, so a slow stream gets fewer, larger writes). A batch is written when it
 * holds `batchLines` lines or its first line is `flushIntervalMs` old. Disposing it (LogTape's `dispose()` or
 * `reset()`) writes what is left and closes the stream.
 *
 * LogTape's own `getStreamSink(…, { nonBlocking })` buffers records but still encodes and writes them one by
 * one, an async write per line, and drops the oldest when twice its buffer is waiting; at thousands of lines
 * a second that write path was the largest cost of the access log.
 */
export function getBatchedStreamSink(
  stream: WritableStream<Uint8Array>,
  { formatter = getJsonLinesFormatter(), batchLines = 256, flushIntervalMs = 100, maxPendingLines = 65_536 }:
    BatchedStreamSinkOptions = {},
): Sink & AsyncDisposable {
  const writer = stream.getWriter();
  const encoder = new TextEncoder();
  let pending = "";
  let lines = 0;
  let dropped = 0;
  let writing: Promise<void> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let disposed = false;

  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      write();
    }, flushIntervalMs);
  };
  const write = () => {
    clearTimeout(timer);
    timer = undefined;
    if (writing !== null || (lines === 0 && dropped === 0)) return;
    if (dropped > 0) pending += formatter(droppedRecord(dropped));
    const bytes = encoder.encode(pending);
    pending = "";
    lines = 0;
    dropped = 0;
    writing = writer.write(bytes).catch(() => {}).then(() => {
      writing = null;
      if (lines >= batchLines || (disposed && lines > 0)) write();
      else if (lines > 0) schedule();
    });
  };
  const sink: Sink & AsyncDisposable = (record) => {
    if (disposed) return;
    if (lines >= maxPendingLines) {
      dropped++;
      return;
    }
    pending += formatter(record);
    if (++lines >= batchLines) write();
    else schedule();
  };
  sink[Symbol.asyncDispose] = async () => {
    disposed = true;
    write();
    while (writing !== null) await writing;
    await writer.close().catch(() => {});
  };
  return sink;
}

/** LogTape's level names in its JSON Lines format, as JSON strings. */
const JSON_LEVELS: Record<LogRecord["level"], string> = {
  trace: '"TRACE"',
  debug: '"DEBUG"',
  info: '"INFO"',
  warning: '"WARN"',
  error: '"ERROR"',
  fatal: '"FATAL"',
};

/**
 * LogTape's default JSON Lines format (`jsonLinesFormatter`), byte for byte:
 * `{"@timestamp":…,"level":…,"message":…,"logger":…,"properties":{…}}` and a newline. Cheaper for the lines
 * a busy service writes: one `JSON.stringify` of the properties rather than of the whole line, and the
 * timestamp text and logger name reused from the previous line when they are the same (at thousands of lines
 * a second most lines share their millisecond and their logger). Each formatter keeps its own last values.
 */
export function getJsonLinesFormatter(): TextFormatter {
  let lastTimestamp = NaN;
  let lastIso = "";
  let lastCategory: readonly string[] | null = null;
  let lastLogger = "";
  return (record) => {
    if (record.timestamp !== lastTimestamp) {
      lastIso = JSON.stringify(new Date(record.timestamp).toISOString());
      lastTimestamp = record.timestamp;
    }
    if (record.category !== lastCategory) {
      lastLogger = JSON.stringify(record.category.join("."));
      lastCategory = record.category;
    }
    const parts = record.message;
    let message: unknown = parts[0];
    for (let i = 1; i < parts.length; i++) {
      message = `${message}${i & 1 ? JSON.stringify(parts[i]) : parts[i]}`;
    }
    const properties = JSON.stringify(record.properties);
    return `{"@timestamp":${lastIso},"level":${JSON_LEVELS[record.level]},"message":${
      JSON.stringify(message)
    },"logger":${lastLogger}${properties === undefined ? "" : `,"properties":${properties}`}}\n`;
  };
}

/** The warning line that stands for `count` dropped lines. */
function droppedRecord(count: number): LogRecord {
  const rawMessage = "Dropped {count} log lines: the log stream is slower than the lines arrive";
  return {
    category: ["logtape", "meta"],
    level: "warning",
    timestamp: Date.now(),
    rawMessage,
    message: ["Dropped ", count, " log lines: the log stream is slower than the lines arrive"],
    properties: { count },
  };
}

/**
 * A check, cheap enough for every request, of whether a record of `level` from the logger `category` reaches
 * any sink under the current LogTape configuration. LogTape builds the whole record (context, properties,
 * message) before its own level check, which costs microseconds per request even when nothing is written;
 * hot paths ask this first. The answer is recomputed whenever the configuration object changes. Loggers with
 * filters are assumed to pass (the check may say yes when LogTape would drop the record, never the reverse).
 */
export function levelEnabled(category: readonly string[], level: LogLevel): () => boolean {
  let seen: LogTapeConfig<string, string> | null | undefined = undefined;
  let enabled = true;
  return () => {
    const config = getConfig();
    if (config !== seen) {
      seen = config;
      enabled = config === null || reachesSink(config, category, level);
    }
    return enabled;
  };
}

/** LogTape's rule: every logger from `category` up to one with sinks must admit `level`. */
function reachesSink(
  config: LogTapeConfig<string, string>,
  category: readonly string[],
  level: LogLevel,
): boolean {
  const chain = config.loggers
    .map((logger) => ({
      logger,
      path: typeof logger.category === "string" ? [logger.category] : logger.category,
    }))
    .filter(({ path }) => path.length <= category.length && path.every((part, i) => part === category[i]))
    .sort((a, b) => b.path.length - a.path.length);
  for (const { logger } of chain) {
    if ((logger.filters?.length ?? 0) > 0) return true;
    if (logger.lowestLevel === null) return false;
    if (compareLogLevel(level, logger.lowestLevel ?? "trace") < 0) return false;
    if ((logger.sinks?.length ?? 0) > 0) return true;
    if (logger.parentSinks === "override") return false;
  }
  return false;
}
