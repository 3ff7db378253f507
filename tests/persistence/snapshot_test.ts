import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  computedAtMs,
  newest,
  pickColumns,
  SNAPSHOT_COLUMNS,
  SnapshotRowSchema,
  SnapshotStoreError,
  validateQuery,
  validateRows,
} from "../../src/persistence/snapshot.ts";
import { BASE_MS, row, trickyRows } from "./rows.ts";

Deno.test("SNAPSHOT_COLUMNS are the SPEC's columns in order, and a row has exactly them", () => {
  deepEqual(SNAPSHOT_COLUMNS, [
    "computed_at",
    "signal",
    "window_sec",
    "start_ts",
    "end_ts",
    "n",
    "mean",
    "stdev",
    "volatility_index",
    "risk",
    "source",
    "engine_version",
  ]);
  deepEqual(Object.keys(row(0)), [...SNAPSHOT_COLUMNS]);
  deepEqual(Object.keys(pickColumns({ ...row(0), extra: 1 } as ReturnType<typeof row>)), [
    ...SNAPSHOT_COLUMNS,
  ]);
});

Deno.test("SnapshotRowSchema accepts the tricky rows and rejects malformed ones", () => {
  for (const r of trickyRows()) deepEqual(SnapshotRowSchema.parse(r), r);
  const bad: Record<string, unknown>[] = [
    { computed_at: "2024-05-01T12:00:00+02:00" },
    { computed_at: "yesterday" },
    { start_ts: 0 },
    { signal: "" },
    { signal: "a\nb" },
    { source: "a\rb" },
    { window_sec: 0 },
    { window_sec: 1.5 },
    { n: -1 },
    { mean: NaN },
    { stdev: Infinity },
    { volatility_index: undefined },
    { risk: "severe" },
    { engine_version: "" },
    { engine_version: '1"2' },
  ];
  for (const change of bad) {
    ok(!SnapshotRowSchema.safeParse({ ...row(0), ...change }).success, JSON.stringify(change));
  }
});

Deno.test("validateRows() names the first bad row and field", () => {
  validateRows([]);
  throws(() => validateRows([row(0), row(1), row(2, { signal: "x", n: -3 })]), (error: Error) => {
    ok(error instanceof SnapshotStoreError);
    equal(error.message.split(":")[0], 'Cannot append snapshot row 2 (signal "x")');
    ok(error.message.includes("n:"), error.message);
    return true;
  });
});

Deno.test("validateQuery() refuses negative or fractional limits and windows", () => {
  validateQuery({ signal: "a", windowSec: 60, limit: 0 });
  throws(() => validateQuery({ signal: "a", windowSec: 60, limit: -1 }), RangeError);
  throws(() => validateQuery({ signal: "a", windowSec: 60, limit: 2.5 }), RangeError);
  throws(() => validateQuery({ signal: "a", windowSec: 0, limit: 1 }), RangeError);
  throws(() => validateQuery({ signal: "a", windowSec: 60, limit: 1, sinceMs: NaN }), RangeError);
});

Deno.test("computedAtMs() and newest() give the sort key and the newest N", () => {
  equal(computedAtMs(row(2)), BASE_MS + 120_000);
  equal(computedAtMs(row(0, { computed_at: "2024-05-01T12:00:00.123456Z" })), BASE_MS + 123);
  deepEqual(newest([1, 2, 3, 4], 2), [3, 4]);
  deepEqual(newest([1, 2], 5), [1, 2]);
  deepEqual(newest([1, 2], 0), []);
});
