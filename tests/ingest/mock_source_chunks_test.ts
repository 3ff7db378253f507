import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { PointStore } from "../../src/core/point_store.ts";
import {
  createMockSource,
  loadMockFile,
  loadMockFileInChunks,
  MockFileError,
} from "../../src/ingest/mock_source.ts";
import { createPoller } from "../../src/ingest/poller.ts";

const PATH = "/data/mock/big.json";
const OPTS = { requestId: "test-request" };

/** Two signals over three minutes, a corrected copy, and three invalid records. */
const RECORDS = [
  { signal: "alpha", timestamp: "2025-10-29T10:00:00Z", coherenceScore: 81.5, eventCount: 4 },
  { signal_id: "beta", timestamp: 1761732000, coherence_score: 64 },
  { signal: "alpha", timestamp: "2025-10-29T10:01:00Z", coherenceScore: 82.25 },
  { signal: "beta", timestamp: "2025-10-29T10:01:00Z", coherenceScore: 65 },
  { signal: "alpha", timestamp: "2025-10-29T10:02:00Z", coherenceScore: 0 },
  { signal: "alpha", timestamp: "2025-10-29T10:01:00Z", coherenceScore: 83 },
  { signal: "alpha", timestamp: "2025-10-29T10:02:30Z", coherenceScore: 150 },
  { signal: "beta", coherenceScore: 70 },
  "not a record",
];

function chunker(text: string) {
  const bytes = new TextEncoder().encode(text);
  return async function* (_path: string | URL, size: number): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
  };
}

async function errorMessage(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    ok(error instanceof MockFileError, `expected a MockFileError, got ${error}`);
    return error.message;
  }
  throw new Error("expected a MockFileError");
}

Deno.test("loadMockFileInChunks() holds the same points, counts and rejects as loadMockFile()", async () => {
  const text = JSON.stringify({ data: RECORDS, next_cursor: null });
  const whole = await loadMockFile(PATH, { readTextFile: () => Promise.resolve(text) });
  for (const chunkBytes of [1, 16, 65_536]) {
    const chunked = await loadMockFileInChunks(PATH, { chunkBytes }, chunker(text));
    equal(chunked.records, whole.records);
    deepEqual(chunked.rejected, whole.rejected);
    deepEqual(chunked.points, []);
    for (const signal of ["alpha", "beta"]) {
      const expected = whole.points.filter((p) => p.signal === signal);
      const columns = chunked.columns.find((c) => c.signal === signal)!;
      deepEqual([...columns.ts], expected.map((p) => p.ts), `${signal} ts, chunks of ${chunkBytes}`);
      deepEqual(
        [...columns.score],
        expected.map((p) => p.score),
        `${signal} scores, chunks of ${chunkBytes}`,
      );
    }
  }
});

Deno.test("loadMockFileInChunks() fails with MockFileErrors naming the file", async () => {
  const unreadable = async function* (): AsyncGenerator<Uint8Array> {
    yield* [];
    throw new Deno.errors.NotFound("No such file or directory");
  };
  ok(
    (await errorMessage(() => loadMockFileInChunks(PATH, {}, unreadable))).startsWith(
      `Cannot read mock file ${PATH}`,
    ),
  );
  ok(
    (await errorMessage(() => loadMockFileInChunks(PATH, {}, chunker('{"data": [1,')))).startsWith(
      `Cannot parse mock file ${PATH}`,
    ),
  );
  equal(
    await errorMessage(() => loadMockFileInChunks(PATH, {}, chunker('{"items": []}'))),
    `Mock file ${PATH} has no records: expected { "data": [...] } or a bare array of records`,
  );
});

Deno.test("createMockSource() reads a file above streamAboveBytes in chunks; the poller applies it in one cycle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "big.json");
    await Deno.writeTextFile(path, JSON.stringify({ data: RECORDS }));
    const source = createMockSource({ path, replay: false, streamAboveBytes: 0 });
    const store = new PointStore();
    const poller = createPoller({ source, store, maxWindowSec: 3600, overlapSec: 300, intervalSec: 60 });
    const cycle = await poller.runCycle();
    ok(cycle.ok, cycle.error ?? "");
    equal(cycle.received, RECORDS.length);
    equal(cycle.accepted, 6);
    equal(cycle.inserted, 5);
    equal(cycle.updated, 1);
    equal(cycle.rejected, 3);
    equal(store.size, 5);
    deepEqual(store.points("alpha", 0, Number.MAX_SAFE_INTEGER).map((p) => p.score), [81.5, 83, 0]);
    const second = await source.pull(0, Date.now(), OPTS);
    deepEqual(second.points, []);
    equal(second.columns, undefined);

    const replayed = createMockSource({ path, replay: true, streamAboveBytes: 0, anchorMs: Date.now() });
    const first = await replayed.pull(0, Date.now(), OPTS);
    equal(first.points.length, 6);
    equal(first.stats.received, RECORDS.length);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createMockSource() reports an unreadable large file as a read error", async () => {
  // streamAboveBytes −1: even the size of a missing file (0) takes the chunked path.
  const source = createMockSource({ path: "/nonexistent/big.json", replay: false, streamAboveBytes: -1 });
  const message = await errorMessage(() => source.pull(0, 1, OPTS));
  ok(message.startsWith("Cannot read mock file /nonexistent/big.json"), message);
});
