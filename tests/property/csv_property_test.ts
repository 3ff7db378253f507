/** Property test: any valid snapshot rows round-trip exactly through the CSV store. */
import { deepEqual } from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import { openCsvStore } from "../../src/persistence/csv_store.ts";
import type { SnapshotRow } from "../../src/persistence/snapshot.ts";

const T0 = Date.parse("2025-10-29T00:00:00Z");
const nullableNumber = fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null });
const text = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));

const row = (i: number) =>
  fc.record({
    signal: fc.oneof(text, fc.constant("*")),
    n: fc.nat(),
    mean: nullableNumber,
    stdev: nullableNumber,
    volatility_index: nullableNumber,
    risk: fc.constantFrom("low", "medium", "high", "unknown" as const),
    source: text,
  }).map((r): SnapshotRow => ({
    ...r,
    computed_at: new Date(T0 + i * 1000).toISOString(),
    window_sec: 3600,
    start_ts: new Date(T0 + i * 1000 - 3_600_000).toISOString(),
    end_ts: new Date(T0 + i * 1000).toISOString(),
    engine_version: "0.1.0",
  }));

Deno.test("CSV store: any valid rows read back exactly as written (quotes, commas, unicode, extreme floats)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { minLength: 1, maxLength: 8 }).chain((xs) =>
          fc.tuple(...xs.map((_, i) => row(i)))
        ),
        async (rows) => {
          const store = await openCsvStore(join(dir, `store-${run++}.csv`));
          try {
            await store.append(rows);
            for (const signal of new Set(rows.map((r) => r.signal))) {
              const back = await store.history({ signal, windowSec: 3600, limit: 100 });
              deepEqual(back, rows.filter((r) => r.signal === signal));
            }
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
