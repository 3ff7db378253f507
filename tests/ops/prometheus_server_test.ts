/**
 * A real Prometheus server (Debian's `prometheus` package) scrapes the real service, started with the
 * permissions of `deno task start`, every second; PromQL through its HTTP API then sees what a dashboard
 * would: per-signal sums that never count the pool, the standard process metrics with real numbers, every
 * rejection reason at 0 (so `rate()` has series at once), and the alert rules of docs/prometheus-rules.yml
 * evaluating against the live series.
 *
 * Without the binary the test is skipped with a loud warning, except under CI=true, where that fails.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { REJECT_REASONS } from "../../src/http/prometheus.ts";
import { commandInstalled } from "./exposition.ts";

const PROMETHEUS = "prometheus";
const CI = Deno.env.get("CI") === "true";
const ROOT = new URL("../../", import.meta.url).pathname;
const RULES = new URL("../../docs/prometheus-rules.yml", import.meta.url).pathname;
/** How long Prometheus may take to start and scrape what the test waits for. */
const DEADLINE_MS = 20_000;

const havePrometheus = await commandInstalled(PROMETHEUS);
if (!havePrometheus && !CI) {
  console.warn(
    `\n!!! ${PROMETHEUS} not found: SKIPPING the test that scrapes /metrics with a real Prometheus server.\n` +
      "!!! Install it with: apt-get update && apt-get install -y prometheus   (CI=true makes this a failure)\n",
  );
}

/** A loopback port free a moment ago: Prometheus cannot listen on port 0, so the test picks one for it. */
function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** The permission flags of `deno task start`, so the service runs as deployed (no --allow-all). */
async function startTaskFlags(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const words: string[] = config.tasks.start.split(/\s+/);
  return words.filter((word) => word.startsWith("--"));
}

/** A child process whose stdout and stderr are collected (for the listening URL and for failure messages). */
function spawn(command: string, args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(command, { args, env, cwd: ROOT, stdout: "piped", stderr: "piped" }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    output: () => output,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await drained;
    },
  };
}

/** Calls `probe` until it returns a value (not undefined), up to the deadline. */
async function poll<T>(what: string, probe: () => Promise<T | undefined>, log: () => string): Promise<T> {
  const until = Date.now() + DEADLINE_MS;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`Timed out after ${DEADLINE_MS} ms waiting for ${what} (last error: ${last})\n${log()}`);
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return await response.json();
}

