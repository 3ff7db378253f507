/**
 * Shared points in KV (issue 16 item 2): one writer, readers on their own handles of one KV file, each with its
 * own PointStore. After every cycle a reader answers every window exactly as the writer's store does.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { type PointInput, PointStore } from "../../src/core/point_store.ts";
import {
  CHUNKS_PREFIX,
  createKvPointReader,
  createKvPointWriter,
  CYCLE_PREFIX,
  GC_KEY,
  POINTS_PREFIX,
  readPointsVersion,
  VERSION_KEY,
} from "../../src/shared/kv_points.ts";
import { MAX_POINTS_PER_PART } from "../../src/shared/point_chunks.ts";
import { BASE, HOUR, scatter, touched } from "./points_fixture.ts";

const CHILD = new URL("./kv_points_child.ts", import.meta.url).pathname;

async function withKvFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kv_points_" });
  try {
    await fn(`${dir}/rolling_store.kv`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function openKvs(path: string, n: number): Promise<Deno.Kv[]> {
  return await Promise.all(Array.from({ length: n }, () => Deno.openKv(path)));
}

function copyOf(store: PointStore): PointStore {
  const copy = new PointStore();
  for (const { signal } of store.signals()) copy.apply(store.points(signal, -Infinity, Infinity));
  return copy;
}

/** The same signals and points, and identical window statistics for several windows and ends, per signal and pooled. */
function assertSameAnswers(expected: PointStore, actual: PointStore, label: string): void {
  deepEqual(actual.signals(), expected.signals(), `${label}: signals`);
  const newest = expected.newestMs() ?? BASE;
  const ends = [newest, newest - 1, newest - HOUR / 2, newest - 2 * HOUR - 17, BASE + 5 * HOUR];
  const windows = [60_000, HOUR, 3 * HOUR, 24 * HOUR];
  const signals: (string | undefined)[] = [...expected.signals().map((s) => s.signal), undefined];
  for (const signal of signals) {
    if (signal !== undefined) {
      deepEqual(actual.points(signal, -Infinity, Infinity), expected.points(signal, -Infinity, Infinity));
    }
    for (const end of ends) {
      for (const width of windows) {
        deepEqual(
          actual.window(signal, end - width, end),
          expected.window(signal, end - width, end),
          `${label}: ${signal ?? "pooled"} (${end - width}, ${end}]`,
        );
      }
    }
  }
}

async function keysUnder(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvKey[]> {
  return await Array.fromAsync(kv.list({ prefix }), (e) => e.key);
}

const cycle1: PointInput[] = [
  ...scatter("alpha", 2_000, BASE, BASE + 6 * HOUR, 1),
  // More than a part's worth in one hour: the chunk is split in parts.
  ...scatter("beta", MAX_POINTS_PER_PART + 700, BASE + 2 * HOUR, BASE + 3 * HOUR, 2),
  ...scatter("gamma", 40, BASE + HOUR, BASE + 4 * HOUR, 3),
];

Deno.test("a reader's store answers every window exactly as the writer's after each cycle: new, overwritten, out-of-order and evicted points", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    try {
      const held = new PointStore(), follower = new PointStore();
      const writer = createKvPointWriter({ kv: kvW, store: held });
      const reader = createKvPointReader({ kv: kvR, store: follower, watch: false });

      held.apply(cycle1);
      const first = await writer.writeCycle("all", { holderId: "a" });
      equal(first.ok, true);
      equal(first.version, 1);
      ok(first.values > first.chunks, "beta's dense hour is stored in more than one part");
      await reader.load();
      assertSameAnswers(held, follower, "after the start-up load");
      equal(reader.status().loadedPoints, held.size);
      equal(reader.status().fullLoads, 1);

      // Cycle 2: later copies overwrite scores, points arrive out of order (older hours), new signal.
      const overwritten = held.points("alpha", BASE + HOUR, BASE + 2 * HOUR).slice(0, 50)
        .map((p) => ({ ...p, score: p.score + 0.5 }));
      const cycle2 = [
        ...scatter("beta", 300, BASE + 6 * HOUR, BASE + 7 * HOUR, 4),
        ...overwritten,
        ...scatter("gamma", 30, BASE, BASE + 30 * 60_000, 5),
        ...scatter("delta", 10, BASE + 5 * HOUR, BASE + 6 * HOUR, 6),
      ];
      const applied = held.apply(cycle2);
      ok(applied.updated >= 50);
      const second = await writer.writeCycle(touched(cycle2), { holderId: "a" });
      equal(second.version, 2);
      await reader.sync();
      assertSameAnswers(held, follower, "after overwritten and out-of-order points");
      deepEqual([reader.status().version, reader.status().syncs, reader.status().fullLoads], [2, 1, 1]);

      // Cycle 3: new points, then the poller's eviction with a cutoff in the middle of an hour.
      const cycle3 = scatter("alpha", 200, BASE + 6 * HOUR, BASE + 7 * HOUR, 7);
      held.apply(cycle3);
      const cutoffMs = BASE + 2.5 * HOUR;
      ok(held.evictBefore(cutoffMs) > 0);
      const third = await writer.writeCycle({ sinceMs: BASE + 6 * HOUR }, { holderId: "a", cutoffMs });
      // Alpha's newest hour only: beta's hour since then is unchanged (skipped by fingerprint), and the evicted
      // hours are evicted by the readers with the version's cutoff.
      equal(third.chunks, 1);
      await reader.sync();
      assertSameAnswers(held, follower, "after eviction");

      // A cycle that changed nothing still commits a version (and no chunk).
      const fourth = await writer.writeCycle({ sinceMs: BASE + 6 * HOUR }, { holderId: "a", cutoffMs });
      deepEqual([fourth.ok, fourth.version, fourth.chunks], [true, 4, 0]);
      await reader.sync();
      equal(reader.status().version, 4);
      assertSameAnswers(held, follower, "after an empty cycle");

      // A new instance loading now gets the same store.
      const late = new PointStore();
      await createKvPointReader({ kv: kvR, store: late, watch: false }).load();
      assertSameAnswers(held, late, "a late start-up load");
    } finally {
      kvW.close();
      kvR.close();
    }
  }));

