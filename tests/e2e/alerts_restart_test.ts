/**
 * The whole process, killed between a transition and its delivery: the real service (a child process) with
 * PERSISTENCE=sqlite (and csv, kv), a mock upstream file whose scores drop below 60 in the last hour, ALERT_FOR=0,
 * a one-second ingest interval and a loopback webhook receiver that answers 503 at first. Once the
 * transitions are logged and the receiver has refused them, `kill -9`; the receiver starts accepting; a second
 * process on the same DATA_DIR delivers each transition exactly once (by webhook-id, signatures verified),
 * shows the restored levels in /coherence/alerts and logs no second transition for the same change.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { spawnMain, waitFor } from "../helpers.ts";

const SECRET = "whsec_" + btoa("alerts-restart-test-secret-0123456789");

/** Two hours of one point a minute for "drift": 90 until the last hour, then 45 (high: mean < 60). */
function mockRecords(nowMs: number) {
  const data = [];
  for (let i = 119; i >= 0; i--) {
    const ts = nowMs - i * 60_000;
    data.push({ signal: "drift", timestamp: new Date(ts).toISOString(), coherenceScore: i >= 60 ? 90 : 45 });
  }
  return { data };
}

interface Delivery {
  id: string;
  status: number;
  type: string;
  transition: { id: string; signal: string; windowSec: number; from: string; to: string; at: string };
}

/** A loopback receiver that verifies every signature and records each attempt with the status it answered. */
function receiver() {
  const webhook = new Webhook(SECRET);
  const seen: Delivery[] = [];
  let accepting = false;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const body = await req.text();
    const headers = Object.fromEntries(req.headers);
    const event = webhook.verify(body, headers) as { type: string; data: Delivery["transition"] };
    const status = accepting ? 204 : 503;
    seen.push({ id: headers["webhook-id"], status, type: event.type, transition: event.data });
    return new Response(null, { status });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/coherence`,
    seen,
    accept() {
      accepting = true;
    },
    close: () => server.shutdown(),
  };
}

async function getJson(url: string) {
  const res = await fetch(url);
  equal(res.status, 200, url);
  return await res.json();
}

for (const mode of ["sqlite", "csv", "kv"]) {
  Deno.test(`PERSISTENCE=${mode}: kill -9 between a transition and its delivery; the restart delivers it once and fires nothing twice`, async () => {
    const dir = await Deno.makeTempDir();
    const hook = receiver();
    const mockPath = join(dir, "drift.json");
    await Deno.writeTextFile(mockPath, JSON.stringify(mockRecords(Date.now())));
    const env = {
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: mode,
      DATA_DIR: join(dir, "data"),
      MOCK_PATH: mockPath,
      DEFAULT_WINDOWS: "1h",
      INGEST_INTERVAL_S: "1",
      ALERT_FOR: "0",
      // With kv the killed process still holds the ingest lease: the restart waits for it to expire.
      LEASE_S: "3",
      ALERT_WEBHOOK_URL: hook.url,
      ALERT_WEBHOOK_SECRET: SECRET,
      LOG_LEVEL: "info",
    };
    const start = async () => {
      const { child, reader, url } = await spawnMain({ env, until: '"listening"' });
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      return { child, url };
    };
    let second: Awaited<ReturnType<typeof start>> | undefined;
    try {
      // 1. The transitions are logged, and the receiver has refused the first (delivery is in log order: the
      //    others wait behind it).
      const first = await start();
      let logged: Delivery["transition"][] = [];
      try {
        logged = await waitFor("transitions logged and refused", async () => {
          const { transitions } = await getJson(`${first.url}/coherence/transitions`);
          const refused = new Set(hook.seen.filter((d) => d.status === 503).map((d) => d.id));
          return transitions.length >= 2 && refused.has(transitions[0].id) ? transitions : undefined;
        });
      } finally {
        first.child.kill("SIGKILL");
        await first.child.status;
      }
      deepEqual(
        logged.map((t) => [t.signal, t.windowSec, t.from, t.to]).sort(),
        [["*", 3600, "unknown", "high"], ["drift", 3600, "unknown", "high"]],
      );
      equal(hook.seen.filter((d) => d.status !== 503).length, 0, "nothing was acknowledged before the kill");

      // 2. The receiver is back; a new process on the same DATA_DIR delivers what the first one owed.
      hook.accept();
      second = await start();
      const url = second.url;
      await waitFor("every logged transition acknowledged", () => {
        const acknowledged = new Set(hook.seen.filter((d) => d.status === 204).map((d) => d.id));
        return Promise.resolve(logged.every((t) => acknowledged.has(t.id)) ? true : undefined);
      });
      // A few more cycles: nothing new is logged or delivered for the same change.
      const before = (await getJson(`${url}/status`)).recentIngests.length;
      await waitFor("three more ingest cycles", async () => {
        const status = await getJson(`${url}/status`);
        return status.recentIngests.length >= before + 3 ? status : undefined;
      });
      const status = await getJson(`${url}/status`);
      equal(status.alerts.restored, 2, "both keys restored from the log");
      equal(status.alerts.transitionsWritten, 0, "the second process logged no transition");
      const delivery = status.alerts.delivery.find((d: { target: string }) => d.target === "webhook");
      equal(delivery.outboxDepth, 0);
      equal(delivery.url, new URL(hook.url).origin);

      const acknowledged = hook.seen.filter((d) => d.status === 204);
      deepEqual(
        acknowledged.map((d) => d.id).sort(),
        logged.map((t) => t.id).sort(),
        "each transition acknowledged exactly once, by webhook-id",
      );
      ok(acknowledged.every((d) => d.type === "coherence.risk.transition" && d.transition.id === d.id));

      const { transitions } = await getJson(`${url}/coherence/transitions`);
      deepEqual(
        transitions.map((t: { id: string }) => t.id),
        logged.map((t) => t.id),
        "no second transition",
      );

      const alerts = await getJson(`${url}/coherence/alerts?signal=drift&window=1h`);
      const [drift] = alerts.alerts;
      equal(drift.level, "high");
      equal(drift.active, true);
      equal(
        drift.since,
        logged.find((t) => t.signal === "drift")!.at,
        "since the first process's transition",
      );
    } finally {
      if (second) {
        second.child.kill("SIGTERM");
        await second.child.status;
      }
      await hook.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}
