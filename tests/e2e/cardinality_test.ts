/**
 * Bounded cardinality end to end (issue 12): the real service, as a child process, against a loopback upstream
 * serving 50,000 distinct signal names. It holds MAX_SIGNALS (10,000) of them, rejects the rest as
 * `signal_limit` and says so; memory, `/health` latency and the `/metrics` scrape stay bounded; no route 5xx.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { toRfc3339 } from "../../src/core/report.ts";
import { StatusSchema } from "../../src/schemas.ts";
import { fakeIngest, spawnMain, testApp } from "../helpers.ts";

const NAMES = 50_000;
const KEY = "cardinality-key-51c0";
const MB = 1024 * 1024;

/**
 * Serves `NAMES` signals, one point each a minute ago, in cursor pages of the requested size. The pages of the
 * default size are rendered before the service starts: this process times the /health probes, so its own
 * event loop must not be busy building JSON while they run.
 */
function hostileUpstream() {
  const atMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const pages = new Map<string, string>();
  const page = (from: number, size: number): string => {
    const key = `${from}/${size}`;
    let body = pages.get(key);
    if (body === undefined) {
      const to = Math.min(NAMES, from + size);
      const data = [];
      for (let i = from; i < to; i++) {
        data.push({
          signal: `sig-${String(i).padStart(5, "0")}`,
          timestamp: toRfc3339(atMs),
          coherenceScore: 50 + (i % 50),
        });
      }
      pages.set(key, body = JSON.stringify({ data, next_cursor: to < NAMES ? String(to) : null }));
    }
    return body;
  };
  for (let from = 0; from < NAMES; from += 1000) page(from, 1000);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const body = page(
      Number(url.searchParams.get("cursor") ?? 0),
      Number(url.searchParams.get("page_size") ?? 1000),
    );
    return new Response(body, { headers: { "Content-Type": "application/json" } });
  });
  return { server, baseUrl: `http://127.0.0.1:${server.addr.port}` };
}

async function rssMb(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
}

/** GETs `url`, returning the status, body size and elapsed ms. */
async function timed(url: string): Promise<{ status: number; bytes: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(url);
  const bytes = (await response.arrayBuffer()).byteLength;
  return { status: response.status, bytes, ms: performance.now() - started };
}