Deno.test("a reader never sees half a cycle: a writer that dies before the version commit leaves the previous version's answers, and the next writer cleans up", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    try {
      const held = new PointStore(), follower = new PointStore();
      const reader = createKvPointReader({ kv: kvR, store: follower, watch: false });
      held.apply(cycle1);
      await createKvPointWriter({ kv: kvW, store: held }).writeCycle("all", { holderId: "a" });
      await reader.load();
      const atVersion1 = copyOf(held);

      const cycle2 = [
        ...scatter("alpha", 500, BASE + 5 * HOUR, BASE + 8 * HOUR, 8),
        ...held.points("beta", -Infinity, Infinity).map((p) => ({ ...p, score: 100 - p.score })),
      ];
      held.apply(cycle2);
      const dying = createKvPointWriter({
        kv: kvW,
        store: held,
        beforeVersionCommit: () => {
          throw new Error("killed before the version commit");
        },
      });
      await rejects(dying.writeCycle("all", { holderId: "a" }), /killed/);
      const halfWritten = (await keysUnder(kvW, [POINTS_PREFIX])).filter((k) => k[3] === 2);
      ok(halfWritten.length > 0, "the dead writer's chunks of version 2 are in KV");
      equal((await readPointsVersion(kvR)).record?.version, 1);

      await reader.sync();
      assertSameAnswers(atVersion1, follower, "a follower after the half cycle");
      const fresh = new PointStore();
      await createKvPointReader({ kv: kvR, store: fresh, watch: false }).load();
      assertSameAnswers(atVersion1, fresh, "a start-up load after the half cycle");

      // The next holder writes only what its cycle touched (alpha's new hours); beta's half-written copies go.
      const next = createKvPointWriter({ kv: kvW, store: held });
      const result = await next.writeCycle(touched(cycle2.filter((p) => p.signal === "alpha")), {
        holderId: "b",
      });
      deepEqual([result.ok, result.version], [true, 2]);
      const version2 = (await keysUnder(kvW, [POINTS_PREFIX])).filter((k) => k[3] === 2);
      equal(version2.length, result.values, "only the committed writer's chunks carry version 2");
      ok(version2.every((k) => k[1] === "alpha"));
    } finally {
      kvW.close();
      kvR.close();
    }
  }));

Deno.test("a writer process killed with SIGKILL between its chunk commits and the version commit leaves readers on the previous version", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    try {
      const held = new PointStore();
      held.apply(cycle1);
      await createKvPointWriter({ kv: kvW, store: held }).writeCycle("all", { holderId: "a" });
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-kv", CHILD, path, "14", "hang"],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      while (!text.includes("\n")) {
        const next = await lines.read();
        if (next.done) break;
        text += next.value;
      }
      deepEqual(JSON.parse(text), { chunksWritten: true });
      child.kill("SIGKILL");
      equal((await child.status).signal, "SIGKILL");
      await lines.cancel();
      ok((await keysUnder(kvR, [POINTS_PREFIX, "child"])).length > 0, "the killed writer's chunks are in KV");
      equal((await readPointsVersion(kvR)).record?.pending, 2, "its reservation stands, uncommitted");

      const fresh = new PointStore();
      await createKvPointReader({ kv: kvR, store: fresh, watch: false }).load();
      assertSameAnswers(held, fresh, "a start-up load after the kill");
      // The next writer reserves version 2 again and deletes what the killed one left.
      const next = await createKvPointWriter({ kv: kvW, store: held }).writeCycle(new Map(), {
        holderId: "b",
      });
      deepEqual([next.ok, next.version], [true, 2]);
      deepEqual(await keysUnder(kvR, [POINTS_PREFIX, "child"]), []);
    } finally {
      kvW.close();
      kvR.close();
    }
  }));

