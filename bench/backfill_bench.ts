/**
 * A 1M-record backfill from the mock upstream over loopback HTTP: the real client (pagination, JSON,
 * normalisation) and poller into the point store. Target: under 10 s.
 */
import { PointStore } from "../src/core/point_store.ts";
import { createDarshanClient } from "../src/ingest/darshan_client.ts";
import { createPoller } from "../src/ingest/poller.ts";
import { createMockDarshan, generateRecords, mulberry32 } from "../src/mock/darshan_server.ts";

const COUNT = 1_000_000;
const NOW = Date.parse("2025-10-29T18:00:00Z");
// 4 signals at a 300 ms cadence: 1M records span about 21 h, inside a 24 h backfill.
const records = generateRecords(COUNT, {
  random: mulberry32(1),
  endMs: NOW,
  stepMs: 300,
  signals: ["alpha", "beta", "gamma", "delta"],
});
const mock = createMockDarshan({ records, apiKey: "bench", maxPageSize: 10_000 });
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, mock.app.fetch);
const baseUrl = `http://127.0.0.1:${server.addr.port}`;

for (const pageSize of [1000, 10_000]) {
  Deno.bench(
    `backfill 1M records from the mock upstream, page_size ${pageSize}`,
    { n: 2, warmup: 0 },
    async () => {
      const store = new PointStore();
      const source = createDarshanClient({ baseUrl, apiKey: "bench", pageSize });
      const poller = createPoller({
        source,
        store,
        maxWindowSec: 86_400,
        overlapSec: 300,
        intervalSec: 60,
        now: () => NOW,
      });
      const cycle = await poller.runCycle();
      if (!cycle.ok || store.size !== COUNT) {
        throw new Error(`backfill failed: ${cycle.error} (${store.size} held)`);
      }
    },
  );
}

globalThis.addEventListener("unload", () => {
  mock.close();
  server.shutdown();
});
