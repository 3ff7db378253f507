/** End to end: the real server on port 0, over real HTTP, on the bundled fixture and on a file. */
import { deepEqual, equal, ok } from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { momentsOf } from "../../src/core/stats.ts";
import { startService } from "../../src/main.ts";
import { MetricsResponseSchema, StatusSchema } from "../../src/schemas.ts";

async function waitForIngest(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const status = StatusSchema.parse(await (await fetch(`${url}/status`)).json());
    if (status.lastIngest?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("ingest did not complete");
}

Deno.test("the server starts on port 0 with the bundled fixture replayed to now and answers over HTTP", async () => {
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "none", LOG_LEVEL: "fatal" });
  const before = Date.now();
  const service = await startService(config);
  try {
    const health = await fetch(`${service.url}/health`);
    equal(health.status, 200);
    equal((await health.json()).status, "ok");
    await waitForIngest(service.url);

    const signals = await (await fetch(`${service.url}/coherence/signals`)).json();
    deepEqual(signals.signals.map((s: { signal: string }) => s.signal), ["alpha", "beta", "delta", "gamma"]);
    for (const s of signals.signals) {
      equal(s.n, 1440, "a 24 h backfill at a 60 s cadence");
      const newest = Date.parse(s.newest);
      ok(
        newest <= Date.now() && newest >= Math.floor(before / 1000) * 1000,
        "the newest record lands at start-up",
      );
    }
    const risks: Record<string, string> = {};
    for (const signal of ["alpha", "beta", "gamma"]) {
      const res = await fetch(`${service.url}/coherence/metrics?window=24h&signal=${signal}`, {
        headers: { "X-Request-ID": `e2e-${signal}` },
      });
      equal(res.headers.get("x-request-id"), `e2e-${signal}`);
      const body = MetricsResponseSchema.parse(await res.json());
      equal(body.n, 1440);
      risks[signal] = body.predictedDriftRisk;
    }
    deepEqual(risks, { alpha: "low", beta: "medium", gamma: "high" });
    const missing = await fetch(`${service.url}/coherence/metrics?signal=nobody`);
    equal(missing.status, 404);
    equal(missing.headers.get("content-type"), "application/problem+json");
    await missing.body?.cancel();
  } finally {
    await service.shutdown();
  }
});

Deno.test("MOCK_PATH with MOCK_REPLAY=false serves a bare-array file's own timestamps, reproducibly with end=", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/mock.json`;
  const scores = [81.5, 79.25, 90, 84.125, 88];
  const records = scores.map((score, i) => ({
    signal_id: "s1",
    timestamp: Date.parse("2025-01-01T00:00:00Z") / 1000 + i * 60,
    coherence_score: score,
  }));
  await Deno.writeTextFile(
    path,
    JSON.stringify([...records, { signal_id: "s1", timestamp: "bad", coherence_score: 1 }]),
  );
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    PERSISTENCE: "none",
    LOG_LEVEL: "fatal",
    MOCK_PATH: path,
    MOCK_REPLAY: "false",
  });
  const service = await startService(config);
  try {
    await waitForIngest(service.url);
    const status = StatusSchema.parse(await (await fetch(`${service.url}/status`)).json());
    equal(status.source.kind, "mock_file");
    equal(status.lastIngest?.accepted, 5);
    equal(status.lastIngest?.rejected, 1);
    const res = await fetch(`${service.url}/coherence/metrics?signal=s1&window=1h&end=2025-01-01T00:04:00Z`);
    const body = MetricsResponseSchema.parse(await res.json());
    const expected = momentsOf(scores);
    equal(body.n, 5);
    ok(Math.abs(body.coherenceMean! - expected.mean) < 1e-12);
    ok(Math.abs(body.stdev! - Math.sqrt(expected.m2 / 4)) < 1e-12);
  } finally {
    await service.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
