/**
 * Alert transitions and deliveries across a kill -9 failover (issue 16 item 4): three real service processes
 * (`src/main.ts`) on one DATA_DIR with PERSISTENCE=kv, ALERT_FOR=0, a 5 s window, a one-second ingest interval,
 * an upstream served here (one point a second per signal) and a loopback webhook receiver that verifies every
 * signature (standardwebhooks).
 *
 * - First cycles: every key goes unknown → low (alpha, beta and the pooled "*" at 90).
 * - Then beta drops to 30: the holder logs beta's (and the pool's) change; right after it, kill -9 the holder.
 * - Alpha drops to 30 one second after the kill: the next holder (its alert states restored from the log)
 *   logs alpha's change, and delivers what the dead holder left in the outbox.
 *
 * Asserted: the transitions list is the same on both survivors, unique by id and by (signal, window, at), each
 * key a chain (from = the previous to) with no two consecutive transitions to the same level; changes were
 * logged both before and after the kill; the receiver acknowledged every logged id and got no other id (an id
 * twice only when an earlier attempt was not acknowledged, or redelivered after the kill: at-least-once);
 * /coherence/alerts on the follower agrees with the holder's within one sync interval; and a follower logs
 * "alert states restored" at info once (start-up), not on every version it applies.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { spawnMain, waitFor } from "../helpers.ts";
import { StatusSchema } from "../../src/schemas.ts";

const LEASE_S = 3;
const SYNC_MS = 1_000;
const SIGNALS = ["alpha", "beta"];
const IDS = ["a0", "a1", "a2"];
const SECRET = "whsec_" + btoa("instances-alerts-test-secret-0123456789");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Transition {
  id: string;
  signal: string;
  windowSec: number;
  from: string;
  to: string;
  at: string;
}

interface Delivery {
  id: string;
  status: number;
  atMs: number;
  transition: Transition;
}

/**
 * A loopback receiver: verifies each signature and records every attempt; it refuses (503) the first attempt
 * of each change away from low (so the dead holder leaves it in the outbox), and acknowledges (204) the rest.
 */
