/**
 * Shared points across processes (issue 16 item 5), on one local KV file in a temp dir:
 *
 * 1. Sync latency: this process writes `--cycles` versions (default 60; 4 signals × 10 new points each, spaced
 *    1.1–1.6 sync intervals apart so the poll phase varies); a reader in another process follows with
 *    `kv.watch` + a poll every `--sync-ms` (default 1000, the SYNC_INTERVAL default) and prints when each
 *    version was applied (its points answerable). Reported: commit → applied, p50/p99/max over the versions.
 *    A local KV file does not notify across processes, so this measures the poll: about half an interval.
 * 2. Start-up load: this process writes `--points` (default 1M: 4 signals, one point every 300 ms, as in
 *    docs/PERFORMANCE.md) as one version; a fresh process opens the KV and loads them into its PointStore.
 *    Reported: the write, the load (`load()`, all chunks read, decoded, merged and settled) and the
 *    process's RSS after it.
 *
 *   deno task perf:sync [--cycles 60] [--sync-ms 1000] [--points 1000000]
 *
 * @module
 */
import { PointStore } from "../src/core/point_store.ts";
import { createKvPointReader, createKvPointWriter, readPointsVersion } from "../src/shared/kv_points.ts";
import { flag, machine } from "./perf_util.ts";

const SELF = new URL(import.meta.url).pathname;
const HOUR = 3_600_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function child(mode: string, path: string, syncMs: number): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", SELF, "--child", mode, "--path", path, "--sync-ms", String(syncMs)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Lines of a child's stdout, parsed as JSON, to `onLine`. */
async function lines(process: Deno.ChildProcess, onLine: (value: Record<string, number>) => void) {
  let rest = "";
  for await (const text of process.stdout.pipeThrough(new TextDecoderStream())) {
    rest += text;
    let at;
    while ((at = rest.indexOf("\n")) >= 0) {
      const line = rest.slice(0, at);
      rest = rest.slice(at + 1);
      if (line.trim()) onLine(JSON.parse(line));
    }
  }
}

/** The reader process: follows the version and prints `{version, appliedAt}` per applied version. */
async function followerMain(path: string, syncMs: number): Promise<void> {
  const kv = await Deno.openKv(path);
  const store = new PointStore();
  const reader = createKvPointReader({
    kv,
    store,
    syncMs,
    onApply: (status) => console.log(JSON.stringify({ version: status.version, appliedAt: Date.now() })),
  });
  await reader.load();
  reader.start();
  console.log(JSON.stringify({ ready: 1 }));
  // Runs until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* wait */ }
  await reader.stop();
  kv.close();
}

/** The loader process: loads everything and prints the figures. */
async function loaderMain(path: string): Promise<void> {
  const kv = await Deno.openKv(path);
  const store = new PointStore();
  const reader = createKvPointReader({ kv, store, watch: false });
  const started = performance.now();
  await reader.load();
  const loadMs = performance.now() - started;
  const status = reader.status();
  const rss = Deno.memoryUsage().rss / 2 ** 20;
  console.log(JSON.stringify({ loadMs, points: status.loadedPoints, held: store.size, rssMb: rss }));
  kv.close();
}

