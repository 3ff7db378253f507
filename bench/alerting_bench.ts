/**
 * Alert evaluation of one ingest cycle of 10,000 signals × 2 windows (20,002 snapshot rows with the pooled
 * keys): a steady cycle (no transition), and a cycle where every key changes level (20,002 transitions
 * appended to the memory log in one call). After the benches, the longest stretch between two pauses of the
 * sliced evaluation is printed (what a request waiting on the event loop could be held up by).
 *
 *   deno bench --allow-all bench/alerting_bench.ts
 */
import { createAlerting } from "../src/alerts/alerting.ts";
import { toRfc3339 } from "../src/core/report.ts";
import { DEFAULT_THRESHOLDS } from "../src/core/risk.ts";
import { nextMacrotask } from "../src/core/sleep.ts";
import { createMemoryTransitionLog } from "../src/persistence/memory_transitions.ts";
import type { SnapshotRow } from "../src/persistence/snapshot.ts";

const SIGNALS = 10_000;
const WINDOWS = [3600, 86400];
const T0 = Date.UTC(2026, 0, 1);
const settings = { forMs: 0, recoveryMargin: 1, thresholds: DEFAULT_THRESHOLDS };

function cycle(i: number, mean: number): SnapshotRow[] {
  const at = toRfc3339(T0 + i * 30_000);
  const rows: SnapshotRow[] = [];
  for (const windowSec of WINDOWS) {
    for (let s = 0; s <= SIGNALS; s++) {
      rows.push({
        computed_at: at,
        signal: s === SIGNALS ? "*" : `signal-${s}`,
        window_sec: windowSec,
        start_ts: at,
        end_ts: at,
        n: 120,
        mean,
        stdev: 2,
        volatility_index: 2 / mean,
        risk: "low",
        source: "darshan_api",
        engine_version: "0.1.0",
      });
    }
  }
  return rows;
}

const steadyRows = cycle(1, 90);
const steady = createAlerting({ log: createMemoryTransitionLog(), settings, windows: WINDOWS });
await steady.evaluate(cycle(0, 90));

Deno.bench("evaluate 20,002 rows, no transition", { group: "alerting", baseline: true }, async () => {
  await steady.evaluate(steadyRows);
});

let flip = 0;
const flipping = createAlerting({
  log: createMemoryTransitionLog({ maxTransitions: 1_000_000 }),
  settings,
  windows: WINDOWS,
});
Deno.bench("evaluate 20,002 rows, every key changes level (20,002 transitions appended)", {
  group: "alerting",
}, async (b) => {
  flip++;
  const rows = cycle(flip + 1, flip % 2 === 0 ? 90 : 70);
  b.start();
  await flipping.evaluate(rows);
  b.end();
});

// The longest synchronous stretch of a sliced evaluation, for the record (printed once).
let last = 0;
let longest = 0;
const timed = createAlerting({
  log: createMemoryTransitionLog(),
  settings,
  windows: WINDOWS,
  pause: async () => {
    longest = Math.max(longest, performance.now() - last);
    await nextMacrotask();
    last = performance.now();
  },
});
last = performance.now();
await timed.evaluate(cycle(0, 90));
longest = Math.max(longest, performance.now() - last);
console.log(`longest stretch between pauses (a cycle with 20,002 transitions): ${longest.toFixed(1)} ms`);