Deno.test({
  name:
    "a real Prometheus server scrapes /metrics: sums over signals exclude the pool, process metrics are real, rejection counters start at 0, the alert rules evaluate",
  ignore: !havePrometheus && !CI,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "coherence-prometheus-" });
    const service = spawn(Deno.execPath(), ["run", ...(await startTaskFlags()), "src/main.ts"], {
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "none",
      DATA_DIR: dir,
      LOG_LEVEL: "info",
      INGEST_INTERVAL_S: "3600",
    });
    let prometheus: ReturnType<typeof spawn> | undefined;
    const logs = () =>
      `--- service:\n${service.output().slice(-4000)}\n--- prometheus:\n${prometheus?.output() ?? ""}`;
    try {
      const serviceUrl = await poll("the service to listen", () => {
        const line = service.output().split("\n").find((l) => l.includes('"listening"'));
        return Promise.resolve(line ? (JSON.parse(line).properties.url as string) : undefined);
      }, logs);
      const target = new URL(serviceUrl).host;

      const port = freeLoopbackPort();
      await Deno.writeTextFile(
        `${dir}/prometheus.yml`,
        [
          "global:",
          "  scrape_interval: 1s",
          "  evaluation_interval: 1s",
          `rule_files: [${JSON.stringify(RULES)}]`,
          "scrape_configs:",
          "  - job_name: coherence",
          `    static_configs: [{ targets: [${JSON.stringify(target)}] }]`,
          "",
        ].join("\n"),
      );
      prometheus = spawn(PROMETHEUS, [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ]);
      const api = `http://127.0.0.1:${port}/api/v1`;
      const query = async (promql: string): Promise<VectorSample[]> => {
        const body = await getJson(`${api}/query?query=${encodeURIComponent(promql)}`) as {
          data: { result: VectorSample[] };
        };
        return body.data.result;
      };
      const byWindow = (samples: VectorSample[]) =>
        Object.fromEntries(samples.map((s) => [s.metric.window, Number(s.value[1])]));

      // Up: at least one scrape succeeded.
      await poll("the scrape target to be up", async () => {
        const body = await getJson(`${api}/targets`) as {
          data: { activeTargets: { health: string; scrapeUrl: string }[] };
        };
        const up = body.data.activeTargets.find((t) => t.scrapeUrl === `${serviceUrl}/metrics`);
        return up?.health === "up" ? true : undefined;
      }, logs);
      // The first ingest cycle's snapshot, scraped.
      await poll("the first snapshot to be scraped", async () => {
        const result = await query("coherence_pooled_window_points");
        return result.length > 0 ? result : undefined;
      }, logs);

      // The service's own answer at the snapshot's end: n per window for each real signal.
      const snapshotAt = Number((await query("coherence_snapshot_timestamp_seconds"))[0].value[1]);
      const end = new Date(snapshotAt * 1000).toISOString();
      const signals = (await getJson(`${serviceUrl}/coherence/signals`) as { signals: { signal: string }[] })
        .signals.map((s) => s.signal);
      ok(signals.length >= 2, `signals: ${signals}`);
      const expected: Record<string, number> = {};
      const pooled: Record<string, number> = {};
      for (const window of ["1h", "24h"]) {
        expected[window] = 0;
        for (const signal of signals) {
          const answer = await getJson(
            `${serviceUrl}/coherence/metrics?window=${window}&signal=${signal}&end=${end}`,
          ) as {
            n: number;
          };
          expected[window] += answer.n;
        }
        pooled[window] =
          (await getJson(`${serviceUrl}/coherence/metrics?window=${window}&end=${end}`) as { n: number }).n;
      }
      ok(expected["1h"] > 0);

      // sum by (window) over signals counts real signals only: the pool is a metric of its own.
      deepEqual(byWindow(await query("sum by (window) (coherence_window_points)")), expected);
      deepEqual(byWindow(await query("coherence_pooled_window_points")), pooled);
      deepEqual(pooled, expected);
      deepEqual(await query('coherence_window_points{signal="*"}'), []);
      equal(
        (await query("count(count by (signal) (coherence_window_mean_score))"))[0].value[1],
        String(signals.length),
      );
      ok((await query('coherence_window_volatility_index_ratio{window="24h"}')).length > 0);

      // Process metrics from prom-client's default collectors, real under the service's own permissions.
      const rss = await query("process_resident_memory_bytes");
      equal(rss.length, 1);
      ok(Number(rss[0].value[1]) > 10_000_000, `RSS ${rss[0].value[1]} bytes`);
      ok(Number((await query("process_cpu_seconds_total"))[0].value[1]) > 0);
      ok(Number((await query("nodejs_heap_size_used_bytes"))[0].value[1]) > 0);
      // /proc/self is closed to it (no --allow-all): those gauges are absent, never a constant 0.
      deepEqual(await query("process_open_fds"), []);
      deepEqual(await query('{__name__=~"coherence_process_.*"}'), []);

      // Every rejection reason has a series at 0 from the first scrape, so rate() answers at once.
      const rejected = await query("coherence_ingest_rejected_records_total");
      deepEqual(rejected.map((s) => s.metric.reason).sort(), [...REJECT_REASONS].sort());
      equal((await query('coherence_ingest_rejected_records_total{reason="signal_limit"}'))[0].value[1], "0");
      const rates = await poll("two scrapes for rate()", async () => {
        const result = await query("rate(coherence_ingest_rejected_records_total[10s])");
        return result.length === REJECT_REASONS.length ? result : undefined;
      }, logs);
      ok(rates.every((s) => s.value[1] === "0"), JSON.stringify(rates));

      // docs/prometheus-rules.yml evaluates against the live series; its drift alert fires per real signal.
      const rules = await poll("the alert rules to be evaluated", async () => {
        const body = await getJson(`${api}/rules`) as {
          data: {
            groups: { name: string; rules: { name: string; health: string; lastEvaluation: string }[] }[];
          };
        };
        const group = body.data.groups.find((g) => g.name === "coherence-engine");
        return group?.rules.every((r) => !r.lastEvaluation.startsWith("0001")) ? group.rules : undefined;
      }, logs);
      deepEqual(rules.map((r) => [r.name, r.health]), [
        ["CoherenceDriftRiskHigh", "ok"],
        ["CoherenceIngestStalled", "ok"],
      ]);
      const high = await query('coherence_window_risk_level{window="1h"} >= 2');
      ok(high.length > 0, "the bundled fixture has a signal at high risk over 1 h");
      const alerts = await query('ALERTS{alertname="CoherenceDriftRiskHigh"}');
      deepEqual(alerts.map((a) => a.metric.signal).sort(), high.map((s) => s.metric.signal).sort());
      ok(alerts.every((a) => a.metric.alertstate === "pending" && a.metric.signal !== "*"));
    } finally {
      await prometheus?.stop();
      await service.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
