/**
 * Ingest throughput: 1M upstream records parsed (JSON), normalised (zod, aliases, timestamps), deduplicated
 * and indexed into the point store. Figures are per 1M records; records/s = 1e6 / (time in s).
 */
import { PointStore } from "../src/core/point_store.ts";
import { normalizeRecords, recordsOf } from "../src/ingest/normalize.ts";

const COUNT = 1_000_000;
const PAGE = 1000;
const END = Date.parse("2025-10-29T18:00:00Z");
const SIGNALS = ["alpha", "beta", "gamma", "delta"];

/** Upstream pages as the client receives them: JSON text, 1000 records each, RFC 3339 timestamps. */
const pages: string[] = [];
for (let start = 0; start < COUNT; start += PAGE) {
  const data = [];
  for (let i = start; i < start + PAGE; i++) {
    data.push({
      signal: SIGNALS[i % 4],
      timestamp: new Date(END - Math.floor((COUNT - i) / 4) * 1000).toISOString().replace(".000Z", "Z"),
      coherenceScore: Math.round((70 + 20 * Math.sin(i / 997)) * 10) / 10,
      agentStates: { active: 12, idle: 3 },
      eventCount: i % 50,
    });
  }
  pages.push(JSON.stringify({ data, next_cursor: String(start + PAGE) }));
}

Deno.bench("ingest 1M records: JSON.parse + normalise + dedupe + index", { n: 3, warmup: 1 }, () => {
  const store = new PointStore();
  for (const page of pages) {
    const { points } = normalizeRecords(recordsOf(JSON.parse(page))!);
    store.apply(points);
  }
  if (store.size !== COUNT) throw new Error(`expected ${COUNT} points, got ${store.size}`);
});

Deno.bench("ingest 1M records: normalise only (bodies already parsed)", { n: 3, warmup: 1 }, (b) => {
  const parsed = pages.map((page) => recordsOf(JSON.parse(page))!);
  b.start();
  for (const records of parsed) normalizeRecords(records);
  b.end();
});
