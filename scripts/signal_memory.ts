/**
 * Memory per held signal (docs/SCALING.md, "What one instance can hold"): the fixed cost of a series beside
 * its points. Loads `--signals` signals (default 100,000) of `--points` points each (default 1, then 10 and
 * 100, each in its own process) into a PointStore, as the poller's staged apply does, and prints the heap + array-buffer bytes after a
 * forced GC, per signal and per point, and what that gives per GB.
 *
 *   deno run --allow-all --v8-flags=--expose-gc scripts/signal_memory.ts [--signals 100000]
 *
 * @module
 */
import { PointStore } from "../src/core/point_store.ts";
import { flag } from "./perf_util.ts";

const SIGNALS = Number(flag("signals", "100000"));
const GB = 2 ** 30;

function collect(): void {
  const gc = Reflect.get(globalThis, "gc");
  if (typeof gc !== "function") throw new Error("run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) gc();
}

function held(): number {
  const { heapUsed, external } = Deno.memoryUsage();
  return heapUsed + external;
}

// One size per process: a store freed in the same process would blur the next measurement.
const sizes = Deno.args.includes("--points") ? [Number(flag("points", "1"))] : [1, 10, 100];
if (sizes.length > 1) {
  for (const size of sizes) {
    const { success } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        "--signals",
        String(SIGNALS),
        "--points",
        String(size),
      ],
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!success) Deno.exit(1);
  }
  Deno.exit(0);
}

for (const perSignal of sizes) {
  collect();
  const before = held();
  const store = new PointStore();
  const t0 = Date.parse("2026-01-01T00:00:00Z");
  for (let s = 0; s < SIGNALS; s++) {
    const ts = Float64Array.from({ length: perSignal }, (_, i) => t0 + i * 60_000);
    const score = Float64Array.from({ length: perSignal }, (_, i) => 50 + ((s + i) % 50));
    store.applyColumns(`host-${String(s).padStart(6, "0")}/metric`, ts, score);
  }
  collect();
  const bytes = held() - before;
  const perSignalBytes = bytes / SIGNALS;
  console.log(
    `${SIGNALS} signals × ${perSignal} points: ${(bytes / 2 ** 20).toFixed(1)} MiB = ` +
      `${perSignalBytes.toFixed(0)} B/signal (${(perSignalBytes / perSignal).toFixed(1)} B/point); ` +
      `${(GB / perSignalBytes / 1e6).toFixed(2)} M such signals per GB (store ${store.size} points)`,
  );
  // Keep the store alive until measured.
  if (store.signalCount !== SIGNALS) throw new Error("lost signals");
}
