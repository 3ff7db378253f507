/**
 * A hostile upstream served on loopback by the tests: pages over the size limit and a gzip bomb. The real
 * client and poller cut the body at `maxBodyBytes` (counted after decompression), fail the cycle at once
 * without retrying, keep what they hold, and ingest the next normal page.
 */
import { equal, match, ok } from "node:assert/strict";
import { PointStore } from "../../src/core/point_store.ts";
import { BodyTooLargeError, createDarshanClient, UpstreamError } from "../../src/ingest/darshan_client.ts";
import { createPoller } from "../../src/ingest/poller.ts";
import { gzipBomb } from "../../scripts/perf_util.ts";

const KEY = "hostile-key-41c9e2";
const T0 = Date.parse("2025-10-29T12:00:00Z");
const MINUTE = 60_000;
const LIMIT = 1024 * 1024;
/** fetch yields the decompressed body in chunks of a few KiB; 64 KiB is a generous bound on one. */
const ONE_CHUNK = 64 * 1024;

/** Serves `handler` on a free loopback port. */
function serve(handler: (req: Request) => Response | Promise<Response>) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, handler);
  return { server, baseUrl: `http://127.0.0.1:${server.addr.port}` };
}

const record = (minutesBefore: number, score: number) => ({
  signal: "alpha",
  timestamp: new Date(T0 - minutesBefore * MINUTE).toISOString(),
  coherenceScore: score,
});

/** A valid page whose JSON text is over `bytes` long. */
function bigPage(bytes: number): string {
  const records = [];
  for (let i = 0, size = 0; size <= bytes; i++) {
    const r = { ...record(30, 70), note: "x".repeat(200), i };
    records.push(r);
    size += JSON.stringify(r).length;
  }
  return JSON.stringify({ data: records });
}

Deno.test("a page over DARSHAN_MAX_BODY_BYTES and a gzip bomb fail the cycle at once, keep the held data, and the next page ingests", async () => {
  const bomb = await gzipBomb(256 * 1024 * 1024);
  ok(bomb.length < 1024 * 1024, `the bomb is ${bomb.length} bytes on the wire`);
  const big = bigPage(2 * LIMIT);
  let mode: "normal" | "big" | "bomb" = "normal";
  let requests = 0;
  let normalRecords = [record(10, 80), record(5, 82)];
  const { server, baseUrl } = serve(() => {
    requests++;
    if (mode === "big") return new Response(big, { headers: { "Content-Type": "application/json" } });
    if (mode === "bomb") {
      return new Response(bomb, {
        headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" },
      });
    }
    return Response.json({ data: normalRecords, next_cursor: null });
  });
  let clock = T0;
  const store = new PointStore();
  const source = createDarshanClient({
    baseUrl,
    apiKey: KEY,
    maxRetries: 3,
    maxBodyBytes: LIMIT,
    sleep: () => Promise.resolve(),
    now: () => clock,
  });
  const poller = createPoller({
    source,
    store,
    maxWindowSec: 86_400,
    overlapSec: 300,
    intervalSec: 60,
    now: () => clock,
  });
  try {
    ok((await poller.runCycle()).ok);
    equal(store.size, 2);

    for (const hostile of ["big", "bomb"] as const) {
      mode = hostile;
      requests = 0;
      let thrown: unknown;
      const failing = createDarshanClient({
        baseUrl,
        apiKey: KEY,
        maxBodyBytes: LIMIT,
        sleep: () => Promise.resolve(),
      });
      await failing.pull(T0 - 3_600_000, T0, { requestId: "probe" }).catch((error) => (thrown = error));
      ok(thrown instanceof UpstreamError, hostile);
      ok(thrown.cause instanceof BodyTooLargeError, hostile);
      ok(
        thrown.cause.readBytes > LIMIT && thrown.cause.readBytes <= LIMIT + ONE_CHUNK,
        `${hostile}: read ${thrown.cause.readBytes} bytes for a limit of ${LIMIT}`,
      );
      equal(requests, 1, `${hostile}: not retried`);

      requests = 0;
      clock += MINUTE;
      const cycle = await poller.runCycle();
      equal(cycle.ok, false, hostile);
      match(cycle.error ?? "", /over the size limit/, hostile);
      match(cycle.error ?? "", /DARSHAN_MAX_BODY_BYTES/, hostile);
      ok(!/malformed/.test(cycle.error ?? ""), hostile);
      equal(requests, 1, `${hostile}: the cycle did not retry`);
      equal(cycle.retries, 0, hostile);
      equal(store.size, 2, `${hostile}: the held points are kept`);
    }

    mode = "normal";
    normalRecords = [record(5, 82), record(1, 85)];
    clock += MINUTE;
    const back = await poller.runCycle();
    ok(back.ok, back.error ?? "");
    equal(back.inserted, 1);
    equal(store.size, 3);
  } finally {
    await server.shutdown();
  }
});

Deno.test("an unreachable upstream is named with its host and the cause: connection refused", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const source = createDarshanClient({
    baseUrl: `http://svc:P4ssw0rd@127.0.0.1:${port}/api`,
    apiKey: KEY,
    maxRetries: 1,
    sleep: () => Promise.resolve(),
  });
  const error = await source.pull(T0 - 3_600_000, T0, { requestId: "refused" }).then(() => null, (e) => e);
  ok(error instanceof UpstreamError);
  equal(
    error.message,
    `Cannot reach Darshan upstream at 127.0.0.1:${port}/api/signals/summary after 2 attempts: connection refused`,
  );
  ok(!error.message.includes(KEY) && !error.message.includes("P4ssw0rd"));
});

Deno.test("an https upstream that does not speak TLS is named with its host and a TLS failure", async () => {
  const { server } = serve(() => new Response("plain http"));
  try {
    const host = `127.0.0.1:${server.addr.port}`;
    const source = createDarshanClient({
      baseUrl: `https://${host}`,
      apiKey: KEY,
      maxRetries: 0,
      sleep: () => Promise.resolve(),
    });
    const error = await source.pull(T0 - 3_600_000, T0, { requestId: "tls" }).then(() => null, (e) => e);
    ok(error instanceof UpstreamError);
    match(
      error.message,
      new RegExp(
        `^Cannot reach Darshan upstream at ${host}/signals/summary after 1 attempt: TLS handshake failed: `,
      ),
    );
    ok(!error.message.includes("fetch failed"));
  } finally {
    await server.shutdown();
  }
});
