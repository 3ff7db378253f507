/**
 * `deno task loadtest`: the serving benchmark of issues 7 and 11, on loopback, bounded in time.
 *
 * 1. Writes a mock file of `--points` records (default 1M; 4 signals, one record per signal every 300 ms,
 *    the newest now) to a temp dir.
 * 2. Starts the real service (`deno task start`'s command) twice on 127.0.0.1 with MOCK_PATH = that file,
 *    MOCK_REPLAY=false and PERSISTENCE=none: once with LOG_LEVEL=warning, once with LOG_LEVEL=info (the
 *    default: one JSON line per request, written to /dev/null), and waits until both hold every point.
 * 3. Starts the ceiling: a bare Hono route returning a constant JSON body of the same size
 *    (`loadtest_baseline.ts`).
 * 4. Runs `--rounds` rounds; each drives, one after the other, the ceiling, then
 *    `/coherence/metrics?window=24h` and `?window=1h` on each service with wrk (`-t2 -c32 -d<duration>s
 *    --latency` after a 2 s warm-up; Debian's `wrk`, installed with apt-get when missing and possible, else a
 *    built-in Deno load client), and reads the server's CPU time before and after each run.
 * 5. Prints per run the median requests/s, the median over the rounds of the ratio to the ceiling's run in
 *    the same round (and its range), median p50 and p99, errors, and CPU time per request; checks the
 *    targets at both levels (≥ half the ceiling's requests/s, p99 < 10 ms, no errors) and stops everything
 *    it started. Ratios within a round cancel the slow drift of other load on a shared machine.
 *
 * The services' runs start `--settle` seconds (default 35) after their load finished: loading leaves garbage
 * that V8 collects in one major GC about 30 s later (`scripts/startup.ts` measures that pause); the runs
 * measure the steady state.
 *
 *   deno task loadtest [--rounds 3] [--duration 5] [--connections 32] [--threads 2] [--points 1000000]
 *                      [--settle 35] [--client deno]
 *
 * @module
 */
import { writeMockFile } from "./gen_points.ts";
import {
  type Child,
  flag,
  freePort,
  get,
  heldPoints,
  machine,
  rssMb,
  spawn,
  startService,
  waitFor,
} from "./perf_util.ts";

const DURATION_S = Number(flag("duration", "5"));
const ROUNDS = Number(flag("rounds", "3"));
const LEVELS = ["warning", "info"] as const;
const CONNECTIONS = Number(flag("connections", "32"));
const THREADS = Number(flag("threads", "2"));
const POINTS = Number(flag("points", "1000000"));
const WARMUP_S = 2;
/**
 * Seconds between the end of the 1M-point load and the service's first measured run. Loading leaves tens of
 * MB of garbage that V8 collects in one major GC some 30 s later; the runs measure the steady state after it.
 */
const SETTLE_S = Number(flag("settle", "35"));

export interface LoadResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU time (user + system) the server process spent per request answered, µs; NaN where unknown. */
  cpuUsPerRequest?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Load generators

async function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
  } catch {
    return { code: -1, stdout: "" };
  }
}

/** True when wrk runs, installing Debian's package first if it is missing and apt-get is usable. */
async function ensureWrk(): Promise<boolean> {
  if ((await run("wrk", ["--version"])).stdout.includes("wrk")) return true;
  if (Deno.uid?.() !== 0) return false;
  console.error("wrk not found: apt-get install -y wrk");
  if ((await run("apt-get", ["install", "-y", "-qq", "wrk"])).code !== 0) {
    await run("apt-get", ["update", "-qq"]);
    await run("apt-get", ["install", "-y", "-qq", "wrk"]);
  }
  return (await run("wrk", ["--version"])).stdout.includes("wrk");
}

/** wrk's duration text ("512.00us", "1.20ms", "2.01s") in ms. */
function wrkDurationMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us"
    ? value / 1000
    : match[2] === "ms"
    ? value
    : match[2] === "s"
    ? value * 1000
    : value * 60_000;
}

/** Parses `wrk --latency` output. Errors = socket errors + non-2xx/3xx responses. */
export function parseWrk(output: string): LoadResult {
  const number = (re: RegExp) => Number(re.exec(output)?.[1] ?? NaN);
  const latency = (pct: string) =>
    wrkDurationMs(new RegExp(`^\\s*${pct}%\\s+(\\S+)`, "m").exec(output)?.[1] ?? "");
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: number(/(\d+) requests in/),
    requestsPerSec: number(/Requests\/sec:\s+([\d.]+)/),
    p50Ms: latency("50"),
    p99Ms: latency("99"),
    errors: socketErrors + (non2xx ? Number(non2xx[1]) : 0),
  };
}

