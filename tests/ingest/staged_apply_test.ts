import assert from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { commitStaged, stageApply } from "../../src/ingest/staged_apply.ts";
import type { PointColumns } from "../../src/ingest/source.ts";

const T0 = Date.parse("2025-10-29T17:00:00Z");
const MIN = 60_000;

/** A store holding a small series `small` (3 points), a large one `large` (200 points) and `quiet` (1 point). */
function heldStore(): PointStore {
  const store = new PointStore();
  store.apply([0, 1, 2].map((i) => ({ signal: "small", ts: T0 + i * MIN, score: 50 + i })));
  store.apply(
    Array.from({ length: 200 }, (_, i) => ({ signal: "large", ts: T0 + i * MIN, score: 40 + i % 7 })),
  );
  store.apply([{ signal: "quiet", ts: T0, score: 70 }]);
  return store;
}

/** New signals, overlaps with held points (equal and changed), in-batch copies, unsorted columns. */
function cycle() {
  const points = [
    { signal: "small", ts: T0 + 2 * MIN, score: 52 }, // duplicate of a held point
    { signal: "small", ts: T0 + MIN, score: 99 }, // updates a held point
    { signal: "small", ts: T0 + 3 * MIN, score: 53 }, // new
    { signal: "large", ts: T0 + 199 * MIN, score: 12 }, // updates a held point of a large series
    { signal: "large", ts: T0 + 200 * MIN, score: 13 }, // new
    { signal: "quiet", ts: T0, score: 70 }, // only a duplicate: nothing changes
    ...Array.from({ length: 7 }, (_, i) => ({ signal: `new-${i}`, ts: T0 + i, score: i })),
    { signal: "new-0", ts: T0, score: 1 }, // a later in-batch copy wins
    { signal: "new-1", ts: T0 + 1, score: 1 }, // an equal in-batch copy
  ];
  const columns: PointColumns[] = [
    { signal: "col", ts: Float64Array.of(T0 + 2, T0, T0 + 1), score: Float64Array.of(3, 1, 2) },
    { signal: "small", ts: Float64Array.of(T0 + 4 * MIN), score: Float64Array.of(54) },
  ];
  return { points, columns };
}

function snapshotOf(store: PointStore) {
  return store.signals().map(({ signal }) => ({
    signal,
    points: store.points(signal, -Infinity, Infinity),
    window: store.window(signal, T0 - 1, T0 + 1000 * MIN),
  }));
}

Deno.test("stageApply() then commitStaged() hold the same points and counts as PointStore.apply()", async () => {
  const { points, columns } = cycle();
  const reference = heldStore();
  const expected = reference.apply(points);
  for (const c of columns) {
    const r = reference.applyColumns(c.signal, c.ts, c.score);
    expected.inserted += r.inserted;
    expected.updated += r.updated;
    expected.duplicates += r.duplicates;
  }
  const store = heldStore();
  const staged = await stageApply(store, points, columns, {
    sliceSignals: 3,
    pause: () => Promise.resolve(),
  });
  assert.equal(staged.accepted, points.length + 4);
  assert.deepEqual(commitStaged(store, staged), expected);
  assert.deepEqual(snapshotOf(store), snapshotOf(reference));
  assert.equal(store.byteLength, reference.byteLength);
});

Deno.test("stageApply() pauses between slices and changes nothing held until commitStaged()", async () => {
  const { points, columns } = cycle();
  const store = heldStore();
  const before = snapshotOf(store);
  const version = store.version;
  const seen: { version: number; same: boolean }[] = [];
  const staged = await stageApply(store, points, columns, {
    sliceSignals: 2,
    sliceMs: 0,
    pause: () => {
      seen.push({
        version: store.version,
        same: JSON.stringify(snapshotOf(store)) === JSON.stringify(before),
      });
      return Promise.resolve();
    },
  });
  // 16 points, 10 groups and 2 columns (1 each) and 11 signals built (10 each) in slices of 20: 6 pauses.
  assert.equal(seen.length, 6);
  assert.ok(seen.every((s) => s.version === version && s.same), JSON.stringify(seen));
  assert.equal(store.version, version);
  commitStaged(store, staged);
  assert.notEqual(store.version, version);
  assert.equal(store.signalCount, 3 + 7 + 1);
});

Deno.test("commitStaged() leaves the version alone when a cycle only repeats held points", async () => {
  const store = heldStore();
  const version = store.version;
  const staged = await stageApply(store, [{ signal: "quiet", ts: T0, score: 70 }], []);
  assert.deepEqual(commitStaged(store, staged), { inserted: 0, updated: 0, duplicates: 1 });
  assert.equal(store.version, version);
});

Deno.test("stageApply() leaves out and counts the records of signals admits() refuses, points and columns", async () => {
  const store = heldStore();
  const { points, columns } = cycle();
  const refused = new Set(["new-0", "new-1", "col"]);
  const staged = await stageApply(store, points, columns, { admits: (s) => !refused.has(s) });
  assert.equal(staged.rejected, 2 + 2 + 3);
  assert.equal(staged.accepted, points.length + 4 - 7);
  commitStaged(store, staged);
  assert.deepEqual(store.signals().map((s) => s.signal).filter((s) => refused.has(s)), []);
  assert.equal(store.has("new-2"), true);
});
