/**
 * Memory per held point, measured three ways (issue 7: at most 64 bytes a point, 1M points ≤ 64 MB RSS):
 *
 * 1. In-process, with V8's gc() exposed: RSS after a forced GC, before and after loading `--points` records
 *    (default 1M) through the real ingest path (the mock source reading a generated file in chunks, then
 *    `PointStore.applyColumns` as the poller does), and the store's own count of bytes.
 * 2. Worst growth headroom: the same number of points appended in pages of 1000 (as incremental ingest
 *    does), tracking the largest bytes-per-point the store reaches (right after a 1.5× growth).
 *
 * In 1 and 2 every series holds all its forecast structures (issue 14): the regression prefix sums (a forecast
 * over the whole series) and the exact regression tree (forced, as a forecast does when the prefix sums'
 * error bound fails), so the figures are the worst a forecast can leave behind; the first figure is also
 * given with the prefix sums alone.
 * 3. The real service (`deno task start`'s command) as a child process: RSS with a one-record mock file and
 *    with the generated file (MOCK_REPLAY=false), sampled every 5 s for `--settle` seconds (default 60), since
 *    the ingest's transient garbage is returned at V8's next major GC, not at once.
 *
 *   deno run --allow-all scripts/memory.ts [--points 1000000] [--settle 60]
 *
 * @module
 */
import { PointStore } from "../src/core/point_store.ts";
import { createMockSource } from "../src/ingest/mock_source.ts";
import { PERF_SIGNALS, writeMockFile } from "./gen_points.ts";
import { flag, heldPoints, machine, rssMb, startService, waitFor } from "./perf_util.ts";

const POINTS = Number(flag("points", "1000000"));
const SETTLE_S = Number(flag("settle", "60"));
const MB = 1024 * 1024;

/** Forces a full GC (needs --v8-flags=--expose-gc) and gives the sweeper a moment. */
async function collect(): Promise<void> {
  const gc = Reflect.get(globalThis, "gc");
  if (typeof gc !== "function") throw new Error("run the child with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface InProcessResult {
  points: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  rssSettledMb: number;
  heapTotalMb: number;
  externalMb: number;
  bytesPerPointRss: number;
  bytesPerPointSettled: number;
  bytesPerPointStore: number;
  bytesPerPointStorePrefixOnly: number;
  worstBytesPerPointStore: number;
  worstAtPoints: number;
}

/** Child mode: measurements 1 and 2 in this (fresh) process. */
async function inProcess(mockPath: string): Promise<InProcessResult> {
  await collect();
  const rssBefore = Deno.memoryUsage().rss;
  const store = new PointStore();
  let prefixOnly = 0;
  {
    const source = createMockSource({ path: mockPath, replay: false });
    const result = await source.pull(0, 0, { requestId: "memory" });
    store.apply(result.points);
    for (const { signal, ts, score } of result.columns ?? []) store.applyColumns(signal, ts, score);
    // Build every series' regression prefix sums and then its regression tree (the prefix sums' fallback), as
    // forecasts do, so that their bytes are counted (issue 14).
    for (const { signal } of store.signals()) store.regression(signal, -Infinity, Infinity);
    prefixOnly = store.byteLength;
    for (const { signal } of store.signals()) store.regression(signal, -Infinity, Infinity, { exact: true });
  }
  await collect();
  const rssAfter = Deno.memoryUsage().rss;
  // V8 returns freed heap pages to the system later (its memory reducer runs on idle): sample for a while.
  let rssSettled = rssAfter;
  for (let t = 0; t < SETTLE_S; t += 5) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
    rssSettled = Math.min(rssSettled, Deno.memoryUsage().rss);
  }
  if (store.size !== POINTS) throw new Error(`expected ${POINTS} points, held ${store.size}`);
  const { heapTotal, external } = Deno.memoryUsage();

  // Worst headroom: pages of 1000 points (250 per signal), in time order, as incremental ingest appends them.
  const paged = new PointStore();
  let worst = 0;
  let worstAt = 0;
  const perSignal = 250;
  const ts = new Float64Array(perSignal);
  const score = new Float64Array(perSignal);
  for (let page = 0; page * 1000 < POINTS; page++) {
    for (const signal of PERF_SIGNALS) {
      for (let i = 0; i < perSignal; i++) {
        ts[i] = (page * perSignal + i) * 1000;
        score[i] = 50 + ((page * 31 + i * 17) % 50);
      }
      paged.applyColumns(signal, ts, score);
      paged.regression(signal, -Infinity, Infinity);
      paged.regression(signal, -Infinity, Infinity, { exact: true });
    }
    const perPoint = paged.byteLength / paged.size;
    if (paged.size >= 100_000 && perPoint > worst) {
      worst = perPoint;
      worstAt = paged.size;
    }
  }
  return {
    points: store.size,
    rssBeforeMb: rssBefore / MB,
    rssAfterMb: rssAfter / MB,
    rssSettledMb: rssSettled / MB,
    heapTotalMb: heapTotal / MB,
    externalMb: external / MB,
    bytesPerPointRss: (rssAfter - rssBefore) / store.size,
    bytesPerPointSettled: (rssSettled - rssBefore) / store.size,
    bytesPerPointStore: store.byteLength / store.size,
    bytesPerPointStorePrefixOnly: prefixOnly / store.size,
    worstBytesPerPointStore: worst,
    worstAtPoints: worstAt,
  };
}

