/**
 * Deno Deploy mode: recognising the platform, the persistence it implies, the cron schedule, the cron-driven
 * ingest path (with an injected `cron`), and a real run with no write permission at all.
 */
import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import {
  cronSchedule,
  detectDeploy,
  INGEST_CRON_NAME,
  scheduleIngest,
  selectPersistence,
} from "../../src/deploy.ts";
import { kvPathFor, startService } from "../../src/main.ts";
import { openSnapshotStore } from "../../src/persistence/open_store.ts";
import { spawnMain } from "../helpers.ts";

Deno.test("detectDeploy() is true with Deploy's DENO_DEPLOYMENT_ID or a truthy DENO_DEPLOY", () => {
  equal(detectDeploy({}), false);
  equal(detectDeploy({ DENO_DEPLOYMENT_ID: "abc123" }), true);
  equal(detectDeploy({ DENO_DEPLOYMENT_ID: "" }), false);
  for (const value of ["true", "1", "yes", "on", "anything"]) {
    equal(detectDeploy({ DENO_DEPLOY: value }), true, value);
  }
  for (const value of ["", "false", "0", "no", "off", " FALSE "]) {
    equal(detectDeploy({ DENO_DEPLOY: value }), false, value);
  }
});

Deno.test("selectPersistence() keeps an explicit mode, else picks kv on Deploy and sqlite elsewhere", () => {
  equal(selectPersistence({ deploy: false }), "sqlite");
  equal(selectPersistence({ deploy: true }), "kv");
  equal(selectPersistence({ configured: "csv", deploy: true }), "csv");
  equal(selectPersistence({ configured: "none", deploy: false }), "none");
});

Deno.test("loadConfig() knows whether PERSISTENCE was set and applies the Deploy default", () => {
  const local = loadConfig({});
  deepEqual([local.persistence, local.persistenceExplicit, local.deploy], ["sqlite", false, false]);
  const deploy = loadConfig({ DENO_DEPLOYMENT_ID: "d-1" });
  deepEqual([deploy.persistence, deploy.persistenceExplicit, deploy.deploy], ["kv", false, true]);
  const flagged = loadConfig({ DENO_DEPLOY: "true", PERSISTENCE: "" });
  deepEqual([flagged.persistence, flagged.persistenceExplicit], ["kv", false], "an empty value is unset");
  const explicit = loadConfig({ DENO_DEPLOY: "true", PERSISTENCE: "none" });
  deepEqual([explicit.persistence, explicit.persistenceExplicit, explicit.deploy], ["none", true, true]);
  equal(kvPathFor(deploy), undefined, "Deploy: Deno.openKv() with no path, the platform's KV");
  equal(kvPathFor(local), join("data", "rolling_store.kv"));
});

Deno.test("cronSchedule() rounds INGEST_INTERVAL_S to whole minutes, hours, or a day", () => {
  equal(cronSchedule(30), "* * * * *");
  equal(cronSchedule(60), "* * * * *");
  equal(cronSchedule(89), "* * * * *");
  equal(cronSchedule(300), "*/5 * * * *");
  equal(cronSchedule(3599), "0 * * * *");
  equal(cronSchedule(7200), "0 */2 * * *");
  equal(cronSchedule(86_400 * 2), "0 0 * * *");
});

/** A `Deno.cron` stand-in that keeps the registration and lets the test fire ticks. */
function fakeCron() {
  const jobs: {
    name: string;
    schedule: string;
    handler: () => Promise<void> | void;
    signal?: AbortSignal;
  }[] = [];
  const cron = (
    name: string,
    schedule: string,
    options: { signal?: AbortSignal },
    handler: () => Promise<void> | void,
  ) => {
    jobs.push({ name, schedule, handler, signal: options.signal });
    return new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve()));
  };
  return { jobs, cron };
}

