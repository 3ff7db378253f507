/**
 * Secrets: run the real service (a child process) against a failing upstream, with an inbound API_TOKEN, and
 * grep everything it printed and answered for the upstream key, the token and the password in the upstream URL.
 */
import { equal, ok } from "node:assert/strict";
import { createMockDarshan, generateRecords, mulberry32 } from "../../src/mock/darshan_server.ts";

const UPSTREAM_KEY = "upstream-secret-4f8e1a9b";
const API_TOKEN = "inbound-token-c3d2e1f0";
/** The password in DARSHAN_BASE_URL's user info. */
const URL_PASSWORD = "url-password-9a7b3c";
const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;

Deno.test("no API key, token or URL password appears in logs, /status, errors or any response, through upstream faults", async () => {
  const records = generateRecords(200, { random: mulberry32(9), signals: ["alpha"] });
  // The mock expects another key (401s), then faults: 5xx, 429, malformed bodies, slow responses.
  let phase: "auth" | "faults" = "auth";
  const wrongKeyMock = createMockDarshan({ records, apiKey: "the-key-the-mock-wants" });
  const faultyMock = createMockDarshan({
    records,
    apiKey: UPSTREAM_KEY,
    errorRate: 0.3,
    rateLimitRate: 0.2,
    retryAfterSec: 0,
    malformedRate: 0.2,
    random: mulberry32(2),
  });
  const upstream = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => (phase === "auth" ? wrongKeyMock : faultyMock).app.fetch(req),
  );
  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dir,
      LOG_LEVEL: "debug",
      INGEST_INTERVAL_S: "1",
      DARSHAN_BASE_URL: `http://svc:${URL_PASSWORD}@127.0.0.1:${upstream.addr.port}`,
      DARSHAN_API_KEY: UPSTREAM_KEY,
      DARSHAN_MAX_RETRIES: "2",
      DARSHAN_RETRY_BASE_MS: "1",
      API_TOKEN,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let printed = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) printed += decoder.decode(chunk, { stream: true });
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  const answered: string[] = [];
  try {
    let url = "";
    for (let i = 0; i < 500 && !url; i++) {
      const line = printed.split("\n").find((l) => l.includes('"listening"'));
      if (line) url = JSON.parse(line).properties.url;
      else await new Promise((r) => setTimeout(r, 10));
    }
    ok(url, "the service started");
    const auth = { Authorization: `Bearer ${API_TOKEN}` };
    const get = async (path: string, headers: Record<string, string> = auth) => {
      const res = await fetch(`${url}${path}`, { headers });
      const text = await res.text();
      answered.push(`${res.status} ${path} ${[...res.headers].join(";")} ${text}`);
      return { status: res.status, text };
    };
    // Wait for a failed (401) cycle, then switch the upstream to faults and wait for more cycles.
    for (let i = 0; i < 300; i++) {
      if (JSON.parse((await get("/status")).text).lastIngest) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    phase = "faults";
    await new Promise((r) => setTimeout(r, 2500));
    const status = JSON.parse((await get("/status")).text);
    ok(status.recentIngests.length >= 2, "several cycles ran");
    ok(
      status.recentIngests.some((c: { error: string | null }) => c.error?.includes("401")),
      "the 401 was reported",
    );
    equal((await get("/coherence/metrics", {})).status, 401);
    equal((await get("/coherence/metrics", { Authorization: "Bearer wrong" })).status, 401);
    await get("/coherence/metrics?window=zz");
    await get("/coherence/signals");
    await get("/coherence/history");
    await get("/metrics");
    await get("/openapi.json");
    await get("/");
    await get("/health", {});
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await done;
    wrongKeyMock.close();
    faultyMock.close();
    await upstream.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
  ok(printed.length > 1000, "the service logged its work");
  for (const secret of [UPSTREAM_KEY, API_TOKEN, URL_PASSWORD]) {
    ok(!printed.includes(secret), `${secret} appeared in the service's output`);
    for (const response of answered) {
      ok(!response.includes(secret), `${secret} appeared in: ${response.slice(0, 200)}`);
    }
  }
});