Deno.test("a stale writer cannot commit once another reserved the next version, and its chunks are replaced", () =>
  withKvFile(async (path) => {
    const [kvA, kvB, kvR] = await openKvs(path, 3);
    try {
      const storeA = new PointStore(), storeB = new PointStore(), follower = new PointStore();
      storeA.apply(scatter("alpha", 300, BASE, BASE + 2 * HOUR, 9));
      storeB.apply(scatter("alpha", 300, BASE, BASE + 2 * HOUR, 10));
      const b = createKvPointWriter({ kv: kvB, store: storeB });
      let inner: Awaited<ReturnType<typeof b.writeCycle>> | null = null;
      const a = createKvPointWriter({
        kv: kvA,
        store: storeA,
        beforeVersionCommit: async () => {
          inner = await b.writeCycle("all", { holderId: "b" });
        },
      });
      const outer = await a.writeCycle("all", { holderId: "a" });
      deepEqual([outer.ok, inner!.ok, inner!.version], [false, true, 1]);
      const record = (await readPointsVersion(kvR)).record!;
      deepEqual([record.version, record.holder, record.pending], [1, "b", null]);
      await createKvPointReader({ kv: kvR, store: follower, watch: false }).load();
      assertSameAnswers(storeB, follower, "a reader after the stale writer lost");
    } finally {
      kvA.close();
      kvB.close();
      kvR.close();
    }
  }));

Deno.test("garbage collection keeps what readers within the grace need, then drops old copies, manifests and chunks before the cutoff", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    try {
      let clock = BASE + 10 * HOUR;
      const now = () => clock;
      const held = new PointStore();
      const writer = createKvPointWriter({ kv: kvW, store: held, graceCycles: 2, graceMs: 1_000, now });
      const close = new PointStore(), behind = new PointStore(), far = new PointStore();
      const closeReader = createKvPointReader({ kv: kvR, store: close, watch: false, now });
      const behindReader = createKvPointReader({ kv: kvR, store: behind, watch: false, now });
      const farReader = createKvPointReader({ kv: kvR, store: far, watch: false, now });

      held.apply(scatter("alpha", 100, BASE, BASE + 4 * HOUR, 11));
      await writer.writeCycle("all", { holderId: "a" });
      for (const reader of [closeReader, behindReader, farReader]) await reader.load();
      for (let i = 1; i <= 8; i++) {
        clock += 2_000;
        // Each cycle rewrites alpha's newest hour; cycles 6 on also evict the first two hours.
        const points = scatter("alpha", 20, BASE + 3 * HOUR, BASE + 4 * HOUR, 100 + i);
        held.apply(points);
        const cutoffMs = i >= 6 ? BASE + 2 * HOUR : null;
        if (cutoffMs !== null) held.evictBefore(cutoffMs);
        await writer.writeCycle(touched(points), { holderId: "a", cutoffMs });
        await closeReader.sync();
        if (i <= 5) await behindReader.sync();
      }
      // 9 versions; collection runs 2 behind: through version 7.
      equal((await kvR.get(GC_KEY)).value, 7);
      const newestHour = (await keysUnder(kvR, [POINTS_PREFIX, "alpha", BASE + 3 * HOUR])).map((k) => k[3]);
      deepEqual(newestHour, [7, 8, 9], "copies older than the collected version are gone");
      deepEqual((await keysUnder(kvR, [CYCLE_PREFIX])).map((k) => k[1]), [6, 7, 8, 9]);
      const hours = (await keysUnder(kvR, [CHUNKS_PREFIX])).map((k) => k[1]);
      deepEqual(
        hours,
        [BASE + 2 * HOUR, BASE + 3 * HOUR],
        "hours wholly before version 7's cutoff are pruned",
      );
      equal((await keysUnder(kvR, [POINTS_PREFIX, "alpha", BASE])).length, 0);

      assertSameAnswers(held, close, "a reader that followed every version");
      const status = closeReader.status();
      deepEqual([status.version, status.appliedAt, status.lagMs, status.fullLoads, status.syncs], [
        9,
        clock,
        0,
        1,
        8,
      ]);
      // Version 6 → 9: its manifests (7, 8, 9) are kept and collection (through 7) took nothing it reads.
      await behindReader.sync();
      deepEqual([behindReader.status().syncs, behindReader.status().fullLoads], [6, 1]);
      assertSameAnswers(held, behind, "a reader within the grace");
      // Version 1 → 9: its manifests are gone, so it loads everything again (same answers).
      await farReader.sync();
      deepEqual([farReader.status().syncs, farReader.status().fullLoads], [0, 2]);
      assertSameAnswers(held, far, "a reader beyond the grace");
    } finally {
      kvW.close();
      kvR.close();
    }
  }));

