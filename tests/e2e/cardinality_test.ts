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

/** Serves `NAMES` signals, one point each a minute ago, in cursor pages of the requested size. */
function hostileUpstream() {
  const atMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const url = new URL(req.url);
    const from = Number(url.searchParams.get("cursor") ?? 0);
    const size = Number(url.searchParams.get("page_size") ?? 1000);
    const to = Math.min(NAMES, from + size);
    const data = [];
    for (let i = from; i < to; i++) {
      data.push({
        signal: `sig-${String(i).padStart(5, "0")}`,
        timestamp: toRfc3339(atMs),
        coherenceScore: 50 + (i % 50),
      });
    }
    return Response.json({ data, next_cursor: to < NAMES ? String(to) : null });
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

/** Probes /health back to back until `done` resolves; returns the slowest answer, ms. */
async function probeHealth(url: string, done: Promise<unknown>): Promise<{ maxMs: number; probes: number }> {
  let finished = false;
  done.finally(() => finished = true);
  let maxMs = 0, probes = 0;
  while (!finished) {
    const r = await timed(`${url}/health`);
    equal(r.status, 200);
    maxMs = Math.max(maxMs, r.ms);
    probes++;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { maxMs, probes };
}

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
      const duringIngest = await probeHealth(url, ingested);
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

      // A scrape: bounded in size and time, and /health stays fast while it runs.
      const scrape = timed(`${url}/metrics`);
      const duringScrape = await probeHealth(url, scrape);
      const metrics = await scrape;
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
      console.log(
        `50,000 names: peak RSS ${peakRss.toFixed(1)} MB; /health max ${duringIngest.maxMs.toFixed(1)} ms ` +
          `during ingest (${duringIngest.probes} probes), ${
            duringScrape.maxMs.toFixed(1)
          } ms during a scrape; ` +
          `scrape ${(metrics.bytes / MB).toFixed(2)} MB in ${metrics.ms.toFixed(0)} ms`,
      );
      ok(peakRss < 300, `peak RSS ${peakRss.toFixed(1)} MB`);
      ok(metrics.bytes < 5 * MB, `scrape ${metrics.bytes} bytes`);
      ok(metrics.ms < 1000, `scrape took ${metrics.ms.toFixed(0)} ms`);
      // The target is 100 ms, NOT met during ingest yet: the cycle's synchronous merge (~0.4 s) and the snapshot
      // of 20,002 rows computed and written to SQLite in one step (~2 s on this shared, loaded 2-core machine)
      // block the event loop. The bound only catches a worse stall; see CHANGELOG ("Known").
      ok(duringIngest.maxMs < 5000, `/health took ${duringIngest.maxMs.toFixed(0)} ms during ingest`);
      // A scrape is one synchronous step of at most its own duration (under 1 s): 0.9 MB, 150-360 ms measured.
      ok(duringScrape.maxMs < 1000, `/health took ${duringScrape.maxMs.toFixed(0)} ms during a scrape`);
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
