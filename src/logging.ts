/**
 * LogTape set-up: JSON lines on stdout with implicit per-request contexts. Only `main.ts` calls this; modules
 * call `getLogger(["coherence", …])`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { configure, getStreamSink, jsonLinesFormatter } from "@logtape/logtape";
import type { LogLevel } from "./config.ts";

/** JSON lines to `stream` (stdout by default) at `level` and above. */
export async function configureLogging(
  { level, stream = Deno.stdout.writable }: { level: LogLevel; stream?: WritableStream<Uint8Array> },
): Promise<void> {
  const sink = getStreamSink(stream, { formatter: jsonLinesFormatter });
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