function receiver() {
  const webhook = new Webhook(SECRET);
  const seen: Delivery[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = await req.text();
    const headers = Object.fromEntries(req.headers);
    const event = webhook.verify(body, headers) as { type: string; data: Transition };
    const id = headers["webhook-id"];
    const status = event.data.to !== "low" && !seen.some((d) => d.id === id) ? 503 : 204;
    seen.push({ id, status, atMs: Date.now(), transition: event.data });
    return new Response(null, { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/coherence`,
    seen,
    close: () => server.shutdown(),
  };
}

function parseBound(text: string | null): number | null {
  if (text === null || text === "") return null;
  return /^\d+$/.test(text) ? Number(text) * (text.length <= 10 ? 1000 : 1) : Date.parse(text);
}

async function json(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (res.status >= 500) throw new Error(`${url} answered ${res.status}`);
  return await res.json();
}

const status = async (url: string) => StatusSchema.parse(await json(`${url}/status`));
const transitionsOf = async (url: string) =>
  ((await json(`${url}/coherence/transitions?limit=1000`)) as { transitions: Transition[] }).transitions;
/** The confirmed states (what the transitions log says), without the holder-only evaluation details. */
const alertsOf = async (url: string) =>
  JSON.stringify(
    ((await json(`${url}/coherence/alerts`)) as {
      alerts: { signal: string; windowSec: number; level: string; active: boolean; since: string | null }[];
    }).alerts.map(({ signal, windowSec, level, active, since }) => ({
      signal,
      windowSec,
      level,
      active,
      since,
    }))
      .sort((a, b) => `${a.signal}/${a.windowSec}`.localeCompare(`${b.signal}/${b.windowSec}`)),
  );

Deno.test("three service processes on one KV, ALERT_FOR=0: across a kill -9 failover every change is logged once and delivered (at least once, one id per change); alerts agree on every instance", async () => {
  const dir = await Deno.makeTempDir({ prefix: "instances_alerts_e2e_" });
  const hook = receiver();
  const startMs = Math.floor(Date.now() / 1000) * 1000 - 60_000;
  /** From these instants (data time) a signal's scores are 30 instead of 90. */
  const dropAt: Record<string, number> = { alpha: Infinity, beta: Infinity };
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const params = new URL(request.url).searchParams;
    const from = parseBound(params.get("from")) ?? startMs - 1;
    const to = Math.min(parseBound(params.get("to")) ?? Infinity, Date.now());
    const data = [];
    for (let t = Math.max(startMs, Math.floor(from / 1000) * 1000); t <= to; t += 1000) {
      if (t <= from) continue;
      for (const signal of SIGNALS) {
        data.push({
          signal,
          timestamp: new Date(t).toISOString(),
          coherenceScore: t >= dropAt[signal] ? 30 : 90,
        });
      }
    }
    return Response.json({ data });
  });
  const children: {
    id: string;
    child: Deno.ChildProcess;
    url: string;
    out: string[];
    done: Promise<void>;
  }[] = [];
  try {
    for (const id of IDS) {
      const { child, reader, url, out: first } = await spawnMain({
        env: {
          PORT: "0",
          HOST: "127.0.0.1",
          PERSISTENCE: "kv",
          DATA_DIR: dir,
          LOG_LEVEL: "info",
          DARSHAN_BASE_URL: `http://127.0.0.1:${upstream.addr.port}`,
          DARSHAN_API_KEY: `key-${id}`,
          DARSHAN_MAX_RETRIES: "1",
          INGEST_INTERVAL_S: "1",
          INGEST_OVERLAP_S: "10",
          DEFAULT_WINDOWS: "5s",
          LEASE_S: String(LEASE_S),
          SYNC_INTERVAL: `${SYNC_MS}ms`,
          INSTANCE_ID: id,
          ALERT_FOR: "0",
          ALERT_WEBHOOK_URL: hook.url,
          ALERT_WEBHOOK_SECRET: SECRET,
        },
        until: '"listening"',
      });
      const out = [first];
      // Keep draining stdout (a full pipe would block the child), keeping the log lines.
      const done = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            out.push(value);
          }
        } catch { /* killed */ }
      })();
      children.push({ id, child, url, out, done });
    }

    // 1. Every key low, logged and acknowledged.
    const holder = await waitFor("one holder, every key logged low and acknowledged", async () => {
      const all = await Promise.all(children.map((c) => status(c.url)));
      const named = new Set(all.map((s) => s.lease?.holder));
      if (named.size !== 1) return undefined;
      const logged = await transitionsOf(children[0].url);
      const acknowledged = new Set(hook.seen.map((d) => d.id));
      if (logged.length < 3 || !logged.every((t) => acknowledged.has(t.id))) return undefined;
      return [...named][0] ?? undefined;
    });
    const dead = children.find((c) => c.id === holder)!;
    const survivors = children.filter((c) => c !== dead);

    // 2. Beta drops; once the holder logged beta's change, kill -9 it (its delivery may be in flight).
    dropAt.beta = Math.floor(Date.now() / 1000) * 1000 + 1000;
    await waitFor("beta's change logged", async () => {
      const logged = await transitionsOf(dead.url);
      return logged.some((t) => t.signal === "beta" && t.to !== "low") ? true : undefined;
    });
    const killedAt = Date.now();
    dead.child.kill("SIGKILL");
    await dead.child.status;
    // 3. Alpha drops after the kill: only the next holder can see it.
    dropAt.alpha = Math.floor(killedAt / 1000) * 1000 + 1000;

    // Sample /coherence/alerts on both survivors while the next holder takes over and logs alpha's change.
    const disagreements: number[] = [];
    let since: number | null = null;
    const newHolder = await waitFor("the next holder logged alpha's change to high", async () => {
      const states = await Promise.all(survivors.map((c) => alertsOf(c.url)));
      const now = Date.now();
      if (states[0] !== states[1]) since ??= now;
      else if (since !== null) {
        disagreements.push(now - since);
        since = null;
      }
      const all = await Promise.all(survivors.map((c) => status(c.url)));
      const holding = all.find((s) => s.lease?.isHolder);
      if (!holding) return undefined;
      const logged = await transitionsOf(survivors[0].url);
      return logged.some((t) => t.signal === "alpha" && t.to === "high") ? holding.lease!.self : undefined;
    });
    console.log(
      `kill -9 of ${holder} → ${newHolder} logged alpha's change ${Date.now() - killedAt} ms later`,
    );
    // A few more cycles: the states settle, everything is delivered; keep sampling the alerts.
    const settleUntil = Date.now() + 3 * SYNC_MS;
    while (Date.now() < settleUntil) {
      const states = await Promise.all(survivors.map((c) => alertsOf(c.url)));
      const now = Date.now();
      if (states[0] !== states[1]) since ??= now;
      else if (since !== null) {
        disagreements.push(now - since);
        since = null;
      }
      await sleep(50);
    }
    equal(since, null, "the survivors' alerts agree at the end");
    console.log(`follower vs holder /coherence/alerts disagreements, ms: [${disagreements.join(", ")}]`);
    for (const d of disagreements) ok(d <= SYNC_MS + 500, `alerts agreed within one sync interval: ${d} ms`);

    // The transitions: one list on every survivor, unique, each key a chain without repeats.
    const lists = await Promise.all(survivors.map((c) => transitionsOf(c.url)));
    deepEqual(lists[1], lists[0], "the same transitions on every survivor");
    const logged = lists[0];
    console.log(
      `transitions: ${logged.map((t) => `${t.signal}/${t.windowSec} ${t.from}→${t.to} ${t.at}`).join("; ")}`,
    );
    equal(new Set(logged.map((t) => t.id)).size, logged.length, "unique by id");
    equal(
      new Set(logged.map((t) => `${t.signal}\u0000${t.windowSec}\u0000${t.at}`)).size,
      logged.length,
      "unique by (signal, window, at)",
    );
    const byKey = Map.groupBy(logged, (t) => `${t.signal}/${t.windowSec}`);
    deepEqual([...byKey.keys()].sort(), ["*/5", "alpha/5", "beta/5"]);
    for (const [key, list] of byKey) {
      const sorted = list.toSorted((a, b) => Date.parse(a.at) - Date.parse(b.at));
      equal(sorted[0].from, "unknown", key);
      for (let i = 0; i < sorted.length; i++) {
        ok(sorted[i].from !== sorted[i].to, `${key}: a change`);
        if (i > 0) {
          equal(sorted[i].from, sorted[i - 1].to, `${key}: a chain`);
          ok(sorted[i].to !== sorted[i - 1].to, `${key}: no two consecutive transitions to one level`);
        }
      }
    }
    const before = logged.filter((t) => Date.parse(t.at) < killedAt);
    const after = logged.filter((t) => Date.parse(t.at) > killedAt);
    ok(before.some((t) => t.signal === "beta" && t.to !== "low"), "a change logged by the dead holder");
    ok(after.some((t) => t.signal === "alpha"), "a change logged by the next holder");
    ok(!after.some((t) => t.signal === "beta" && t.from === "low"), "beta's change not logged again");

    // Deliveries: every logged id acknowledged, no other id; an id twice only as at-least-once allows. Beta's
    // change was refused at first: the next holder delivers it from the dead one's outbox.
    await waitFor("every logged transition acknowledged", () => {
      const acknowledged = new Set(hook.seen.filter((d) => d.status < 300).map((d) => d.id));
      return Promise.resolve(logged.every((t) => acknowledged.has(t.id)) ? true : undefined);
    }, 10_000);
    const ids = new Set(logged.map((t) => t.id));
    deepEqual(hook.seen.filter((d) => !ids.has(d.id)), [], "no id the log does not hold");
    for (const d of hook.seen) {
      const t = logged.find((l) => l.id === d.id)!;
      deepEqual(
        [d.transition.signal, d.transition.windowSec, d.transition.from, d.transition.to, d.transition.at],
        [t.signal, t.windowSec, t.from, t.to, t.at],
        "the payload is the logged change",
      );
    }
    const repeats = hook.seen.filter((d, i) => hook.seen.findIndex((e) => e.id === d.id) !== i);
    for (const r of repeats) {
      const earlier = hook.seen.filter((d) => d.id === r.id && d.atMs <= r.atMs && d !== r);
      ok(
        earlier.some((d) => d.status >= 300) || r.atMs > killedAt,
        `${r.id} delivered again though acknowledged, and not across the failover`,
      );
    }
    const refused = new Set(hook.seen.filter((d) => d.status >= 300).map((d) => d.id));
    ok(refused.size > 0, "some first attempts were refused");
    const beta = before.find((t) => t.signal === "beta" && t.to !== "low")!;
    const betaAck = hook.seen.find((d) => d.id === beta.id && d.status < 300)!;
    console.log(
      `webhook: ${hook.seen.length} attempts for ${logged.length} transitions, ${refused.size} refused first, ` +
        `${repeats.length} repeated ids; beta's change acknowledged ${
          betaAck.atMs - killedAt
        } ms after the kill`,
    );

    // A follower that never held the lease logged "alert states restored" at info once: at start-up.
    const follower = survivors.find((c) => c.id !== newHolder)!;
    const restoredLines = follower.out.join("").split("\n").filter((l) =>
      l.includes('"alert states restored"')
    );
    const applied = (await status(follower.url)).sync!.version;
    console.log(
      `follower ${follower.id}: ${restoredLines.length} info "alert states restored", version ${applied}`,
    );
    equal(restoredLines.length, 1);
    ok(applied > 5, "while it applied many versions");
  } finally {
    for (const c of children) {
      try {
        c.child.kill("SIGKILL");
      } catch { /* already gone */ }
      await c.child.status;
      await c.done;
    }
    await upstream.shutdown();
    await hook.close();
    await Deno.remove(dir, { recursive: true });
  }
});
