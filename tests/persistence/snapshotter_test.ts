import { deepEqual, equal, match, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";
import { momentsOf } from "../../src/core/stats.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import type { HistoryQuery, SnapshotRow, SnapshotStore } from "../../src/persistence/snapshot.ts";
import { createSnapshotter, snapshotRows, snapshotRowsSliced } from "../../src/persistence/snapshotter.ts";
import { series, T0 } from "../helpers.ts";

function pointsStore(): PointStore {
  const store = new PointStore();
  store.apply([...series("alpha", T0, 120, (i) => 85 + (i % 5)), ...series("beta", T0, 30, (i) => 40 + i)]);
  return store;
}

const base = {
  windows: [3600, 86400],
  thresholds: DEFAULT_THRESHOLDS,
  source: "mock_file",
  engineVersion: "0.1.0",
};

Deno.test("snapshotRows() gives one row per (signal, window) and one per window for the pooled *", () => {
  const rows = snapshotRows(pointsStore(), { ...base, endMs: T0 });
  deepEqual(rows.map((r) => `${r.signal}/${r.window_sec}`), [
    "alpha/3600",
    "beta/3600",
    "*/3600",
    "alpha/86400",
    "beta/86400",
    "*/86400",
  ]);
  const alpha = rows[0];
  const expected = momentsOf(series("alpha", T0, 60, (i) => 85 + ((i + 60) % 5)).map((p) => p.score));
  equal(alpha.n, 60);
  equal(alpha.mean, expected.mean);
  equal(alpha.computed_at, "2025-10-29T17:00:00Z");
  equal(alpha.start_ts, "2025-10-29T16:00:00Z");
  equal(alpha.end_ts, "2025-10-29T17:00:00Z");
  equal(alpha.risk, "low");
  equal(rows[1].risk, "high", "beta's mean is below 60");
  equal(rows[2].n, 90);
  equal(rows[5].n, 150);
});

/** A store whose writes fail until `healthy` is set, recording what reached it. */
function flakyStore(): SnapshotStore & { healthy: boolean; written: SnapshotRow[]; pruned: number[] } {
  return {
    mode: "csv",
    location: "/data/rolling_store.csv",
    healthy: false,
    written: [],
    pruned: [],
    append(rows) {
      if (!this.healthy) return Promise.reject(new Error("EROFS: read-only file system"));
      this.written.push(...rows);
      return Promise.resolve();
    },
    history(_query: HistoryQuery) {
      return Promise.resolve([]);
    },
    prune(beforeMs) {
      this.pruned.push(beforeMs);
      return Promise.resolve(0);
    },
    close: () => Promise.resolve(),
  };
}

Deno.test("createSnapshotter() records a failed write in its status and recovers on the next cycle", async () => {
  const snapshots = flakyStore();
  let now = T0;
  const snapshotter = createSnapshotter({
    ...base,
    points: pointsStore(),
    snapshots,
    retentionSec: 86400,
    now: () => now,
  });
  await snapshotter.afterCycle();
  let status = snapshotter.status();
  equal(status.writeFailures, 1);
  equal(status.lastWrite?.ok, false);
  match(status.lastWrite?.error ?? "", /read-only/);
  equal(status.rowsWritten, 0);
  snapshots.healthy = true;
  now += 30_000;
  await snapshotter.afterCycle();
  status = snapshotter.status();
  equal(status.lastWrite?.ok, true);
  equal(status.lastWrite?.rows, 6);
  equal(status.rowsWritten, 6);
  equal(snapshots.written.length, 6);
});

Deno.test("createSnapshotter() prunes rows older than the retention on its schedule", async () => {
  const snapshots = flakyStore();
  snapshots.healthy = true;
  let now = T0;
  const snapshotter = createSnapshotter({
    ...base,
    points: pointsStore(),
    snapshots,
    retentionSec: 7200,
    pruneEveryMs: 60_000,
    now: () => now,
  });
  await snapshotter.afterCycle();
  deepEqual(snapshots.pruned, [T0 - 7_200_000]);
  now += 30_000;
  await snapshotter.afterCycle();
  equal(snapshots.pruned.length, 1, "not due yet");
  now += 30_000;
  await snapshotter.afterCycle();
  deepEqual(snapshots.pruned, [T0 - 7_200_000, T0 + 60_000 - 7_200_000]);
  equal(snapshotter.status().lastPrune?.before, "2025-10-29T15:01:00Z");
});

Deno.test("createSnapshotter() writes real rows that read back through history", async () => {
  const snapshots = openSqliteStore(":memory:");
  let now = T0;
  const snapshotter = createSnapshotter({
    ...base,
    points: pointsStore(),
    snapshots,
    retentionSec: 86400,
    now: () => now,
  });
  try {
    await snapshotter.afterCycle();
    now += 30_000;
    await snapshotter.afterCycle();
    const rows = await snapshots.history({ signal: "alpha", windowSec: 3600, limit: 10 });
    deepEqual(rows.map((r) => r.computed_at), ["2025-10-29T17:00:00Z", "2025-10-29T17:00:30Z"]);
    ok(rows.every((r) => r.risk === "low"));
  } finally {
    await snapshots.close();
  }
});

Deno.test("createSnapshotter() writes nothing for PERSISTENCE=none", async () => {
  const snapshots = flakyStore();
  Object.assign(snapshots, { mode: "none" });
  const snapshotter = createSnapshotter({ ...base, points: pointsStore(), snapshots, retentionSec: 86400 });
  await snapshotter.afterCycle();
  equal(snapshotter.status().active, false);
  equal(snapshotter.status().writeFailures, 0);
});

/** Three signals: with two windows, a snapshot of 8 rows. */
function threeSignals(): PointStore {
  const store = pointsStore();
  store.apply(series("gamma", T0, 10, (i) => 70 + i));
  return store;
}

Deno.test("snapshotRowsSliced() gives snapshotRows()'s rows, pausing after every slice", async () => {
  const points = threeSignals();
  let pauses = 0;
  const rows = await snapshotRowsSliced(points, {
    ...base,
    endMs: T0,
    sliceRows: 3,
    sliceMs: 0,
    pause: () => {
      pauses++;
      return Promise.resolve();
    },
  });
  deepEqual(rows, snapshotRows(points, { ...base, endMs: T0 }));
  equal(rows.length, 8);
  equal(pauses, 2, "after rows 3 and 6");
});

Deno.test("createSnapshotter() writes a snapshot in batches of sliceRows with a pause between them", async () => {
  const snapshots = flakyStore();
  snapshots.healthy = true;
  const batches: number[] = [];
  const append = snapshots.append.bind(snapshots);
  snapshots.append = (rows) => {
    batches.push(rows.length);
    return append(rows);
  };
  const events: string[] = [];
  const snapshotter = createSnapshotter({
    ...base,
    points: threeSignals(),
    snapshots,
    retentionSec: 86400,
    now: () => T0,
    sliceRows: 3,
    sliceMs: 0,
    pause: () => {
      events.push(`pause after ${batches.length} appends`);
      return Promise.resolve();
    },
  });
  await snapshotter.afterCycle();
  deepEqual(batches, [3, 3, 2]);
  // Two pauses while computing the 8 rows, then one between each two appends.
  deepEqual(events, [
    "pause after 0 appends",
    "pause after 0 appends",
    "pause after 1 appends",
    "pause after 2 appends",
  ]);
  deepEqual(snapshots.written, snapshotRows(threeSignals(), { ...base, endMs: T0 }));
  equal(snapshotter.status().rowsWritten, 8);
  deepEqual(snapshotter.status().lastWrite, { at: "2025-10-29T17:00:00Z", ok: true, rows: 8, error: null });
});

Deno.test("createSnapshotter() counts the batches that landed when a later batch fails", async () => {
  const snapshots = flakyStore();
  snapshots.healthy = true;
  const append = snapshots.append.bind(snapshots);
  snapshots.append = (rows) => {
    const result = append(rows);
    snapshots.healthy = false; // the disk fills after the first batch
    return result;
  };
  const snapshotter = createSnapshotter({
    ...base,
    points: threeSignals(),
    snapshots,
    retentionSec: 86400,
    now: () => T0,
    sliceRows: 3,
    sliceMs: 0,
    pause: () => Promise.resolve(),
  });
  await snapshotter.afterCycle();
  equal(snapshots.written.length, 3);
  const status = snapshotter.status();
  equal(status.rowsWritten, 3);
  equal(status.writeFailures, 1);
  equal(status.lastWrite?.ok, false);
  equal(status.lastWrite?.rows, 3);
  match(status.lastWrite?.error ?? "", /EROFS/);
});