async function latency(path: string, cycles: number, syncMs: number): Promise<void> {
  const kv = await Deno.openKv(path);
  const store = new PointStore();
  const writer = createKvPointWriter({ kv, store });
  const base = Date.now() - 2 * HOUR;
  const add = (i: number) => {
    const points = [];
    for (const signal of ["a", "b", "c", "d"]) {
      for (let k = 0; k < 10; k++) {
        points.push({ signal, ts: base + i * 10_000 + k * 1000, score: (i * k) % 97 });
      }
    }
    store.apply(points);
    return new Map(
      ["a", "b", "c", "d"].map((s) => [s, [base + i * 10_000, base + i * 10_000 + 9000] as const]),
    );
  };
  await writer.writeCycle(add(0), { holderId: "bench" });
  const reader = child("follow", path, syncMs);
  const applied = new Map<number, number>();
  let ready = false;
  const reading = lines(reader, (line) => {
    if (line.ready) ready = true;
    else applied.set(line.version, line.appliedAt);
  });
  while (!ready) await new Promise((r) => setTimeout(r, 20));
  const committed = new Map<number, number>();
  const writeMs: number[] = [];
  for (let i = 1; i <= cycles; i++) {
    await new Promise((r) => setTimeout(r, syncMs * (1.1 + 0.5 * Math.random())));
    const t = performance.now();
    const result = await writer.writeCycle(add(i), { holderId: "bench" });
    writeMs.push(performance.now() - t);
    committed.set(result.version, Date.now());
  }
  const last = Math.max(...committed.keys());
  for (let i = 0; i < 200 && !applied.has(last); i++) await new Promise((r) => setTimeout(r, 50));
  await reader.stdin.close();
  await reading;
  await reader.status;
  const lags: number[] = [];
  for (const [version, at] of committed) {
    // A version applied together with a later one counts from its own commit to that application.
    const next = [...applied.entries()].filter(([v]) => v >= version).sort((x, y) => x[0] - y[0])[0];
    if (next) lags.push(next[1] - at);
  }
  lags.sort((a, b) => a - b);
  writeMs.sort((a, b) => a - b);
  console.log(
    `sync latency, commit → answerable in another process (sync ${syncMs} ms, ${lags.length}/${cycles} versions): ` +
      `p50 ${quantile(lags, 0.5)} ms, p99 ${quantile(lags, 0.99)} ms, max ${lags.at(-1)} ms; ` +
      `writeCycle p50 ${quantile(writeMs, 0.5).toFixed(1)} ms`,
  );
  kv.close();
}

async function startupLoad(path: string, points: number): Promise<void> {
  const kv = await Deno.openKv(path);
  const store = new PointStore();
  const signals = 4;
  const per = Math.ceil(points / signals);
  const t0 = Date.now() - per * 300;
  for (let s = 0; s < signals; s++) {
    const ts = Float64Array.from({ length: per }, (_, i) => t0 + i * 300);
    const score = Float64Array.from({ length: per }, (_, i) => 50 + 40 * Math.sin(i / 1000));
    store.applyColumns(`signal-${s}`, ts, score);
  }
  const started = performance.now();
  const result = await createKvPointWriter({ kv, store }).writeCycle("all", { holderId: "bench" });
  const writeMs = performance.now() - started;
  console.log(
    `write ${store.size} points: ${
      writeMs.toFixed(0)
    } ms (${result.chunks} chunks, ${result.values} values, ` +
      `${(result.bytes / 2 ** 20).toFixed(1)} MiB, ${result.commits} commits)`,
  );
  const version = (await readPointsVersion(kv)).record?.version;
  kv.close();
  for (let run = 1; run <= 3; run++) {
    const loader = child("load", path, 1000);
    let figures: Record<string, number> = {};
    await lines(loader, (line) => figures = line);
    await loader.status;
    console.log(
      `start-up load (run ${run}, version ${version}): ${figures.points} points in ${
        figures.loadMs.toFixed(0)
      } ms ` +
        `(${(figures.points / figures.loadMs / 1000).toFixed(2)} M points/s), RSS after ${
          figures.rssMb.toFixed(0)
        } MB`,
    );
  }
}

if (Deno.args.includes("--child")) {
  const path = flag("path", "");
  if (flag("child", "") === "follow") await followerMain(path, Number(flag("sync-ms", "1000")));
  else await loaderMain(path);
} else {
  const { cpu, cores } = await machine();
  console.log(
    `machine: ${cpu}, ${cores} cores; load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
  );
  const dir = await Deno.makeTempDir({ prefix: "sync_latency_" });
  try {
    await latency(`${dir}/latency.kv`, Number(flag("cycles", "60")), Number(flag("sync-ms", "1000")));
    await startupLoad(`${dir}/load.kv`, Number(flag("points", "1000000")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
