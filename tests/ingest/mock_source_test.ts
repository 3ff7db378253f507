import assert from "node:assert/strict";
import {
  BUNDLED_FIXTURE,
  checkMockFile,
  createMockSource,
  loadMockFile,
  MockFileError,
} from "../../src/ingest/mock_source.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const PATH = "/data/mock/signals.json";
/** Start-up time: where the newest record lands. */
const ANCHOR = Date.parse("2026-02-01T12:00:00Z");
const OPTS = { requestId: "test-request" };

/** Three minutes of two signals, plus two invalid records. Newest at 10:02. */
const RECORDS = [
  { signal: "alpha", timestamp: "2025-10-29T10:00:00Z", coherenceScore: 81.5, eventCount: 4 },
  { signal: "beta", timestamp: "2025-10-29T10:00:00Z", coherenceScore: 64 },
  { signal: "alpha", timestamp: "2025-10-29T10:01:00Z", coherenceScore: 82.25 },
  { signal: "beta", timestamp: "2025-10-29T10:01:00Z", coherenceScore: 65 },
  { signal: "alpha", timestamp: "2025-10-29T10:02:00Z", coherenceScore: 0 },
  { signal: "beta", timestamp: "2025-10-29T10:02:00Z", coherenceScore: 100 },
  { signal: "alpha", timestamp: "2025-10-29T10:02:30Z", coherenceScore: 150 },
  { signal: "beta", coherenceScore: 70 },
];
const NEWEST = Date.parse("2025-10-29T10:02:00Z");

/** A readTextFile fake serving fixed text (or throwing), counting reads. */
function fakeFile(content: string | Error | (() => string)) {
  const reads: (string | URL)[] = [];
  const readTextFile = (path: string | URL) => {
    reads.push(path);
    if (content instanceof Error) return Promise.reject(content);
    return Promise.resolve(typeof content === "function" ? content() : content);
  };
  return { readTextFile, reads };
}

/** Runs `fn`, asserts it rejects with a MockFileError, and returns the message. */
async function mockFileErrorOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof MockFileError, `expected a MockFileError, got ${error}`);
    assert.equal(error.name, "MockFileError");
    return error.message;
  }
  throw new Error("expected a MockFileError, but nothing was thrown");
}

Deno.test("createMockSource() in replay mode backfills 24 h with the file shifted so its newest record is at the anchor", async () => {
  const file = fakeFile(JSON.stringify({ data: RECORDS }));
  const source = createMockSource({
    path: PATH,
    replay: true,
    anchorMs: ANCHOR,
    readTextFile: file.readTextFile,
  });
  assert.equal(source.kind, "mock_replay");
  assert.equal(source.unbounded, false);
  assert.equal(source.location, PATH);
  const { points, stats } = await source.pull(ANCHOR - DAY, ANCHOR, OPTS);
  assert.deepEqual(file.reads, [PATH]);
  assert.deepEqual(points.map((p) => [p.signal, p.ts, p.score]), [
    ["alpha", ANCHOR - 2 * MIN, 81.5],
    ["beta", ANCHOR - 2 * MIN, 64],
    ["alpha", ANCHOR - MIN, 82.25],
    ["beta", ANCHOR - MIN, 65],
    ["alpha", ANCHOR, 0],
    ["beta", ANCHOR, 100],
  ]);
  assert.equal(points[0].eventCount, 4);
  assert.equal(stats.pages, 1);
  assert.equal(stats.received, 8);
  assert.deepEqual(stats.rejected, { score_out_of_range: 1, missing_timestamp: 1 });
});

Deno.test("createMockSource() in replay mode counts rejected records once, on the first pull", async () => {
  const file = fakeFile(JSON.stringify({ data: RECORDS }));
  const source = createMockSource({
    path: PATH,
    replay: true,
    anchorMs: ANCHOR,
    readTextFile: file.readTextFile,
  });
  const first = await source.pull(ANCHOR - DAY, ANCHOR, OPTS);
  assert.deepEqual(first.stats.rejected, { score_out_of_range: 1, missing_timestamp: 1 });
  const second = await source.pull(ANCHOR - 5 * MIN, ANCHOR, OPTS);
  assert.deepEqual(second.stats.rejected, {});
  assert.equal(second.points.length, 6);
  assert.equal(second.stats.received, 6);
  assert.equal(second.stats.pages, 1);
  assert.equal(file.reads.length, 1, "the file is read once");
});