async function knownSignals(url: string): Promise<{ signal: string }[]> {
  const body = await (await fetch(`${url}/coherence/signals`)).json();
  return body.signals;
}

/** Measurement 3: RSS of the real service holding the file's points, over `settleS` seconds. */
async function service(mockPath: string, expected: number, settleS: number): Promise<number[]> {
  const child = await startService({ MOCK_PATH: mockPath, MOCK_REPLAY: "false", LOG_LEVEL: "warning" });
  try {
    await waitFor(async () => (await heldPoints(child.url)) >= expected ? true : undefined, {
      what: `${expected} points held`,
      timeoutMs: 120_000,
      intervalMs: 50,
    });
    // Forecast every signal over 30 days (the prefix sums) and 30 minutes (a window short enough in ~21 h of
    // points for the prefix sums' bound to fail: the regression tree), so the service holds both (issue 14).
    for (const { signal } of await knownSignals(child.url)) {
      for (const window of ["30d", "30m"]) {
        await (await fetch(
          `${child.url}/coherence/predict?window=${window}&signal=${encodeURIComponent(signal)}`,
        )).body?.cancel();
      }
    }
    const samples = [await rssMb(child.process.pid)];
    for (let t = 5; t <= settleS; t += 5) {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      samples.push(await rssMb(child.process.pid));
    }
    return samples;
  } finally {
    await child.stop();
  }
}

if (import.meta.main) {
  if (Deno.args[0] === "--child") {
    console.log(JSON.stringify(await inProcess(Deno.args[1])));
    Deno.exit(0);
  }
  const dir = await Deno.makeTempDir({ prefix: "coherence_memory_" });
  try {
    const bigPath = `${dir}/points.json`;
    const onePath = `${dir}/one.json`;
    await writeMockFile(bigPath, { count: POINTS });
    await writeMockFile(onePath, { count: 1 });
    const { cpu, cores } = await machine();
    console.log(`# Memory: ${POINTS} points, ${cores} cores, ${cpu}`);

    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        "--child",
        bigPath,
        "--points",
        String(POINTS),
        "--settle",
        String(SETTLE_S),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error("the in-process measurement failed");
    const r: InProcessResult = JSON.parse(new TextDecoder().decode(out.stdout));
    console.log(
      `In-process (forced GC): RSS ${r.rssBeforeMb.toFixed(1)} → ${
        r.rssAfterMb.toFixed(1)
      } MB for ${r.points} ` +
        `points = ${r.bytesPerPointRss.toFixed(1)} B/point; after ${SETTLE_S} s idle ${
          r.rssSettledMb.toFixed(1)
        } MB = ${r.bytesPerPointSettled.toFixed(1)} B/point (V8 heap ${
          r.heapTotalMb.toFixed(1)
        } MB, external ${r.externalMb.toFixed(1)} MB); the store counts ${
          r.bytesPerPointStore.toFixed(1)
        } B/point (${r.bytesPerPointStorePrefixOnly.toFixed(1)} before the regression trees were built)`,
    );
    console.log(
      `Worst growth headroom (pages of 1000): ${
        r.worstBytesPerPointStore.toFixed(1)
      } B/point at ${r.worstAtPoints} points`,
    );

    const base = await service(onePath, 1, 0);
    const loaded = await service(bigPath, POINTS, SETTLE_S);
    const settled = loaded[loaded.length - 1];
    console.log(
      `Service RSS: ${base[0].toFixed(1)} MB with 1 point; with ${POINTS}: ${
        loaded.map((mb, i) => `${mb.toFixed(1)} (${i * 5} s)`).join(", ")
      } MB`,
    );
    console.log(
      `Service: +${
        (loaded[0] - base[0]).toFixed(1)
      } MB right after loading (transient ingest garbage included), ` +
        `+${(settled - base[0]).toFixed(1)} MB after ${SETTLE_S} s = ${
          ((settled - base[0]) * MB / POINTS).toFixed(1)
        } B/point`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
