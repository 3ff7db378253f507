/**
 * The ingest lease across real processes (issue 16 items 1 and 4): three workers (`tests/shared/lease_worker.ts`:
 * the real lease, poller and gated ingest) share one KV file and "ingest" by GETting a mock upstream every
 * 200 ms while they hold the lease. The upstream counts requests per holder id.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { waitFor } from "../helpers.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WORKER = fileURLToPath(new URL("../shared/lease_worker.ts", import.meta.url));
const TTL_MS = 3_000;
const INTERVAL_MS = 200;

interface Hit {
  holder: string;
  at: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each holder's requests form one unbroken run in arrival order: never two holders ingesting at once. */
function runs(hits: Hit[]): string[] {
  const order: string[] = [];
  for (const hit of hits) if (order.at(-1) !== hit.holder) order.push(hit.holder);
  return order;
}

Deno.test("three processes on one KV: the upstream sees one ingester; kill -9 of the holder → another within the lease time; a paused holder never ingests again; SIGTERM hands over at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lease_e2e_" });
  const hits: Hit[] = [];
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    hits.push({ holder: request.headers.get("x-holder") ?? "?", at: Date.now() });
    return Response.json([]);
  });
  const url = `http://127.0.0.1:${upstream.addr.port}/records`;
  const ids = ["w0", "w1", "w2"].map((w) => `${w}-${crypto.randomUUID().slice(0, 6)}`);
  const children = new Map<string, Deno.ChildProcess>();
  const events: { event: string; id: string; at: number }[] = [];
  const readers: Promise<void>[] = [];
  try {
    for (const id of ids) {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-all",
          WORKER,
          `${dir}/rolling_store.kv`,
          url,
          id,
          String(TTL_MS),
          String(INTERVAL_MS),
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      children.set(id, child);
      readers.push((async () => {
        let buffered = "";
        for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
          buffered += text;
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
        }
      })());
    }
    await waitFor(
      "three workers ready",
      () => events.filter((e) => e.event === "ready").length === 3 || undefined,
    );

    // 1. One ingester: measure 3 s of upstream traffic once someone holds the lease.
    const first = await waitFor("a first upstream request", () => hits[0]);
    await sleep(500);
    const from = Date.now();
    await sleep(3_000);
    const window = hits.filter((h) => h.at >= from && h.at < from + 3_000);
    deepEqual([...new Set(window.map((h) => h.holder))], [first.holder], "one instance pulls, not three");
    const perSecond = window.length / 3;
    console.log(
      `one ingester: ${window.length} requests in 3 s (${perSecond.toFixed(1)}/s; one instance: ≤ 5/s)`,
    );
    ok(perSecond <= 1000 / INTERVAL_MS + 0.5, `${perSecond}/s is one instance's rate`);
    ok(perSecond >= 2, `${perSecond}/s: the holder ingests steadily`);

    // 2. kill -9 of the holder: another takes over within the lease time.
    const dead = first.holder;
    children.get(dead)!.kill("SIGKILL");
    const killedAt = Date.now();
    await children.get(dead)!.status;
    const second = await waitFor(
      "a new holder's request",
      () => hits.find((h) => h.at >= killedAt && h.holder !== dead),
    );
    const failoverMs = second.at - killedAt;
    console.log(`kill -9 → next ingest by another instance after ${failoverMs} ms (lease ${TTL_MS} ms)`);
    // The bound is ttl after the dead holder's last renewal (≤ ttl after the kill) plus one KV round and a cycle
    // start; 500 ms of slack for a loaded machine.
    ok(failoverMs <= TTL_MS + 500, `failover took ${failoverMs} ms`);
    equal(hits.filter((h) => h.holder === dead && h.at > killedAt + 50).length, 0);

    // 3. A paused holder (SIGSTOP past its lease) is replaced, and once resumed it does not pull again.
    await sleep(1_000);
    const paused = second.holder;
    children.get(paused)!.kill("SIGSTOP");
    const pausedAt = Date.now();
    const third = await waitFor(
      "the third instance's request",
      () => hits.find((h) => h.at >= pausedAt && h.holder !== paused && h.holder !== dead),
    );
    console.log(`SIGSTOP of the holder → the third instance ingests after ${third.at - pausedAt} ms`);
    children.get(paused)!.kill("SIGCONT");
    const resumedAt = Date.now();
    await waitFor(
      "the resumed instance to report it lost the lease",
      () => events.some((e) => e.id === paused && e.event === "lost" && e.at >= resumedAt - 5) || undefined,
    );
    await sleep(1_000);
    equal(
      hits.filter((h) => h.holder === paused && h.at >= resumedAt).length,
      0,
      "the resumed one never pulls",
    );

    // 4. SIGTERM of the holder releases the lease: the survivor takes over within one try (ttl/3), not ttl.
    children.get(third.holder)!.kill("SIGTERM");
    const termAt = Date.now();
    await children.get(third.holder)!.status;
    const fourth = await waitFor(
      "the survivor's request",
      () => hits.find((h) => h.at >= termAt && h.holder === paused),
    );
    console.log(`SIGTERM of the holder → the survivor ingests after ${fourth.at - termAt} ms`);
    ok(fourth.at - termAt <= TTL_MS / 3 + 500, `handover took ${fourth.at - termAt} ms`);

    // Never two at once: in arrival order each holder's requests form one run.
    deepEqual(runs(hits), [dead, paused, third.holder, paused]);
  } finally {
    for (const child of children.values()) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status;
    }
    await Promise.all(readers);
    await upstream.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
