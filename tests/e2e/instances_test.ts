/**
 * Several instances, one truth, end to end (issue 16 items 1–5): three real service processes (`src/main.ts`)
 * share one DATA_DIR with PERSISTENCE=kv, against an upstream served here that grows by one point a second per
 * signal and counts requests per instance (each instance has its own DARSHAN_API_KEY).
 *
 * (a) the upstream sees one instance's request rate, and every /status names the same holder;
 * (b) the same /coherence/metrics?…&end= on each instance gives identical numbers; newest points agree;
 * (c) kill -9 of the holder: another ingests within LEASE_S (+ margin), the survivors answer every request
 *     meanwhile without a 5xx, and afterwards no point is lost or doubled and no snapshot or transition is
 *     doubled.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { spawnMain, waitFor } from "../helpers.ts";
import { SignalsResponseSchema, StatusSchema } from "../../src/schemas.ts";

const LEASE_S = 3;
const SYNC_MS = 1_000;
const SIGNALS = ["alpha", "beta"];
const IDS = ["i0", "i1", "i2"];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The upstream's truth: one point a second per signal from `startMs`, scores a fixed function of time. */
function score(signal: string, t: number): number {
  const s = signal === "alpha" ? 1 : 2;
  return Math.round((60 + 25 * Math.sin(t / 7_000 + s) + 10 * Math.cos(t / 1_300 * s)) * 1000) / 1000;
}

function parseBound(text: string | null): number | null {
  if (text === null || text === "") return null;
  return /^\d+$/.test(text) ? Number(text) * (text.length <= 10 ? 1000 : 1) : Date.parse(text);
}

interface Hit {
  instance: string;
  at: number;
}

async function json(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  return await res.json();
}

const status = async (url: string) => StatusSchema.parse(await json(`${url}/status`));

/**
 * The answer's numbers and warning codes (latency and anything time-of-request dependent left out; a warning's
 * message may name the coverage start, which moves with every cycle, so only the codes are compared).
 */
function numbers(body: Record<string, unknown>) {
  const {
    signal,
    coherenceMean,
    stdev,
    volatilityIndex,
    predictedDriftRisk,
    timestamp,
    windowSec,
    n,
    inputs,
    warnings,
  } = body;
  return {
    warnings: (warnings as { code: string }[]).map((w) => w.code),
    signal,
    coherenceMean,
    stdev,
    volatilityIndex,
    predictedDriftRisk,
    timestamp,
    windowSec,
    n,
    inputs,
  };
}

