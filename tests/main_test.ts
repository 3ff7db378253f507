import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { getLogger } from "@logtape/logtape";
import { loadConfig } from "../src/config.ts";
import { configureLogging } from "../src/logging.ts";
import { createSource, kvPathFor, linkBase, pageUrl, readEnvironment } from "../src/main.ts";
import { spawnMain } from "./helpers.ts";
import { reset } from "@logtape/logtape";
import { withContext } from "@logtape/logtape";

Deno.test("createSource() uses the live upstream when DARSHAN_BASE_URL is set, even with MOCK_PATH", () => {
  const source = createSource(loadConfig({
    DARSHAN_BASE_URL: "https://darshan.example.com",
    DARSHAN_API_KEY: "key-123",
    MOCK_PATH: "x.json",
  }));
  equal(source.kind, "darshan_api");
  equal(source.location, "https://darshan.example.com");
  ok(!source.location.includes("key-123"));
});

Deno.test("createSource() uses MOCK_PATH, replayed or with its own timestamps, else the bundled fixture", () => {
  equal(createSource(loadConfig({ MOCK_PATH: "x.json" })).kind, "mock_replay");
  const file = createSource(loadConfig({ MOCK_PATH: "x.json", MOCK_REPLAY: "false" }));
  equal(file.kind, "mock_file");
  equal(file.location, "x.json");
  equal(createSource(loadConfig({})).location, "fixtures/signals.json (bundled)");
});

Deno.test("kvPathFor() keeps the local KV file in DATA_DIR", () => {
  equal(kvPathFor(loadConfig({ DATA_DIR: "/var/lib/ce" })), join("/var/lib/ce", "rolling_store.kv"));
});

Deno.test("readEnvironment() reads a .env file under the real environment and tolerates its absence", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, ".env"), "COHERENCE_TEST_ONLY=from-file\nPATH=from-file\n");
    const env = await readEnvironment(join(dir, ".env"));
    equal(env.COHERENCE_TEST_ONLY, "from-file");
    equal(env.PATH, Deno.env.get("PATH"), "the real environment wins");
    const none = await readEnvironment(join(dir, "missing.env"));
    equal(none.COHERENCE_TEST_ONLY, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("configureLogging() writes JSON lines carrying the implicit request context", async () => {
  const chunks: Uint8Array[] = [];
  const stream = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk) });
  await configureLogging({ level: "info", stream });
  try {
    await withContext({ requestId: "req-42" }, () => {
      getLogger(["coherence", "test"]).info("hello", { signal: "alpha" });
      getLogger(["coherence", "test"]).debug("below the level");
    });
  } finally {
    await reset();
  }
  // The stream sink writes asynchronously; give it a turn.
  await new Promise((r) => setTimeout(r, 10));
  const lines = new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c]))).trim().split("\n");
  equal(lines.length, 1);
  const line = JSON.parse(lines[0]);
  equal(line.properties.requestId, "req-42");
  equal(line.properties.signal, "alpha");
  equal(line.level, "INFO");
});

Deno.test("the service stops cleanly on SIGTERM with exit code 0", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { child, reader, out } = await spawnMain({
      env: { PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "sqlite", DATA_DIR: dir },
    });
    child.kill("SIGTERM");
    while (!(await reader.read()).done) { /* drain */ }
    const status = await child.status;
    equal(status.code, 0);
    ok(out.includes('"listening"'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pageUrl() is the page for a signal and window under the service's URL (Alertmanager's generatorURL)", () => {
  equal(pageUrl("http://127.0.0.1:8000", "gamma", 3600), "http://127.0.0.1:8000/?signal=gamma&window=1h");
  equal(pageUrl("http://h:1", "a b&c", 86400), "http://h:1/?signal=a+b%26c&window=24h");
  equal(pageUrl("http://h:1", "*", 300), "http://h:1/?signal=*&window=5m");
});

Deno.test("alert links use PUBLIC_URL when set (trailing slash dropped), else the listen address", () => {
  const withPublic = loadConfig({ PUBLIC_URL: "https://coherence.example.com/" });
  equal(linkBase(withPublic, "http://0.0.0.0:8000"), "https://coherence.example.com");
  equal(
    pageUrl(linkBase(withPublic, "http://0.0.0.0:8000"), "gamma", 3600),
    "https://coherence.example.com/?signal=gamma&window=1h",
  );
  equal(linkBase(loadConfig({}), "http://127.0.0.1:8000"), "http://127.0.0.1:8000");
});

Deno.test("kvPathFor() opens a remote KV when DENO_KV_URL is set", () => {
  equal(kvPathFor(loadConfig({ DENO_KV_URL: "http://127.0.0.1:4512" })), "http://127.0.0.1:4512");
});