Deno.test("kv.watch notifies handles in the same process but not a commit from another process; polling covers it", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    const events: unknown[] = [];
    const stream = kvR.watch([VERSION_KEY, ["sentinel"]]).getReader();
    const reading = (async () => {
      for (let next = await stream.read(); !next.done; next = await stream.read()) {
        const [version, sentinel] = next.value;
        events.push([(version.value as { holder?: string } | null)?.holder ?? null, sentinel.value]);
      }
    })();
    const waitFor = async (check: () => boolean, what: string) => {
      for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
      ok(check(), `timed out waiting for ${what}`);
    };
    const follower = new PointStore();
    const reader = createKvPointReader({ kv: kvR, store: follower, syncMs: 50 });
    try {
      await waitFor(() => events.length === 1, "the watch's first event");
      // Another handle in this process: notified.
      const held = new PointStore();
      held.apply(scatter("alpha", 100, BASE, BASE + HOUR, 12));
      await createKvPointWriter({ kv: kvW, store: held }).writeCycle("all", { holderId: "same-process" });
      await waitFor(() => events.length >= 2, "a notification for the same process's commit");
      deepEqual(events[1], ["same-process", null]);
      // (The reservation and the commit may notify separately.) Settle the stream with a first sentinel.
      await kvW.set(["sentinel"], 0);
      await waitFor(() => JSON.stringify(events.at(-1)) === '["same-process",0]', "the first sentinel");
      const seen = events.length;

      // Another process commits version 2; then this process writes the sentinel. The next event is the
      // sentinel's (already carrying the child's version): the child's commit itself notified nobody here.
      const child = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-kv", CHILD, path, "13"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      ok(child.success, new TextDecoder().decode(child.stderr));
      equal(JSON.parse(new TextDecoder().decode(child.stdout)).version, 2);
      await kvW.set(["sentinel"], 1);
      await waitFor(() => events.length > seen, "the sentinel's notification");
      deepEqual(
        events.slice(seen),
        [["child", 1]],
        "kv.watch notified a commit from another process: update docs/SCALING.md (the poll may be relaxed)",
      );

      // The reader (watch + a 50 ms poll) reaches the child's version by polling.
      reader.start();
      await waitFor(() => reader.status().version === 2, "the reader to poll version 2");
      const expected = copyOf(held);
      expected.apply(scatter("child", 500, BASE, BASE + 3 * HOUR, 13));
      assertSameAnswers(expected, follower, "a follower of another process's writer");
    } finally {
      await reader.stop();
      await stream.cancel();
      await reading;
      kvW.close();
      kvR.close();
    }
  }));

Deno.test("a reader polls the version every syncMs (injected timers) and stop() cancels the next poll", () =>
  withKvFile(async (path) => {
    const [kvW, kvR] = await openKvs(path, 2);
    const scheduled: { fn: () => void; ms: number; id: number }[] = [];
    const cleared: number[] = [];
    const follower = new PointStore();
    const reader = createKvPointReader({
      kv: kvR,
      store: follower,
      watch: false,
      syncMs: 250,
      setTimeout: (fn, ms) => {
        scheduled.push({ fn, ms, id: scheduled.length + 1 });
        return scheduled.length;
      },
      clearTimeout: (id) => cleared.push(id as number),
    });
    try {
      const held = new PointStore();
      held.apply(scatter("alpha", 50, BASE, BASE + HOUR, 15));
      await createKvPointWriter({ kv: kvW, store: held }).writeCycle("all", { holderId: "a" });
      reader.start();
      await reader.sync();
      for (let i = 0; i < 50 && scheduled.length === 0; i++) await new Promise((r) => setTimeout(r, 0));
      deepEqual(scheduled.map((s) => s.ms), [250]);
      equal(reader.status().version, 1);

      const more = scatter("alpha", 20, BASE + HOUR, BASE + 2 * HOUR, 16);
      held.apply(more);
      await createKvPointWriter({ kv: kvW, store: held }).writeCycle(touched(more), { holderId: "a" });
      scheduled[0].fn();
      await reader.sync();
      equal(reader.status().version, 2);
      assertSameAnswers(held, follower, "after a poll");
      for (let i = 0; i < 50 && scheduled.length === 1; i++) await new Promise((r) => setTimeout(r, 0));
      equal(scheduled.length, 2, "the next poll is scheduled after the sync");
      await reader.stop();
      deepEqual(cleared, [2]);
    } finally {
      await reader.stop();
      kvW.close();
      kvR.close();
    }
  }));