Deno.test("three service processes on one KV: one ingester, identical answers, kill -9 failover without 5xx, nothing lost or doubled", async () => {
  const dir = await Deno.makeTempDir({ prefix: "instances_e2e_" });
  const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
  const hits: Hit[] = [];
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const auth = request.headers.get("authorization") ?? "";
    hits.push({ instance: auth.replace(/^Bearer key-/, ""), at: Date.now() });
    const params = new URL(request.url).searchParams;
    const from = parseBound(params.get("from")) ?? startMs - 1;
    const to = Math.min(parseBound(params.get("to")) ?? Infinity, Date.now());
    const data = [];
    for (let t = Math.max(startMs, Math.floor(from / 1000) * 1000); t <= to; t += 1000) {
      if (t <= from) continue;
      for (const signal of SIGNALS) {
        data.push({ signal, timestamp: new Date(t).toISOString(), coherenceScore: score(signal, t) });
      }
    }
    return Response.json({ data });
  });
  const baseUrl = `http://127.0.0.1:${upstream.addr.port}`;
  const children: { id: string; child: Deno.ChildProcess; url: string; done: Promise<void> }[] = [];
  try {
    for (const id of IDS) {
      const { child, reader, url } = await spawnMain({
        env: {
          PORT: "0",
          HOST: "127.0.0.1",
          PERSISTENCE: "kv",
          DATA_DIR: dir,
          LOG_LEVEL: "info",
          DARSHAN_BASE_URL: baseUrl,
          DARSHAN_API_KEY: `key-${id}`,
          DARSHAN_MAX_RETRIES: "1",
          INGEST_INTERVAL_S: "1",
          INGEST_OVERLAP_S: "10",
          DEFAULT_WINDOWS: "1m,5m",
          LEASE_S: String(LEASE_S),
          SYNC_INTERVAL: `${SYNC_MS}ms`,
          INSTANCE_ID: id,
        },
        until: '"listening"',
      });
      // Keep draining stdout, or a full pipe would block the child.
      const done = (async () => {
        try {
          while (!(await reader.read()).done) { /* drain */ }
        } catch { /* killed */ }
      })();
      children.push({ id, child, url, done });
    }

    // (a) One holder, named by all; followers have applied versions.
    const holder = await waitFor("one holder named by every instance, followers synced", async () => {
      const all = await Promise.all(children.map((c) => status(c.url)));
      const named = new Set(all.map((s) => s.lease?.holder));
      if (named.size !== 1 || all.some((s) => s.sync === null)) return undefined;
      const [name] = named;
      const followers = all.filter((s) => !s.lease!.isHolder);
      if (followers.length !== 2 || followers.some((s) => s.sync!.version < 2)) return undefined;
      return name ?? undefined;
    });
    ok(IDS.includes(holder));
    const windowStart = Date.now();
    await sleep(6_000);
    const windowHits = hits.filter((h) => h.at >= windowStart && h.at < windowStart + 6_000);
    const perInstance = Object.fromEntries(
      IDS.map((id) => [id, windowHits.filter((h) => h.instance === id).length]),
    );
    console.log(`upstream requests in 6 s: ${JSON.stringify(perInstance)}`);
    deepEqual(new Set(windowHits.map((h) => h.instance)), new Set([holder]), "only the holder pulls");
    ok(
      windowHits.length >= 4 && windowHits.length <= 7,
      `one instance's rate (≈ 1/s): ${windowHits.length} in 6 s`,
    );
    for (const c of children) equal((await status(c.url)).lease?.holder, holder);

    // (b) Identical numbers for a held end on every instance; newest points agree within one sync interval.
    const end = new Date(Math.floor((Date.now() - 5_000) / 1000) * 1000).toISOString();
    for (const signal of SIGNALS) {
      for (const window of ["1m", "5m"]) {
        const answers = await Promise.all(
          children.map(async (c) =>
            numbers(
              await json(`${c.url}/coherence/metrics?signal=${signal}&window=${window}&end=${end}`) as never,
            )
          ),
        );
        for (const a of answers.slice(1)) deepEqual(a, answers[0], `${signal} ${window} end=${end}`);
        equal(answers[0].n, window === "1m" ? 60 : 300, "one point a second, none lost or doubled");
      }
    }
    // A window reaching before the held history warns alike on every instance (followers take the holder's
    // coverage start from the shared points version).
    const early = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000).toISOString();
    for (const signal of SIGNALS) {
      const answers = await Promise.all(
        children.map(async (c) =>
          numbers(await json(`${c.url}/coherence/metrics?signal=${signal}&window=5m&end=${early}`) as never)
        ),
      );
      for (const a of answers.slice(1)) deepEqual(a, answers[0], `${signal} 5m end=${early}`);
      ok(answers[0].warnings.includes("window_exceeds_history"), `${answers[0].warnings}`);
    }
    const newestGaps: number[] = [];
    for (let i = 0; i < 10; i++) {
      const newest = await Promise.all(children.map(async (c) => {
        const body = SignalsResponseSchema.parse(await json(`${c.url}/coherence/signals`));
        return Math.max(...body.signals.map((s) => Date.parse(s.newest)));
      }));
      newestGaps.push(Math.max(...newest) - Math.min(...newest));
      await sleep(237);
    }
    console.log(`newest point gaps across instances, ms: ${newestGaps.join(", ")}`);
    const lags = (await Promise.all(children.map((c) => status(c.url))))
      .filter((s) => !s.lease!.isHolder).map((s) => s.sync!.lagMs);
    console.log(`followers' last commit → applied lag, ms: ${lags.join(", ")}`);
    for (const lag of lags) ok(lag !== null && lag <= SYNC_MS + 500, `lag ${lag} ms`);
    // Points are 1 s apart and arrive every cycle: a follower is behind by at most the sync interval, i.e.
    // by the points of one cycle.
    ok(Math.max(...newestGaps) <= SYNC_MS + 1_000, `newest gaps ${newestGaps}`);

    // (c) kill -9 of the holder.
    const dead = children.find((c) => c.id === holder)!;
    const survivors = children.filter((c) => c !== dead);
    const killedAt = Date.now();
    dead.child.kill("SIGKILL");
    await dead.child.status;
    let requests = 0;
    const failures: string[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        for (const c of survivors) {
          for (const path of ["/status", `/coherence/metrics?signal=alpha&window=1m`, "/coherence/signals"]) {
            requests++;
            try {
              const res = await fetch(`${c.url}${path}`);
              await res.body?.cancel();
              if (res.status >= 500) failures.push(`${c.id} ${path} ${res.status}`);
            } catch (error) {
              failures.push(`${c.id} ${path} ${String(error)}`);
            }
          }
        }
        await sleep(50);
      }
    })();
    const takeover = await waitFor("another instance pulling", () => {
      const hit = hits.find((h) => h.at > killedAt && h.instance !== holder);
      return Promise.resolve(hit);
    }, 20_000);
    const failoverMs = takeover.at - killedAt;
    console.log(`kill -9 → ${takeover.instance} pulls after ${failoverMs} ms`);
    ok(failoverMs <= LEASE_S * 1000 + 1_500, `failover ${failoverMs} ms`);
    await sleep(4_000);
    polling = false;
    await poller;
    console.log(`requests to the survivors during failover: ${requests}, failures: ${failures.length}`);
    deepEqual(failures, []);
    ok(requests > 50);

    // Afterwards: the survivors agree, and a window over the whole held span has every point exactly once.
    const newHolder = takeover.instance;
    await waitFor("survivors synced to the new holder", async () => {
      const all = await Promise.all(survivors.map((c) => status(c.url)));
      return all.every((s) => s.lease?.holder === newHolder && s.sync!.version > 0) ? true : undefined;
    });
    await sleep(2 * SYNC_MS);
    const after = new Date(Math.floor((Date.now() - 3_000) / 1000) * 1000).toISOString();
    for (const signal of SIGNALS) {
      const answers = await Promise.all(
        survivors.map(async (c) =>
          numbers(await json(`${c.url}/coherence/metrics?signal=${signal}&window=5m&end=${after}`) as never)
        ),
      );
      deepEqual(answers[1], answers[0]);
      equal(answers[0].n, 300, `${signal}: 300 points in 5 m across the failover (none lost, none doubled)`);
      // The mean equals the upstream's.
      const endMs = Date.parse(after);
      let sum = 0;
      for (let t = endMs - 299_000; t <= endMs; t += 1000) sum += score(signal, t);
      ok(Math.abs((answers[0].coherenceMean as number) - sum / 300) < 1e-9);
    }
    // Snapshots and transitions are not doubled: one history row per computed_at, transition ids unique.
    for (const c of survivors) {
      const history = await json(`${c.url}/coherence/history?signal=alpha&window=1m&limit=10000`) as {
        rows: { timestamp: string }[];
      };
      ok(history.rows.length > 5);
      equal(
        new Set(history.rows.map((r) => r.timestamp)).size,
        history.rows.length,
        "one row per computed_at",
      );
      const transitions = await json(`${c.url}/coherence/transitions?limit=1000`) as {
        transitions: { id: string }[];
      };
      equal(new Set(transitions.transitions.map((t) => t.id)).size, transitions.transitions.length);
    }
  } finally {
    for (const c of children) {
      try {
        c.child.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.child.status;
      await c.done;
    }
    await upstream.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
