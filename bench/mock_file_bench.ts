/**
 * Loading a 1M-record mock file (MOCK_PATH with MOCK_REPLAY=false) the way the service does: read in 64 KiB
 * chunks, each chunk's records parsed and normalised into columns per signal, then applied to an empty store.
 * The file (about 133 MB, upstream shape) is generated into a temp dir at module load.
 *
 *   deno bench --allow-all bench/mock_file_bench.ts
 */
import { PointStore } from "../src/core/point_store.ts";
import { loadMockFileInChunks } from "../src/ingest/mock_source.ts";
import { writeMockFile } from "../scripts/gen_points.ts";

const COUNT = 1_000_000;
const dir = await Deno.makeTempDir({ prefix: "mock_file_bench_" });
const path = `${dir}/points.json`;
await writeMockFile(path, { count: COUNT, endMs: Date.parse("2025-10-29T18:00:00Z") });

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

Deno.bench(
  "mock file, 1M records: chunked read + parse + normalise + index",
  { n: 3, warmup: 1 },
  async () => {
    const file = await loadMockFileInChunks(path);
    const store = new PointStore();
    for (const { signal, ts, score } of file.columns) store.applyColumns(signal, ts, score);
    if (store.size !== COUNT) throw new Error(`expected ${COUNT} points, got ${store.size}`);
  },
);
