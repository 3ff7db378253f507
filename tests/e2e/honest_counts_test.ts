/**
 * Honest counts when things go wrong, end to end (the real service, its /status, /metrics and snapshot store,
 * against an upstream served on loopback by the test): a failed cycle reports what it did upstream, writes no
 * snapshot rows, and a failing snapshot store makes /status degraded.
 */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { HistoryResponseSchema, StatusSchema } from "../../src/schemas.ts";
import { parseSamples, valueOf } from "../ops/exposition.ts";

const KEY = "honest-key-5b1e77";

async function status(url: string) {
  return StatusSchema.parse(await (await fetch(`${url}/status`)).json());
}

async function waitFor(url: string, done: (s: Awaited<ReturnType<typeof status>>) => boolean) {
  for (let i = 0; i < 1000; i++) {
    const s = await status(url);
    if (done(s)) return s;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("timed out waiting for the service");
}

async function historyCount(url: string, signal: string): Promise<number> {
  const res = await fetch(`${url}/coherence/history?signal=${encodeURIComponent(signal)}&window=1h`);
  return HistoryResponseSchema.parse(await res.json()).count;
}

const env = (dataDir: string, baseUrl: string) => ({
  PORT: "0",
  HOST: "127.0.0.1",
  PERSISTENCE: "sqlite",
  DATA_DIR: dataDir,
  LOG_LEVEL: "fatal",
  DARSHAN_BASE_URL: baseUrl,
  DARSHAN_API_KEY: KEY,
  DARSHAN_MAX_RETRIES: "2",
  DARSHAN_RETRY_BASE_MS: "1",
  DARSHAN_RETRY_CAP_MS: "1",
  INGEST_INTERVAL_S: "3600",
});

Deno.test("a restart with the upstream failing part-way: the failed cycle's pages, retries, waits, latency and out-of-window records are reported, and no snapshot rows are written", async () => {
  const dir = await Deno.makeTempDir();
  let phase: "up" | "failing" = "up";
  const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  const upstream = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const cursor = new URL(req.url).searchParams.get("cursor");
    if (phase === "up") {
      return Response.json({ data: [{ signal: "alpha", timestamp: minutesAgo(5), coherenceScore: 80 }] });
    }
    if (cursor === null) {
      // Page 1: one valid record, two far outside the window (year 3000, 1970), and a next page.
      return Response.json({
        data: [
          { signal: "alpha", timestamp: minutesAgo(3), coherenceScore: 81 },
          { signal: "alpha", timestamp: "3000-01-01T00:00:00Z", coherenceScore: 82 },
          { signal: "alpha", timestamp: "1970-01-02T00:00:00Z", coherenceScore: 83 },
        ],
        next_cursor: "p2",
      });
    }
    // Page 2: rate-limited twice (Retry-After: 0), then down.
    const served = ++page2Attempts;
    if (served <= 2) return new Response(null, { status: 429, headers: { "Retry-After": "0" } });
    return new Response("maintenance", { status: 503 });
  });
  let page2Attempts = 0;
  const baseUrl = `http://127.0.0.1:${upstream.addr.port}`;
  try {
    let service = await startService(loadConfig(env(dir, baseUrl)));
    try {
      await waitFor(service.url, (s) => s.persistence.rowsWritten > 0);
      equal(await historyCount(service.url, "alpha"), 1);
      equal(await historyCount(service.url, "*"), 1);
    } finally {
      await service.shutdown();
    }

    phase = "failing";
    service = await startService(loadConfig(env(dir, baseUrl)));
    try {
      const s = await waitFor(service.url, (s) => s.recentIngests.length > 0);
      const cycle = s.recentIngests[0];
      equal(cycle.ok, false);
      match(cycle.error ?? "", /failed after 3 attempts: 503/);
      equal(cycle.pages, 1);
      equal(cycle.retries, 2);
      equal(cycle.retryAfterWaitsMs.length, 2);
      equal(cycle.received, 3);
      equal(cycle.outOfWindow, 2, "records from year 3000 and 1970 are counted, not lost");
      equal(cycle.loopGuardStops, 0);
      ok(cycle.upstreamLatencyMs > 0, "the latency of 4 requests is reported");
      equal(cycle.inserted, 0, "nothing of a failed cycle is applied");
      equal(s.status, "degraded");

      const samples = parseSamples(await (await fetch(`${service.url}/metrics`)).text());
      equal(valueOf(samples, "coherence_ingest_cycles_total", { outcome: "failed" }), 1);
      equal(valueOf(samples, "coherence_ingest_pages_total"), 1);
      equal(valueOf(samples, "coherence_ingest_retries_total"), 2);
      equal(valueOf(samples, "coherence_ingest_retry_after_waits_total"), 2);
      equal(valueOf(samples, "coherence_ingest_out_of_window_records_total"), 2);
      equal(valueOf(samples, "coherence_ingest_loop_guard_stops_total"), 0);
      equal(valueOf(samples, "coherence_ingest_upstream_latency_seconds_count"), 1);
      ok((valueOf(samples, "coherence_ingest_upstream_latency_seconds_sum") ?? 0) > 0);

      // The gap in the history is the truth: no rows with n = 0 and risk unknown after the restart.
      equal(s.persistence.rowsWritten, 0);
      equal(s.persistence.lastWrite, null);
      equal(await historyCount(service.url, "alpha"), 1);
      equal(await historyCount(service.url, "*"), 1);
    } finally {
      await service.shutdown();
    }
  } finally {
    await upstream.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/status is degraded while the snapshot store is failing, even though ingest succeeds", async () => {
  const dir = await Deno.makeTempDir();
  const blocker = join(dir, "not-a-dir");
  await Deno.writeTextFile(blocker, "a file where DATA_DIR should be");
  const service = await startService(
    loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "sqlite",
      DATA_DIR: join(blocker, "data"),
      LOG_LEVEL: "fatal",
    }),
  );
  try {
    const s = await waitFor(service.url, (s) => s.persistence.writeFailures > 0);
    equal(s.lastIngest?.ok, true);
    equal(s.persistence.lastWrite?.ok, false);
    equal(s.status, "degraded");
  } finally {
    await service.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
