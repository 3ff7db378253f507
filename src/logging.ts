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
  getStreamSink,
  jsonLinesFormatter,
} from "@logtape/logtape";
import type { LogLevel } from "./config.ts";
import { redactUserInfo } from "./core/redact.ts";

/**
 * JSON lines to `stream` (stdout by default) at `level` and above. Lines are buffered (up to 256 records or
 * 100 ms) and written in batches: a write per line under load queues a promise per record faster than stdout
 * drains, which grows the heap and stalls requests in garbage collection. The buffer is flushed on shutdown
 * (LogTape's `dispose()`); a crash can lose at most the last 100 ms of lines.
 */
export async function configureLogging(
  { level, stream = Deno.stdout.writable }: { level: LogLevel; stream?: WritableStream<Uint8Array> },
): Promise<void> {
  const sink = getStreamSink(stream, {
    // No line prints the user info of a URL (scheme://user:password@host), whoever logged it.
    formatter: (record) => redactUserInfo(jsonLinesFormatter(record)),
    nonBlocking: { bufferSize: 256, flushInterval: 100 },
  });
  await configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { out: sink },
    loggers: [
      { category: ["coherence"], lowestLevel: level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
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