Deno.test("createMockSource() in replay mode releases the next records as the clock advances, looping the file", async () => {
  const file = fakeFile(JSON.stringify({ data: RECORDS }));
  const source = createMockSource({
    path: PATH,
    replay: true,
    anchorMs: ANCHOR,
    readTextFile: file.readTextFile,
  });
  await source.pull(ANCHOR - DAY, ANCHOR, OPTS);
  const next = await source.pull(ANCHOR, ANCHOR + MIN, OPTS);
  // Period = 2 min span + 1 min cadence: loop 1 starts with the file's first records one cadence after the anchor.
  assert.deepEqual(next.points.map((p) => [p.signal, p.ts, p.score]), [
    ["alpha", ANCHOR + MIN, 81.5],
    ["beta", ANCHOR + MIN, 64],
  ]);
  const later = await source.pull(ANCHOR + MIN, ANCHOR + 4 * MIN, OPTS);
  assert.deepEqual(later.points.map((p) => [p.signal, p.ts - ANCHOR]), [
    ["alpha", 2 * MIN],
    ["beta", 2 * MIN],
    ["alpha", 3 * MIN],
    ["beta", 3 * MIN],
    ["alpha", 4 * MIN],
    ["beta", 4 * MIN],
  ]);
});

Deno.test("createMockSource() in replay mode anchors at now() of the first pull by default", async () => {
  const file = fakeFile(JSON.stringify({ data: RECORDS }));
  let now = ANCHOR;
  const source = createMockSource({
    path: PATH,
    replay: true,
    readTextFile: file.readTextFile,
    now: () => now,
  });
  const { points } = await source.pull(ANCHOR - HOUR, ANCHOR, OPTS);
  assert.equal(Math.max(...points.map((p) => p.ts)), ANCHOR);
  // The anchor is fixed once: later clock readings do not move the replay.
  now = ANCHOR + 30 * MIN;
  const again = await source.pull(ANCHOR - HOUR, ANCHOR, OPTS);
  assert.deepEqual(again.points, points);
});

Deno.test("createMockSource() in mock_file mode serves every record with its own timestamps once", async () => {
  const file = fakeFile(JSON.stringify({ data: RECORDS }));
  const source = createMockSource({
    path: PATH,
    replay: false,
    readTextFile: file.readTextFile,
    now: () => ANCHOR,
  });
  assert.equal(source.kind, "mock_file");
  assert.equal(source.unbounded, true);
  // The pull window is ignored: the records are from long before it.
  const first = await source.pull(ANCHOR - HOUR, ANCHOR, OPTS);
  assert.equal(first.points.length, 6);
  assert.equal(Math.max(...first.points.map((p) => p.ts)), NEWEST);
  assert.deepEqual(first.points[0], {
    signal: "alpha",
    ts: Date.parse("2025-10-29T10:00:00Z"),
    score: 81.5,
    eventCount: 4,
  });
  assert.equal(first.stats.received, 8);
  assert.deepEqual(first.stats.rejected, { score_out_of_range: 1, missing_timestamp: 1 });
  const second = await source.pull(ANCHOR, ANCHOR + HOUR, OPTS);
  assert.deepEqual(second.points, []);
  assert.equal(second.stats.received, 0);
  assert.deepEqual(second.stats.rejected, {});
  assert.equal(file.reads.length, 1);
});

Deno.test("createMockSource() accepts a bare array of records", async () => {
  const file = fakeFile(JSON.stringify(RECORDS));
  const replayed = createMockSource({
    path: PATH,
    replay: true,
    anchorMs: ANCHOR,
    readTextFile: file.readTextFile,
  });
  const r = await replayed.pull(ANCHOR - DAY, ANCHOR, OPTS);
  assert.equal(r.points.length, 6);
  assert.equal(r.points.at(-1)!.ts, ANCHOR);
  const plain = createMockSource({ path: PATH, replay: false, readTextFile: file.readTextFile });
  const p = await plain.pull(0, 1, OPTS);
  assert.equal(p.points.length, 6);
  assert.equal(p.points.at(-1)!.ts, NEWEST);
});

Deno.test("loadMockFile() reads {data} and bare arrays alike and counts rejects", async () => {
  for (const text of [JSON.stringify({ data: RECORDS, next_cursor: null }), JSON.stringify(RECORDS)]) {
    const file = await loadMockFile(PATH, { readTextFile: fakeFile(text).readTextFile });
    assert.equal(file.records, 8);
    assert.equal(file.points.length, 6);
    assert.equal(file.rejectedTotal, 2);
    assert.deepEqual(file.rejected, { score_out_of_range: 1, missing_timestamp: 1 });
  }
});

Deno.test("loadMockFile() fails with a MockFileError naming the file when it cannot be read", async () => {
  const { readTextFile } = fakeFile(new Deno.errors.NotFound("No such file or directory (os error 2)"));
  const message = await mockFileErrorOf(() => loadMockFile(PATH, { readTextFile }));
  assert.match(message, /^Cannot read mock file \/data\/mock\/signals\.json: /);
  assert.match(message, /No such file or directory/);
});

Deno.test("loadMockFile() fails with a MockFileError naming the file when it is not JSON", async () => {
  const { readTextFile } = fakeFile("{ data: [ oops");
  const message = await mockFileErrorOf(() => loadMockFile(PATH, { readTextFile }));
  assert.match(message, /^Cannot parse mock file \/data\/mock\/signals\.json: /);
});