/** Probes /health back to back (10 ms apart) until `done` settles; returns every answer's time, ms. */
async function probeHealth(url: string, done: Promise<unknown>): Promise<number[]> {
  let finished = false;
  done.finally(() => finished = true);
  const times: number[] = [];
  while (!finished) {
    const r = await timed(`${url}/health`);
    equal(r.status, 200);
    times.push(r.ms);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return times;
}

/** The 95th percentile (nearest rank) and the maximum of some times, ms. */
function summary(times: number[]): { p95: number; max: number; probes: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const p95 = sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? NaN;
  return { p95, max: sorted.at(-1) ?? NaN, probes: sorted.length };
}

/** The /health target of issue 12, ms. */
const HEALTH_MS = 100;

Deno.test({
  name:
    "the service holds MAX_SIGNALS of 50,000 upstream names within 300 MB, answers /health fast and never 5xx",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const upstream = hostileUpstream();
    const dataDir = await Deno.makeTempDir({ prefix: "coherence_cardinality_" });
    // The child's RSS is the point: under `deno task test --coverage` it would also collect coverage (about
    // +100 MB), so it runs with the environment minus DENO_COVERAGE_DIR.
    const inherited = Deno.env.toObject();
    delete inherited.DENO_COVERAGE_DIR;
    const { child, reader, out, url } = await spawnMain({
      clearEnv: true,
      env: {
        ...inherited,
        DARSHAN_BASE_URL: upstream.baseUrl,
        DARSHAN_API_KEY: KEY,
        HOST: "127.0.0.1",
        PORT: "0",
        DATA_DIR: dataDir,
        INGEST_INTERVAL_S: "3600",
        DEFAULT_WINDOWS: "1h,24h",
      },
      until: '"listening"',
    });
    let peakRss = 0;
    const sampler = setInterval(async () => {
      peakRss = Math.max(peakRss, await rssMb(child.pid).catch(() => 0));
    }, 50);
    try {
      // Ingest: the whole pull, the merge and the snapshot write (one row per held signal and window).
      let printed = out;
      const ingested = (async () => {
        while (!printed.includes('"snapshots') && !printed.includes('"ingest cycle ok"')) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`service exited:\n${printed}`);
          printed += value;
        }
      })();
      const duringIngest = summary(await probeHealth(url, ingested));
      await ingested;
      // The snapshot follows the cycle's log line: wait until it is written.
      const deadline = Date.now() + 30_000;
      let status = StatusSchema.parse(await (await fetch(`${url}/status`)).json());
      while (status.persistence.lastWrite === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = StatusSchema.parse(await (await fetch(`${url}/status`)).json());
      }
      ok(status.persistence.lastWrite?.ok, JSON.stringify(status.persistence.lastWrite));
      equal(status.signals.length, 10_000);
      equal(status.maxSignals, 10_000);
      equal(status.lastIngest?.accepted, 10_000);
      equal(status.lastIngest?.rejectedByReason.signal_limit, 40_000);
      deepEqual(status.warnings.map((w) => w.code), ["signal_limit"]);
      ok(status.warnings[0].message.includes("MAX_SIGNALS=10000"), status.warnings[0].message);

      // The same probes with nothing running: what this machine's load alone costs a probe (printed only).
      const idle = summary(await probeHealth(url, new Promise((resolve) => setTimeout(resolve, 1000))));

      // Scrapes: bounded in size and time, and /health stays fast while they run (five in a row, for enough
      // probes to take a percentile of).
      const scrapes = (async () => {
        const all = [];
        for (let i = 0; i < 5; i++) all.push(await timed(`${url}/metrics`));
        return all;
      })();
      const duringScrape = summary(await probeHealth(url, scrapes));
      const metrics = (await scrapes).reduce((a, b) => (b.ms > a.ms ? b : a));
      equal(metrics.status, 200);
      const text = await (await fetch(`${url}/metrics`)).text();
      ok(/^coherence_metrics_signals_omitted 9000$/m.test(text), "9,000 signals omitted from /metrics");
      ok(/^coherence_ingest_rejected_records_total\{reason="signal_limit"\} 40000$/m.test(text));

      // Every route answers without a 5xx.
      const routes = [
        "/",
        "/status",
        "/coherence/signals",
        "/coherence/metrics?window=1h",
        "/coherence/metrics?window=1h&signal=sig-00042",
        "/coherence/predict?window=1h",
        "/coherence/series?window=1h",
        "/coherence/history?window=1h",
        "/coherence/history?window=1h&signal=sig-00042",
        "/openapi.json",
      ];
      for (const route of routes) {
        const r = await timed(`${url}${route}`);
        ok(r.status < 500, `${route} answered ${r.status}`);
      }
      const rss = await rssMb(child.pid);
      peakRss = Math.max(peakRss, rss);
      const ms = (n: number) => n.toFixed(1);
      console.log(
        `50,000 names: peak RSS ${ms(peakRss)} MB; /health during ingest p95 ${ms(duringIngest.p95)} ms, ` +
          `max ${ms(duringIngest.max)} ms (${duringIngest.probes} probes); during scrapes p95 ` +
          `${ms(duringScrape.p95)} ms, max ${ms(duringScrape.max)} ms (${duringScrape.probes} probes); ` +
          `idle p95 ${ms(idle.p95)} ms, max ${ms(idle.max)} ms; slowest scrape ${
            (metrics.bytes / MB).toFixed(2)
          } MB in ${metrics.ms.toFixed(0)} ms`,
      );
      ok(peakRss < 300, `peak RSS ${peakRss.toFixed(1)} MB`);
      ok(metrics.bytes < 5 * MB, `scrape ${metrics.bytes} bytes`);
      ok(metrics.ms < 1000, `scrape took ${metrics.ms.toFixed(0)} ms`);
      // The bound, on the 95th percentile: this 2-core machine is shared, and a probe that waits for
      // the CPU is no stall of ours. Ingest is prepared and written in slices (staged_apply.ts, the
      // snapshotter); a scrape is formatted metric by metric with a pause between them.
      ok(duringIngest.probes >= 10, `only ${duringIngest.probes} probes during ingest`);
      ok(duringIngest.p95 <= HEALTH_MS, `/health p95 ${ms(duringIngest.p95)} ms during ingest`);
      ok(duringScrape.p95 <= HEALTH_MS, `/health p95 ${ms(duringScrape.p95)} ms during scrapes`);
    } finally {
      clearInterval(sampler);
      await reader.cancel().catch(() => {});
      child.kill("SIGTERM");
      await child.status;
      await upstream.server.shutdown();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test("/coherence/series answers 200 with 150,000 signals held (no spread of every signal into a call)", async () => {
  const store = new PointStore();
  const ts = new Float64Array(1), score = new Float64Array(1);
  const now = Date.parse("2025-10-29T17:00:00Z");
  for (let i = 0; i < 150_000; i++) {
    ts[0] = now - 60_000 - i;
    score[0] = 50 + (i % 50);
    store.applyColumns(`s${i}`, ts, score);
  }
  const { app } = testApp({ store, now, ingest: fakeIngest(), env: { MAX_SIGNALS: "200000" } });
  const response = await app.request("/coherence/series?window=1h");
  equal(response.status, 200, await response.clone().text());
  const body = await response.json();
  equal(body.signal, "*");
});
