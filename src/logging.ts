/**
 * LogTape set-up: JSON lines on stdout with implicit per-request contexts. Only `main.ts` calls this; modules
 * call `getLogger(["coherence", …])`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getStreamSink, jsonLinesFormatter, type Sink } from "@logtape/logtape";
import type { LogLevel } from "./config.ts";

export async function configureLogging(
  { level, sink = getStreamSink(Deno.stdout.writable, { formatter: jsonLinesFormatter }) }: {
    level: LogLevel;
    sink?: Sink;
  },
): Promise<void> {
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
