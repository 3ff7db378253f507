/**
 * Snapshot store throughput: appends of 1000 rows per call and of single rows, and history reads returning
 * 10k rows and the newest 100 (from a store holding 20k rows over two series), for sqlite, csv and kv, each on
 * files in a temp dir.
 *
 *   deno bench --allow-all bench/persistence_bench.ts
 */
import { join } from "node:path";
import { toRfc3339 } from "../src/core/report.ts";
import { openSnapshotStore } from "../src/persistence/open_store.ts";
import type { SnapshotRow, SnapshotStore } from "../src/persistence/snapshot.ts";

const MODES = ["sqlite", "csv", "kv"] as const;
const BASE_MS = Date.UTC(2024, 4, 1);

function rows(count: number, signal: string, offset = 0): SnapshotRow[] {
  return Array.from({ length: count }, (_, k) => {
    const i = offset + k;
    const ms = BASE_MS + i * 60_000;
    return {
      computed_at: toRfc3339(ms),
      signal,
      window_sec: 3600,
      start_ts: toRfc3339(ms - 3_600_000),
      end_ts: toRfc3339(ms),
      n: 3600,
      mean: 0.8 + Math.sin(i) / 10,
      stdev: 0.05 + Math.cos(i) / 100,
      volatility_index: 0.0625 + Math.sin(i) / 1000,
      risk: "low",
      source: "darshan_api",
      engine_version: "0.1.0",
    };
  });
}

const dir = await Deno.makeTempDir({ prefix: "persistence_bench_" });
const opened: SnapshotStore[] = [];
globalThis.addEventListener("unload", () => {
  for (const store of opened) store.close();
  Deno.removeSync(dir, { recursive: true });
});

async function open(mode: (typeof MODES)[number], name: string): Promise<SnapshotStore> {
  const dataDir = join(dir, mode, name);
  await Deno.mkdir(dataDir, { recursive: true }); // kv does not create DATA_DIR
  const store = await openSnapshotStore(mode, { dataDir, kvPath: join(dataDir, "rolling_store.kv") });
  opened.push(store);
  return store;
}

const query = { signal: "alpha", windowSec: 3600, limit: 10_000 };

for (const mode of MODES) {
  const bulk = await open(mode, "bulk");
  const one = await open(mode, "single");
  const read = await open(mode, "read");
  for (let offset = 0; offset < 10_000; offset += 1000) {
    await read.append([...rows(1000, "alpha", offset), ...rows(1000, "beta", offset)]);
  }
  // Appends move forward in time, as ingest does; the rows are built outside the timed section.
  let bulkOffset = 0;
  let oneOffset = 0;

  Deno.bench(
    `${mode}: append 1000 rows in one call`,
    { group: "append 1000 rows", n: 200, warmup: 10 },
    async (b) => {
      const batch = rows(1000, "alpha", bulkOffset);
      bulkOffset += 1000;
      b.start();
      await bulk.append(batch);
      b.end();
    },
  );
  Deno.bench(`${mode}: append 1 row`, { group: "append 1 row", n: 2000, warmup: 50 }, async (b) => {
    const batch = rows(1, "alpha", oneOffset++);
    b.start();
    await one.append(batch);
    b.end();
  });
  Deno.bench(
    `${mode}: history of 10k rows (of 20k)`,
    { group: "history 10k", n: 50, warmup: 5 },
    async () => {
      const result = await read.history(query);
      if (result.length !== 10_000) throw new Error(`expected 10000 rows, got ${result.length}`);
    },
  );
  Deno.bench(
    `${mode}: history, newest 100 (of 20k)`,
    { group: "history newest 100", n: 100, warmup: 5 },
    async () => {
      const result = await read.history({ ...query, limit: 100 });
      if (result.length !== 100) throw new Error(`expected 100 rows, got ${result.length}`);
    },
  );
}
