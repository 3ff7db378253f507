/**
 * Start-up with a large mock file: starts the real service (`deno task start`'s command) as a child process on
 * 127.0.0.1 with MOCK_PATH = a generated file of `--points` records (default 1M) and MOCK_REPLAY=false, polls
 * `/health` every 10 ms from the moment of spawning, and prints
 * - the time to the first 200 from `/health`,
 * - the time until every record is held (`/coherence/signals`),
 * - the slowest `/health` answer while the file was loading (is the event loop free?),
 * - the slowest `/health` answer in the `--after` seconds (default 40) after loading: V8 collects the load's
 *   garbage in one major GC about 30 s later, and this shows its pause.
 * One untimed start first warms the module cache. Everything started is stopped; the temp dir is removed.
 *
 *   deno task perf:startup [--points 1000000] [--runs 3] [--after 40]
 *
 * @module
 */
import { writeMockFile } from "./gen_points.ts";
import { flag, get, heldPoints, machine, startService, waitFor } from "./perf_util.ts";

const POINTS = Number(flag("points", "1000000"));
const RUNS = Number(flag("runs", "3"));
const AFTER_S = Number(flag("after", "40"));

export interface StartupRun {
  healthMs: number;
  loadedMs: number;
  slowestHealthMs: number;
  healthProbes: number;
  slowestAfterMs: number;
}

async function measure(mockPath: string, points: number, afterS = 0): Promise<StartupRun> {
  const child = await startService({ MOCK_PATH: mockPath, MOCK_REPLAY: "false", LOG_LEVEL: "warning" });
  try {
    const health = `${child.url}/health`;
    await waitFor(async () => (await get(health, 30_000))?.status === 200 ? true : undefined, {
      what: "/health",
      timeoutMs: 30_000,
    });
    const healthMs = performance.now() - child.spawnedAt;
    // Probe /health back to back while the data loads; a blocked event loop shows as a slow answer.
    let slowestHealthMs = 0;
    let healthProbes = 0;
    let loaded = false;
    const prober = (async () => {
      while (!loaded) {
        const t = performance.now();
        await get(health, 30_000);
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - t);
        healthProbes++;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await waitFor(async () => (await heldPoints(child.url)) >= points ? true : undefined, {
      what: `${points} points held`,
      timeoutMs: 120_000,
      intervalMs: 20,
    });
    const loadedMs = performance.now() - child.spawnedAt;
    loaded = true;
    await prober;
    let slowestAfterMs = 0;
    const until = performance.now() + afterS * 1000;
    while (performance.now() < until) {
      const t = performance.now();
      await get(health, 30_000);
      slowestAfterMs = Math.max(slowestAfterMs, performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { healthMs, loadedMs, slowestHealthMs, healthProbes, slowestAfterMs };
  } finally {
    await child.stop();
  }
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "coherence_startup_" });
  try {
    const mockPath = `${dir}/points.json`;
    const bytes = await writeMockFile(mockPath, { count: POINTS });
    const { cpu, cores } = await machine();
    console.log(`# Start-up: ${POINTS} records (${(bytes / 1e6).toFixed(0)} MB), ${cores} cores, ${cpu}`);
    // Warm the module cache (and the OS file cache) once, untimed.
    await measure(mockPath, POINTS);
    console.log(
      `| run | first /health 200 | all points held | slowest /health while loading (probes) | slowest /health in the ${AFTER_S} s after |`,
    );
    console.log(
      "| --- | ----------------- | --------------- | ------------------------------------ | ------------------------- |",
    );
    for (let run = 1; run <= RUNS; run++) {
      const r = await measure(mockPath, POINTS, AFTER_S);
      console.log(
        `| ${run} | ${r.healthMs.toFixed(0)} ms | ${r.loadedMs.toFixed(0)} ms | ${
          r.slowestHealthMs.toFixed(1)
        } ms (${r.healthProbes}) | ${r.slowestAfterMs.toFixed(1)} ms |`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
