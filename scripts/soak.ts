/**
 * Soak: the real service (a child process) ingesting every second from a mock upstream whose data keeps
 * arriving, under steady request load, sampling RSS and latency. Loopback only; stops by itself.
 *
 *   deno task soak [--seconds 60] [--concurrency 16] [--sample 5] [--heap-mb 384]
 *
 * Fails (exit 1) on any request error or 5xx, on any failed ingest cycle, or when RSS keeps growing:
 * the last third of the samples averaging more than 20 % above the middle third.
 *
 * The service runs with V8's old space capped at --heap-mb (0: no cap). Without a cap V8 defers major
 * collections while memory is plentiful, so RSS climbs with garbage for minutes and says nothing about
 * leaks; with a cap, garbage is collected and a real leak shows as growth (or ends the process).
 */
import { parseArgs } from "node:util";
import { createMockDarshan, generateRecords, mulberry32 } from "../src/mock/darshan_server.ts";
import { freePort, get, rssMb, waitFor } from "./perf_util.ts";

const args = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "60" },
    concurrency: { type: "string", default: "16" },
    sample: { type: "string", default: "5" },
    "heap-mb": { type: "string", default: "384" },
  },
});
const SECONDS = Number(args.values.seconds);
const CONCURRENCY = Number(args.values.concurrency);
const SAMPLE_S = Number(args.values.sample);
const HEAP_MB = Number(args.values["heap-mb"]);
if (!(SECONDS > 0 && CONCURRENCY > 0 && SAMPLE_S > 0)) {
  throw new Error("--seconds, --concurrency and --sample must be positive");
}

const KEY = "soak-key";
const SIGNALS = ["alpha", "beta", "gamma", "delta"];
const now = Date.now();
// One record per signal per second: 24 h of history plus the soak's duration still to come.
const stepMs = 1000;
const count = SIGNALS.length * Math.ceil((86_400 + SECONDS + 60) * 1000 / stepMs);
const records = generateRecords(count, {
  random: mulberry32(1),
  endMs: now + (SECONDS + 60) * 1000,
  stepMs,
  signals: SIGNALS,
});
const mock = createMockDarshan({ records, apiKey: KEY, maxPageSize: 10_000 });
const upstream = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, mock.app.fetch);

// A free loopback port: the service logs only warnings here, so its "listening" line is not printed.
const port = freePort();
const dataDir = await Deno.makeTempDir();
const child = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-all",
    ...(HEAP_MB > 0 ? [`--v8-flags=--max-old-space-size=${HEAP_MB}`] : []),
    new URL("../src/main.ts", import.meta.url).pathname,
  ],
  env: {
    PORT: String(port),
    HOST: "127.0.0.1",
    DATA_DIR: dataDir,
    PERSISTENCE: "sqlite",
    LOG_LEVEL: "warning",
    INGEST_INTERVAL_S: "1",
    DARSHAN_BASE_URL: `http://127.0.0.1:${upstream.addr.port}`,
    DARSHAN_API_KEY: KEY,
    DARSHAN_PAGE_SIZE: "10000",
  },
  stdout: "null",
  stderr: "inherit",
}).spawn();

function percentile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const PATHS = [
  "/coherence/metrics?window=1h",
  "/coherence/metrics?window=24h&signal=alpha",
  "/coherence/metrics?window=5m&signal=gamma",
  "/coherence/predict?window=1h&signal=beta",
  "/coherence/series?window=1h&signal=delta&points=60",
  "/coherence/signals",
  "/status",
];

let failed = false;
try {
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await get(`${url}/health`))?.status === 200 || undefined, {
    what: "the service to start",
    timeoutMs: 10_000,
    intervalMs: 50,
  });
  // Let the backfill finish before the clock starts.
  for (let i = 0; i < 600; i++) {
    const status = await (await fetch(`${url}/status`)).json();
    if (status.lastIngest?.ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const deadline = Date.now() + SECONDS * 1000;
  let latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const samples: {
    t: number;
    rss: number;
    rps: number;
    p50: number;
    p99: number;
    points: number;
    cycles: string;
  }[] = [];
  const worker = async (id: number) => {
    let i = id;
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        const res = await fetch(`${url}${PATHS[i++ % PATHS.length]}`);
        await res.arrayBuffer();
        if (res.status >= 400) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - started);
      requests++;
    }
  };
  const sampler = (async () => {
    const start = Date.now();
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
      const status = await (await fetch(`${url}/status`)).json();
      const cycles = status.recentIngests as { ok: boolean }[];
      samples.push({
        t: Math.round((Date.now() - start) / 1000),
        rss: await rssMb(child.pid),
        rps: Math.round(latencies.length / SAMPLE_S),
        p50: percentile(latencies, 0.5),
        p99: percentile(latencies, 0.99),
        points: status.points,
        cycles: `${cycles.filter((c) => c.ok).length}/${cycles.length} ok`,
      });
      if (cycles.some((c) => !c.ok)) failed = true;
      latencies = [];
    }
  })();
  await Promise.all([...Array.from({ length: CONCURRENCY }, (_, i) => worker(i)), sampler]);

  const heap = HEAP_MB > 0 ? `V8 old space capped at ${HEAP_MB} MB` : "no heap cap";
  console.log(`soak: ${SECONDS} s, ${CONCURRENCY} concurrent clients, ingest every 1 s, ${heap}`);
  console.log("   t(s)   RSS(MB)   req/s   p50(ms)   p99(ms)   points   last cycles");
  for (const s of samples) {
    console.log(
      `${String(s.t).padStart(7)} ${s.rss.toFixed(1).padStart(9)} ${String(s.rps).padStart(7)} ${
        s.p50.toFixed(2).padStart(9)
      } ${s.p99.toFixed(2).padStart(9)} ${String(s.points).padStart(8)}   ${s.cycles}`,
    );
  }
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: typeof samples) => xs.reduce((sum, s) => sum + s.rss, 0) / xs.length;
  const middle = avg(samples.slice(third, 2 * third));
  const last = avg(samples.slice(-third));
  const growth = (last - middle) / middle;
  console.log(
    `requests: ${requests}, errors: ${errors}; RSS last third vs middle third: ${
      (growth * 100).toFixed(1)
    } %`,
  );
  if (errors > 0) failed = true;
  if (samples.length >= 3 && growth > 0.2) {
    console.log("RSS keeps growing");
    failed = true;
  }
} finally {
  child.kill("SIGTERM");
  await child.status;
  mock.close();
  await upstream.shutdown();
  await Deno.remove(dataDir, { recursive: true });
}
console.log(failed ? "soak: FAILED" : "soak: ok");
Deno.exit(failed ? 1 : 0);
