/** A SQLite file locked by another process: the write fails fast, /status says so, and requests are not stalled. */
import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import { StatusSchema } from "../../src/schemas.ts";

Deno.test("a database locked by another process fails the snapshot write fast and shows it in /status", async () => {
  const dir = await Deno.makeTempDir();
  const env = { PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "sqlite", DATA_DIR: dir, LOG_LEVEL: "fatal" };
  // First run creates the database; then another process holds its write lock.
  let service = await startService(loadConfig(env));
  for (let i = 0; i < 300; i++) {
    const s = StatusSchema.parse(await (await fetch(`${service.url}/status`)).json());
    if (s.persistence.rowsWritten > 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await service.shutdown();
  const locker = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { DatabaseSync } from "node:sqlite";
       const db = new DatabaseSync(${JSON.stringify(join(dir, "rolling_store.db"))});
       db.exec("BEGIN EXCLUSIVE"); console.log("locked");
       await new Promise((r) => setTimeout(r, 20000));`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = locker.stdout.pipeThrough(new TextDecoderStream()).getReader();
  ok((await reader.read()).value?.includes("locked"));
  try {
    service = await startService(loadConfig(env));
    let status;
    for (let i = 0; i < 500; i++) {
      status = StatusSchema.parse(await (await fetch(`${service.url}/status`)).json());
      if (status.persistence.writeFailures > 0 || status.persistence.rowsWritten > 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    equal(status?.persistence.rowsWritten, 0);
    ok((status?.persistence.writeFailures ?? 0) > 0);
    match(status?.persistence.lastWrite?.error ?? "", /locked|busy/i);
    const started = performance.now();
    const health = await fetch(`${service.url}/health`);
    await health.body?.cancel();
    equal(health.status, 200);
    ok(performance.now() - started < 1000, "requests are not stalled by the lock");
    await service.shutdown();
    // Once the lock is gone the old rows are intact and writes work again.
    locker.kill("SIGKILL");
    await locker.status;
    const store = openSqliteStore(join(dir, "rolling_store.db"));
    try {
      const before = await store.history({ signal: "*", windowSec: 3600, limit: 10 });
      equal(before.length, 1);
      await store.append(before.map((row) => ({ ...row, computed_at: new Date().toISOString() })));
      equal((await store.history({ signal: "*", windowSec: 3600, limit: 10 })).length, 2);
    } finally {
      await store.close();
    }
  } finally {
    try {
      locker.kill("SIGKILL");
    } catch { /* already stopped */ }
    await locker.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
