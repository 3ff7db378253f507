/**
 * Alert delivery secrets: run the real service (a child process) with a webhook receiver and an Alertmanager
 * that both fail (503, then a closed port), delivery URLs carrying user info, a token in the path and a key in
 * the query, and a signing secret; then grep everything it printed and answered (/status, /metrics, the alert
 * routes, errors) for any of them. A bad delivery URL stops start-up without printing them either.
 */
import { equal, match, ok } from "node:assert/strict";
import { MAIN } from "../helpers.ts";

const SECRET = "whsec_c2VjcmV0LWJ5dGVzLWZvci10aGUtdGVzdHMtMTIzNDU2";
const PASSWORD = "hook-password-5e6f7a";
const PATH_TOKEN = "T0KEN-in-the-path-8b9c";
const QUERY_KEY = "query-key-0d1e2f";
const AM_PASSWORD = "am-password-3a4b5c";
const AM_PATH = "am-path-token-6d7e";
const LEAKS = [SECRET, SECRET.slice("whsec_".length), PASSWORD, PATH_TOKEN, QUERY_KEY, AM_PASSWORD, AM_PATH];

Deno.test("no webhook secret, delivery URL credentials, path or query appears in logs, /status, /metrics or errors", async () => {
  // Both receivers refuse everything: the delivery errors (which name the receiver) are exercised.
  const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    await req.body?.cancel();
    return new Response(`nope ${new URL(req.url).pathname}`, { status: 503 });
  });
  const dir = await Deno.makeTempDir();
  const port = receiver.addr.port;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env: {
      PORT: "0",
      HOST: "127.0.0.1",
      DATA_DIR: dir,
      PERSISTENCE: "sqlite",
      LOG_LEVEL: "debug",
      INGEST_INTERVAL_S: "1",
      ALERT_FOR: "0",
      ALERT_RESEND_S: "1",
      ALERT_WEBHOOK_URL: `http://hook:${PASSWORD}@127.0.0.1:${port}/${PATH_TOKEN}?key=${QUERY_KEY}`,
      ALERT_WEBHOOK_SECRET: SECRET,
      ALERTMANAGER_URL: `http://am:${AM_PASSWORD}@127.0.0.1:${port}/${AM_PATH}`,
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
    for (let i = 0; i < 1000 && !url; i++) {
      const line = printed.split("\n").find((l) => l.includes('"listening"'));
      if (line) url = JSON.parse(line).properties.url;
      else await new Promise((r) => setTimeout(r, 10));
    }
    ok(url, "the service started");
    const get = async (path: string) => {
      const res = await fetch(`${url}${path}`);
      const text = await res.text();
      answered.push(`${res.status} ${path} ${[...res.headers].join(";")} ${text}`);
      return { status: res.status, text };
    };
    // Wait until transitions were logged and each target has failed at least once.
    let status: { alerts: { transitionsWritten: number; delivery: { failed: number }[] } } | undefined;
    for (let i = 0; i < 300; i++) {
      status = JSON.parse((await get("/status")).text);
      const delivery = status!.alerts.delivery;
      if (
        status!.alerts.transitionsWritten > 0 && delivery.length > 0 && delivery.every((d) => d.failed > 0)
      ) {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    ok(status!.alerts.transitionsWritten > 0, "transitions were logged");
    // The receivers go away: connection errors are exercised too.
    await receiver.shutdown();
    await new Promise((r) => setTimeout(r, 1500));
    const final = JSON.parse((await get("/status")).text);
    equal(final.alerts.delivery.length, 2, "both targets are wired");
    for (const target of final.alerts.delivery) {
      equal(target.url, `http://127.0.0.1:${port}`, `${target.target}: only scheme://host:port`);
      ok(target.failed > 0, `${target.target} failed`);
    }
    match(
      (await get("/metrics")).text,
      /coherence_alert_deliveries_total\{target="webhook",outcome="failed"\} [1-9]/,
    );
    await get("/coherence/alerts");
    await get("/coherence/transitions?limit=1000");
    await get("/coherence/transitions?limit=0");
    await get("/coherence/alerts?signal=nobody");
    await get("/openapi.json");
    await get("/");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await done;
    await receiver.shutdown().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
  ok(printed.length > 1000, "the service logged its work");
  for (const leak of LEAKS) {
    ok(!printed.includes(leak), `${leak} appeared in the service's output`);
    for (const response of answered) {
      ok(!response.includes(leak), `${leak} appeared in: ${response.slice(0, 300)}`);
    }
  }
});

Deno.test("a bad delivery URL or a short secret stops start-up naming the variable, without printing them", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN],
    env: {
      PORT: "0",
      PERSISTENCE: "none",
      ALERT_WEBHOOK_URL: `ftp://hook:${PASSWORD}@hooks.example.com/${PATH_TOKEN}?key=${QUERY_KEY}`,
      ALERT_WEBHOOK_SECRET: "whsec_short",
      ALERTMANAGER_URL: `gopher://am:${AM_PASSWORD}@am.example.com:9093/${AM_PATH}`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 2);
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  match(
    text,
    /Invalid configuration: ALERT_WEBHOOK_URL="ftp:\/\/hooks\.example\.com": expected an http\(s\) URL/,
  );
  match(text, /Invalid configuration: ALERT_WEBHOOK_SECRET=\(hidden\)/);
  match(text, /Invalid configuration: ALERTMANAGER_URL=/);
  for (const leak of [...LEAKS, "whsec_short"]) ok(!text.includes(leak), `${leak} printed:\n${text}`);
});