Deno.test("loadMockFile() fails with a MockFileError naming the file when it is not our shape", async () => {
  for (const text of ['{"foo":1}', '{"data":{"signal":"alpha"}}', "42", "null", '"records"']) {
    const { readTextFile } = fakeFile(text);
    const message = await mockFileErrorOf(() => loadMockFile(PATH, { readTextFile }));
    assert.match(message, /^Mock file \/data\/mock\/signals\.json has no records: /, text);
    assert.match(message, /\{ "data": \[\.\.\.\] \} or a bare array/);
  }
});

Deno.test("createMockSource() pull() rejects with the file's error", async () => {
  const { readTextFile } = fakeFile('{"foo":1}');
  for (const replay of [true, false]) {
    const source = createMockSource({ path: PATH, replay, anchorMs: ANCHOR, readTextFile });
    const message = await mockFileErrorOf(() => source.pull(ANCHOR - DAY, ANCHOR, OPTS));
    assert.match(message, /signals\.json has no records/);
  }
});

Deno.test("createMockSource() reads the file again on the next pull after a failed read", async () => {
  let text = "{ not json";
  const file = fakeFile(() => text);
  const source = createMockSource({
    path: PATH,
    replay: true,
    anchorMs: ANCHOR,
    readTextFile: file.readTextFile,
  });
  await mockFileErrorOf(() => source.pull(ANCHOR - DAY, ANCHOR, OPTS));
  text = JSON.stringify({ data: RECORDS });
  const { points, stats } = await source.pull(ANCHOR - DAY, ANCHOR, OPTS);
  assert.equal(points.length, 6);
  assert.deepEqual(stats.rejected, { score_out_of_range: 1, missing_timestamp: 1 });
  assert.equal(file.reads.length, 2);
  await source.pull(ANCHOR, ANCHOR + MIN, OPTS);
  assert.equal(file.reads.length, 2, "a good file is read once");
});

Deno.test("createMockSource() names a file URL by its path", () => {
  const source = createMockSource({ path: new URL("file:///srv/mock/data.json"), replay: true });
  assert.equal(source.location, "/srv/mock/data.json");
});

Deno.test("loadMockFile() reads the bundled fixture: 4 signals at a 60 s cadence over 26 h", async () => {
  const file = await loadMockFile(BUNDLED_FIXTURE);
  assert.equal(file.rejectedTotal, 0);
  const bySignal = Map.groupBy(file.points, (p) => p.signal);
  assert.deepEqual([...bySignal.keys()].sort(), ["alpha", "beta", "delta", "gamma"]);
  for (const [signal, pts] of bySignal) {
    const ts = pts.map((p) => p.ts).sort((a, b) => a - b);
    assert.equal(ts.length, 26 * 60, signal);
    assert.equal(ts.at(-1)! - ts[0], 26 * HOUR - MIN, signal);
    for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], MIN, `${signal} gap at ${i}`);
  }
  assert.equal(file.records, 4 * 26 * 60);
});

Deno.test("createMockSource() on the bundled fixture backfills 24 h as 1440 points per signal, newest at the anchor", async () => {
  const source = createMockSource({ path: BUNDLED_FIXTURE, replay: true, anchorMs: ANCHOR });
  assert.equal(source.location, "fixtures/signals.json (bundled)");
  const { points, stats } = await source.pull(ANCHOR - DAY, ANCHOR, OPTS);
  assert.deepEqual(stats.rejected, {});
  assert.equal(stats.received, points.length);
  const bySignal = Map.groupBy(points, (p) => p.signal);
  assert.deepEqual([...bySignal.keys()].sort(), ["alpha", "beta", "delta", "gamma"]);
  for (const [signal, pts] of bySignal) {
    assert.equal(pts.length, 1440, signal);
    const ts = pts.map((p) => p.ts);
    assert.equal(Math.max(...ts), ANCHOR, signal);
    assert.equal(Math.min(...ts), ANCHOR - DAY + MIN, signal);
    assert.equal(new Set(ts).size, 1440, signal);
    for (const p of pts) assert.ok(p.score >= 0 && p.score <= 100);
  }
  // One cadence later, each signal has exactly one new record.
  const next = await source.pull(ANCHOR, ANCHOR + MIN, OPTS);
  assert.deepEqual(next.points.map((p) => p.signal).sort(), ["alpha", "beta", "delta", "gamma"]);
  assert.ok(next.points.every((p) => p.ts === ANCHOR + MIN));
});

Deno.test("checkMockFile() reads only the start of a large file: it must begin like JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.json`;
    await Deno.writeTextFile(good, `\n  {"data": [${'{"signal":"a"},'.repeat(100)}`); // the rest is checked on read
    await checkMockFile(good, { streamAboveBytes: 100 });
    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(bad, `signal,timestamp,score\n${"a,1,2\n".repeat(100)}`);
    await assert.rejects(checkMockFile(bad, { streamAboveBytes: 100 }), (error: Error) => {
      assert.ok(error instanceof MockFileError);
      assert.equal(error.message, 'it is not JSON: expected { "data": [...] } or a bare array of records');
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