async function wrk(url: string, durationS: number): Promise<LoadResult> {
  const out = await run("wrk", [
    `-t${THREADS}`,
    `-c${CONNECTIONS}`,
    `-d${durationS}s`,
    "--latency",
    url,
  ]);
  if (out.code !== 0) throw new Error(`wrk failed on ${url}`);
  return parseWrk(out.stdout);
}

/** The built-in fallback: `connections` concurrent keep-alive fetch loops for `durationS` seconds. */
async function denoLoad(
  url: string,
  durationS: number,
  connections = CONNECTIONS,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + durationS * 1000;
  await Promise.all(Array.from({ length: connections }, async () => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.status >= 400) errors++;
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    requests: latencies.length,
    requestsPerSec: latencies.length / elapsedS,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Processes

async function startLoadedService(mockPath: string, logLevel: string): Promise<Child & { loadedAt: number }> {
  const child = await startService({ MOCK_PATH: mockPath, MOCK_REPLAY: "false", LOG_LEVEL: logLevel });
  await waitFor(async () => (await heldPoints(child.url)) >= POINTS ? true : undefined, {
    what: `the service to hold ${POINTS} points`,
    timeoutMs: 120_000,
    intervalMs: 100,
  });
  return { ...child, loadedAt: performance.now() };
}

/** Waits until `SETTLE_S` seconds have passed since the service finished loading. */
async function settle(service: { loadedAt: number }): Promise<void> {
  const wait = service.loadedAt + SETTLE_S * 1000 - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

async function startBaseline(bodyPath: string): Promise<Child> {
  const port = freePort();
  const command = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `--allow-read`,
      new URL("./loadtest_baseline.ts", import.meta.url).pathname,
      String(port),
      bodyPath,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  });
  const child = spawn(command, `http://127.0.0.1:${port}`);
  await waitFor(async () => (await get(`${child.url}/health`))?.status === 200 ? true : undefined, {
    what: "the baseline server",
  });
  return child;
}

/** CPU time (user + system) a process has used so far, seconds (Linux /proc), or NaN. */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces) start at the state, field 3; utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times (100 on every mainstream architecture). */
const CLOCK_TICKS_PER_S = 100;

// ---------------------------------------------------------------------------------------------------------
// Summary

/** One measured target: what it is and its result in each round. */
export interface Series {
  name: string;
  bytes: number;
  rounds: LoadResult[];
}

