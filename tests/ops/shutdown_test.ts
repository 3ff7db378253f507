/**
 * Graceful shutdown: once it begins, the listener refuses new connections, a slow in-flight request still
 * completes, ingest stops, and the SQLite database is closed cleanly (WAL checkpointed into the main file,
 * no -wal file left, every row there on reopen) — in-process, and for the real process on SIGTERM.
 */
import { equal, ok, rejects } from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { STORE_FILE_NAMES } from "../../src/core/vocabulary.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rows in the database, opened afresh (read-only), and its integrity check. */
function reopen(path: string): { rows: number; integrity: string } {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = Number(db.prepare("SELECT count(*) AS n FROM rolling_metrics").get()?.n);
    const integrity = String(db.prepare("PRAGMA integrity_check").get()?.integrity_check);
    return { rows, integrity };
  } finally {
    db.close();
  }
}

Deno.test({
  name:
    "shutdown() refuses new connections, lets a slow in-flight request finish, then closes SQLite cleanly",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let slowStarted!: () => void;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const service = await startService(
      loadConfig({ PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "sqlite", DATA_DIR: dir }),
      {
        // /slow holds its response until the test releases it, then answers from the real app.
        wrapHandler: (handler) => async (request, info) => {
          if (new URL(request.url).pathname !== "/slow") return await handler(request, info);
          slowStarted();
          await released;
          return await handler(new Request(new URL("/health", request.url)), info);
        },
      },
    );
    const db = join(dir, STORE_FILE_NAMES.sqlite);
    try {
      await waitFor("the first snapshot", async () => {
        const status = await (await fetch(`${service.url}/status`)).json();
        return status.persistence.rowsWritten > 0;
      });
      ok(await exists(`${db}-wal`), "WAL mode: a -wal file while open");
      const url = service.url;
      const slow = fetch(`${url}/slow`);
      await started;
      const stopping = service.shutdown();
      let stopped = false;
      stopping.then(() => (stopped = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      equal(stopped, false, "shutdown waits for the in-flight request");
      await rejects(
        fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }),
        "new connections are refused",
      );
      release();
      const response = await slow;
      equal(response.status, 200);
      equal((await response.json()).status, "ok");
      await stopping;
      equal(await exists(`${db}-wal`), false, "the WAL was checkpointed and removed on close");
      const { rows, integrity } = reopen(db);
      ok(rows > 0);
      equal(integrity, "ok");
      await service.shutdown(); // a second call is harmless
    } finally {
      release();
      await service.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "on SIGTERM the real service exits 0 with its SQLite file checkpointed and complete",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", new URL("../../src/main.ts", import.meta.url).pathname],
      env: { PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "sqlite", DATA_DIR: dir, INGEST_INTERVAL_S: "1" },
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      // Two cycles: the second one's snapshot write is likely in progress around the signal.
      while ((out.match(/"ingest cycle ok"/g) ?? []).length < 2) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`service exited early:\n${out}`);
        out += value;
      }
      child.kill("SIGTERM");
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      equal((await child.status).code, 0);
      ok(out.includes('"stopping"') && out.includes('"stopped"'), "both lines are flushed before exit");
      const db = join(dir, STORE_FILE_NAMES.sqlite);
      equal(await exists(`${db}-wal`), false);
      const { rows, integrity } = reopen(db);
      ok(rows >= 10, `${rows} rows`);
      equal(integrity, "ok");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await Deno.remove(dir, { recursive: true });
    }
  },
});