Deno.test("scheduleIngest() runs the timer loop off Deploy and registers a cron job on Deploy", async () => {
  const calls: string[] = [];
  const poller = {
    runCycle: () => {
      calls.push("cycle");
      return Promise.resolve();
    },
    start: () => void calls.push("start"),
  };
  const { jobs, cron } = fakeCron();
  const local = scheduleIngest(poller, { deploy: false, intervalSec: 30, cron });
  equal(local.schedule, null);
  local.start();
  deepEqual([calls, jobs.length], [["start"], 0]);

  calls.length = 0;
  const abort = new AbortController();
  const deploy = scheduleIngest(poller, { deploy: true, intervalSec: 300, cron, signal: abort.signal });
  equal(jobs.length, 1, "registered at once, before start()");
  deepEqual([jobs[0].name, jobs[0].schedule, deploy.schedule], [
    INGEST_CRON_NAME,
    "*/5 * * * *",
    "*/5 * * * *",
  ]);
  deepEqual(calls, []);
  deploy.start();
  await jobs[0].handler();
  deepEqual(calls, ["cycle", "cycle"], "one cycle at start, one per tick");
  abort.abort();
  await deploy.registration;
});

Deno.test({
  name:
    "startService() in Deploy mode registers the cron before listening and each tick runs an ingest cycle",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const dataDir = join(dir, "data");
    const { jobs, cron } = fakeCron();
    const config = loadConfig({
      DENO_DEPLOY: "true",
      PERSISTENCE: "none",
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dataDir,
    });
    const events: string[] = [];
    const service = await startService(config, {
      cron: (...args) => {
        events.push("cron registered");
        return cron(...args);
      },
      onListen: () => void events.push("listening"),
    });
    try {
      equal(service.ingestSchedule, "* * * * *");
      equal(jobs.length, 1);
      deepEqual(events, ["cron registered", "listening"]);
      const cycles = async () => (await (await fetch(`${service.url}/status`)).json()).recentIngests.length;
      const deadline = Date.now() + 10_000;
      while ((await cycles()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      equal(await cycles(), 1, "the start-up cycle");
      await jobs[0].handler();
      equal(await cycles(), 2, "one more per cron tick");
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      ok(metrics.includes('coherence_ingest_cycles_total{outcome="ok"} 2'));
      await rejects(Deno.stat(dataDir), Deno.errors.NotFound, "DATA_DIR is never created");
    } finally {
      await service.shutdown();
      ok(jobs[0].signal?.aborted, "shutdown unregisters the cron job");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the Deploy KV store opens without a path and creates no DATA_DIR", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = loadConfig({ DENO_DEPLOY: "true", DATA_DIR: join(dir, "data") });
    // The same call main.ts makes, with an in-memory KV standing in for the platform's.
    const store = await openSnapshotStore(config.persistence, {
      dataDir: config.dataDir,
      kvPath: ":memory:",
    });
    equal(store.mode, "kv");
    await store.close();
    deepEqual(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A fixed location gives the subprocess its own default KV (in DENO_DIR), emptied afterwards. */
const LOCATION = "http://coherence-engine.test/ops-deploy-mode";

Deno.test({
  name: "with DENO_DEPLOY=true the real service runs without any write permission: KV snapshots, no files",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const dataDir = join(dir, "data");
    // No --allow-write: any attempt to write a file would fail (and show in /status).
    const { child, reader, out, url } = await spawnMain({
      flags: [`--location=${LOCATION}`, "--allow-net", "--allow-read", "--allow-env", "--allow-sys"],
      env: { DENO_DEPLOY: "true", PORT: "0", HOST: "127.0.0.1", DATA_DIR: dataDir },
      stderr: "piped",
    });
    try {
      ok(out.includes('"ingest scheduled with Deno.cron"'));
      let status = await (await fetch(`${url}/status`)).json();
      const deadline = Date.now() + 10_000;
      while (status.persistence.lastWrite === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        status = await (await fetch(`${url}/status`)).json();
      }
      equal(status.persistence.mode, "kv");
      equal(status.persistence.location, "deno-kv:default");
      equal(status.persistence.lastWrite?.ok, true, JSON.stringify(status.persistence));
      const history = await (await fetch(`${url}/coherence/history?window=1h`)).json();
      ok(history.count >= 1, "rows read back from KV");
      await rejects(Deno.stat(dataDir), Deno.errors.NotFound, "DATA_DIR is never created");
      reader.releaseLock();
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await child.stderr.cancel().catch(() => {});
      const cleanup = await new Deno.Command(Deno.execPath(), {
        args: [
          "eval",
          `--location=${LOCATION}`,
          "--unstable-kv",
          "const kv = await Deno.openKv(); for await (const e of kv.list({ prefix: [] })) await kv.delete(e.key); kv.close();",
        ],
      }).output();
      ok(cleanup.success, new TextDecoder().decode(cleanup.stderr));
      await Deno.remove(dir, { recursive: true });
    }
  },
});