export interface SummaryRow {
  name: string;
  bytes: number;
  /** Median requests/s over the rounds. */
  requestsPerSec: number;
  /** Median over the rounds of requests/s ÷ the ceiling's requests/s in the same round. */
  ratio: number;
  /** Smallest and largest per-round ratio. */
  ratioRange: [number, number];
  /** Median server CPU time per request, µs. */
  cpuUsPerRequest: number;
  /** Median over the rounds of the ceiling's CPU time per request ÷ this one's (higher is cheaper). */
  cpuRatio: number;
  /** Medians over the rounds. */
  p50Ms: number;
  p99Ms: number;
  /** Summed over the rounds. */
  errors: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Each series against `ceiling`, round by round: the ratio of a round is taken against the ceiling's run of
 * the same round (minutes apart at most), so load from other work on a shared machine, which drifts over
 * minutes, cancels out of the ratio; the medians over the rounds discard a disturbed round.
 */
export function summarise(ceiling: Series, series: readonly Series[]): SummaryRow[] {
  return [ceiling, ...series].map(({ name, bytes, rounds }) => {
    const ratios = rounds.map((r, i) => r.requestsPerSec / ceiling.rounds[i].requestsPerSec);
    const cpu = (r: LoadResult) => r.cpuUsPerRequest ?? NaN;
    return {
      name,
      bytes,
      requestsPerSec: median(rounds.map((r) => r.requestsPerSec)),
      ratio: median(ratios),
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      cpuUsPerRequest: median(rounds.map(cpu)),
      cpuRatio: median(rounds.map((r, i) => cpu(ceiling.rounds[i]) / cpu(r))),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    };
  });
}

/** The summary as a Markdown table. */
export function summaryTable(rows: readonly SummaryRow[]): string {
  const percent = (x: number) => `${(x * 100).toFixed(0)} %`;
  return [
    "| run | body bytes | requests/s | vs ceiling (range) | p50 | p99 | errors | CPU/request | vs ceiling |",
    "| --- | ---------: | ---------: | -----------------: | --: | --: | -----: | ----------: | ---------: |",
    ...rows.map((r) =>
      `| ${r.name} | ${r.bytes} | ${r.requestsPerSec.toFixed(0)} | ${percent(r.ratio)} (${
        percent(r.ratioRange[0])
      }–${percent(r.ratioRange[1])}) | ${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.errors} | ${
        r.cpuUsPerRequest.toFixed(1)
      } µs | ${percent(r.cpuRatio)} |`
    ),
  ].join("\n");
}

/** The rows missing a target: ≥ half the ceiling's requests/s, p99 < 10 ms, no errors. */
export function missedTargets(rows: readonly SummaryRow[]): SummaryRow[] {
  return rows.filter((r) => r.ratio < 0.5 || r.p99Ms >= 10 || r.errors > 0);
}

// ---------------------------------------------------------------------------------------------------------

if (import.meta.main) {
  const useWrk = flag("client", "wrk") === "wrk" && await ensureWrk();
  const load = useWrk ? wrk : denoLoad;
  const { cpu, cores } = await machine();
  const dir = await Deno.makeTempDir({ prefix: "coherence_loadtest_" });
  const started: Child[] = [];
  const stopAll = () => Promise.all(started.map((c) => c.stop()));
  Deno.addSignalListener("SIGINT", async () => {
    await stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    Deno.exit(130);
  });
  try {
    const mockPath = `${dir}/points.json`;
    const fileBytes = await writeMockFile(mockPath, { count: POINTS });
    console.log(
      `# Load test: ${POINTS} points (${(fileBytes / 1e6).toFixed(0)} MB mock file), ${
        useWrk ? `wrk -t${THREADS} -c${CONNECTIONS}` : `built-in Deno client, ${CONNECTIONS} connections`
      }, ${ROUNDS} rounds of ${DURATION_S} s per run (each after ${WARMUP_S} s warm-up), ${cores} cores, ${cpu}`,
    );
    const paths = ["/coherence/metrics?window=24h", "/coherence/metrics?window=1h"];

    const services = await Promise.all(LEVELS.map((level) => startLoadedService(mockPath, level)));
    started.push(...services);
    const sample = await get(`${services[0].url}${paths[0]}`);
    if (sample?.status !== 200) throw new Error(`service answered ${sample?.status} on ${paths[0]}`);
    const bodyPath = `${dir}/body.json`;
    await Deno.writeTextFile(bodyPath, sample.text);
    const serviceRss = await rssMb(services[0].process.pid);
    const baseline = await startBaseline(bodyPath);
    started.push(baseline);

    const targets: { name: string; url: string; pid: number }[] = [
      {
        name: "bare Hono, constant JSON (ceiling)",
        url: `${baseline.url}${paths[0]}`,
        pid: baseline.process.pid,
      },
      ...paths.flatMap((path) =>
        LEVELS.map((level, i) => ({
          name: `service ${path}, LOG_LEVEL=${level}`,
          url: `${services[i].url}${path}`,
          pid: services[i].process.pid,
        }))
      ),
    ];
    const series: Series[] = [];
    for (const { name, url } of targets) {
      const res = await get(url);
      if (res?.status !== 200) throw new Error(`${url} answered ${res?.status}`);
      series.push({ name, bytes: new TextEncoder().encode(res.text).length, rounds: [] });
    }
    for (const service of services) await settle(service);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, { url, pid }] of targets.entries()) {
        await load(url, WARMUP_S);
        const cpuBefore = await cpuSeconds(pid);
        const result = await load(url, DURATION_S);
        result.cpuUsPerRequest = (await cpuSeconds(pid) - cpuBefore) * 1e6 / result.requests;
        series[i].rounds.push(result);
        console.error(`  round ${round}: ${series[i].name}: ${result.requestsPerSec.toFixed(0)} req/s`);
      }
    }
    await stopAll();

    const rows = summarise(series[0], series.slice(1));
    console.log("");
    console.log(summaryTable(rows));
    console.log(`\nService RSS with ${POINTS} points held: ${serviceRss.toFixed(0)} MB`);
    const failed = missedTargets(rows.slice(1));
    console.log(
      failed.length === 0
        ? "Targets met at both log levels: ≥ 50 % of the ceiling's requests/s (median of the rounds), p99 < 10 ms, " +
          "no errors."
        : `Targets missed by: ${failed.map((r) => r.name).join("; ")}`,
    );
    if (failed.length > 0) Deno.exitCode = 1;
  } finally {
    await stopAll();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
