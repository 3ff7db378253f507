/** Persistence end to end: snapshots survive restarts (clean or kill -9), and a broken DATA_DIR never stops the service. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { HistoryResponseSchema, StatusSchema } from "../../src/schemas.ts";
import { spawnMain } from "../helpers.ts";

async function status(url: string) {
  return StatusSchema.parse(await (await fetch(`${url}/status`)).json());
}

async function waitFor(url: string, done: (s: Awaited<ReturnType<typeof status>>) => boolean) {
  for (let i = 0; i < 500; i++) {
    const s = await status(url);
    if (done(s)) return s;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("timed out waiting for the service");
}

async function history(url: string) {
  const res = await fetch(`${url}/coherence/history?signal=alpha&window=1h`);
  return HistoryResponseSchema.parse(await res.json());
}

const env = (dataDir: string, persistence: string) => ({
  PORT: "0",
  HOST: "127.0.0.1",
  PERSISTENCE: persistence,
  DATA_DIR: dataDir,
  LOG_LEVEL: "fatal",
});

for (const mode of ["sqlite", "csv", "kv"]) {
  Deno.test(`PERSISTENCE=${mode}: history continues from the old rows after a restart`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      let first = await startService(loadConfig(env(dir, mode)));
      let before;
      try {
        await waitFor(first.url, (s) => s.persistence.rowsWritten > 0);
        before = await history(first.url);
        equal(before.count, 1);
        equal(before.store, mode);
      } finally {
        await first.shutdown();
      }
      first = await startService(loadConfig(env(dir, mode)));
      try {
        await waitFor(first.url, (s) => s.persistence.rowsWritten > 0);
        const after = await history(first.url);
        equal(after.count, 2);
        deepEqual(after.rows[0], before.rows[0], "the old row is intact and first");
      } finally {
        await first.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

/** Starts `src/main.ts` in a child process, once it listens; stdout keeps draining so the child never blocks. */
async function spawnService(dataDir: string, mode: string) {
  const { child, reader, url } = await spawnMain({
    env: { ...env(dataDir, mode), LOG_LEVEL: "info" },
    until: '"listening"',
  });
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  return { child, url };
}

for (const mode of ["sqlite", "csv"]) {
  Deno.test(`PERSISTENCE=${mode}: rows written before kill -9 are there after the restart`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const killed = await spawnService(dir, mode);
      let before;
      try {
        await waitFor(killed.url, (s) => s.persistence.rowsWritten > 0);
        before = await history(killed.url);
      } finally {
        killed.child.kill("SIGKILL");
        await killed.child.status;
      }
      const restarted = await spawnService(dir, mode);
      try {
        await waitFor(restarted.url, (s) => s.persistence.rowsWritten > 0);
        const after = await history(restarted.url);
        ok(after.count >= 2);
        deepEqual(after.rows[0], before.rows[0]);
      } finally {
        restarted.child.kill("SIGTERM");
        await restarted.child.status;
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("an unusable DATA_DIR is reported in /status while metrics keep being served", async () => {
  const dir = await Deno.makeTempDir();
  const blocker = join(dir, "not-a-dir");
  await Deno.writeTextFile(blocker, "a file where DATA_DIR should be");
  const service = await startService(loadConfig(env(join(blocker, "data"), "sqlite")));
  try {
    const s = await waitFor(service.url, (s) => s.persistence.writeFailures > 0);
    equal(s.persistence.lastWrite?.ok, false);
    match(s.persistence.lastWrite?.error ?? "", /Cannot create DATA_DIR/);
    equal(s.lastIngest?.ok, true, "ingest goes on");
    const metrics = await fetch(`${service.url}/coherence/metrics?signal=alpha`);
    equal(metrics.status, 200);
    await metrics.body?.cancel();
  } finally {
    await service.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
