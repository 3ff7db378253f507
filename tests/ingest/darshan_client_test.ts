import assert from "node:assert/strict";
import {
  BodyTooLargeError,
  boundedChunks,
  createDarshanClient,
  type DarshanClientOptions,
  isRetriable,
  MalformedBodyError,
  networkCause,
  readRecords,
  UpstreamError,
} from "../../src/ingest/darshan_client.ts";
import { DIALECTS } from "../../src/ingest/dialect.ts";

const KEY = "sk-test-7f3a9c";
const BASE = "https://darshan.test";
const FROM = Date.parse("2025-10-29T16:00:00Z");
const TO = Date.parse("2025-10-29T17:00:00Z");

/** What the fake upstream answers: a Response, an error to throw, or a function of the request. */
type Reply = Response | Error | ((request: Request, signal: AbortSignal | undefined) => Promise<Response>);

/** A fetch fake that answers from a script and advances a fake clock by `latencyMs` per call. */
function fakeUpstream(replies: Reply[], latencyMs = 10) {
  const requests: Request[] = [];
  const waits: number[] = [];
  const clock = { ms: Date.parse("2025-10-29T17:00:05Z") };
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push(request);
    clock.ms += latencyMs;
    const reply = replies.shift();
    if (reply === undefined) throw new Error("fake upstream: no reply scripted");
    if (reply instanceof Error) throw reply;
    if (typeof reply === "function") return await reply(request, init?.signal ?? undefined);
    return reply;
  }) as typeof globalThis.fetch;
  const options = {
    baseUrl: BASE,
    apiKey: KEY,
    pageSize: 2,
    timeoutMs: 1000,
    maxRetries: 3,
    fetch,
    sleep: (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: () => 0.5,
    now: () => clock.ms,
  } satisfies DarshanClientOptions;
  return { requests, waits, clock, options };
}

const rec = (minute: number, score = 80, signal = "alpha") => ({
  signal,
  timestamp: `2025-10-29T16:${String(minute).padStart(2, "0")}:00Z`,
  coherenceScore: score,
});
const page = (data: unknown[], extra: Record<string, unknown> = {}) => Response.json({ data, ...extra });
const pull = (options: DarshanClientOptions) =>
  createDarshanClient(options).pull(FROM, TO, { requestId: "req-42" });

async function rejectsUpstream(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${error}`);
    return error;
  }
  assert.fail("expected the pull to fail");
}

Deno.test("isRetriable() retries network errors, timeouts, malformed bodies, 5xx and 429 only", () => {
  assert.equal(isRetriable(new TypeError("connection refused")), true);
  assert.equal(isRetriable(new DOMException("slow", "TimeoutError")), true);
  assert.equal(isRetriable(new MalformedBodyError("not JSON")), true);
  assert.equal(isRetriable(new Response(null, { status: 500 })), true);
  assert.equal(isRetriable(new Response(null, { status: 503 })), true);
  assert.equal(isRetriable(new Response(null, { status: 429 })), true);
  for (const status of [400, 401, 403, 404, 408, 422]) {
    assert.equal(isRetriable(new Response(null, { status })), false, String(status));
  }
  assert.equal(isRetriable(new DOMException("stop", "AbortError")), false);
  assert.equal(isRetriable(new Error("other")), false);
});

Deno.test("createDarshanClient() sends the bearer key, Accept and X-Request-ID with the darshan query names", async () => {
  const up = fakeUpstream([page([rec(1)], { next_cursor: null })]);
  const source = createDarshanClient(up.options);
  assert.equal(source.kind, "darshan_api");
  assert.equal(source.location, BASE);
  const { points } = await source.pull(FROM, TO, { requestId: "req-42" });
  assert.equal(points.length, 1);
  const [request] = up.requests;
  assert.equal(request.method, "GET");
  assert.equal(request.headers.get("Authorization"), `Bearer ${KEY}`);
  assert.equal(request.headers.get("Accept"), "application/json");
  assert.equal(request.headers.get("X-Request-ID"), "req-42");
  const url = new URL(request.url);
  assert.equal(url.origin + url.pathname, `${BASE}/signals/summary`);
  assert.deepEqual(Object.fromEntries(url.searchParams), {
    from: "2025-10-29T16:00:00.000Z",
    to: "2025-10-29T17:00:00.000Z",
    page_size: "2",
  });
  assert.ok(!request.url.includes(KEY));
});

Deno.test("createDarshanClient() uses the start_end dialect's query and cursor names", async () => {
  const up = fakeUpstream([
    page([rec(1)], { next_page: "p2" }),
    page([rec(2)], { next_page: null }),
  ]);
  const { points } = await pull({ ...up.options, dialect: DIALECTS.start_end });
  assert.equal(points.length, 2);
  const [first, second] = up.requests.map((r) => Object.fromEntries(new URL(r.url).searchParams));
  assert.deepEqual(first, {
    start_ts: "2025-10-29T16:00:00.000Z",
    end_ts: "2025-10-29T17:00:00.000Z",
    page_size: "2",
  });
  assert.equal(second.next_page, "p2");
  assert.equal(second.start_ts, first.start_ts);
});

Deno.test("createDarshanClient() keeps a base path and drops credentials from the location", async () => {
  const up = fakeUpstream([page([])]);
  const source = createDarshanClient({ ...up.options, baseUrl: "https://user:pw@darshan.test/api/v2/" });
  assert.equal(source.location, "https://darshan.test/api/v2");
  await source.pull(FROM, TO, { requestId: "r" });
  assert.equal(new URL(up.requests[0].url).pathname, "/api/v2/signals/summary");
  assert.throws(
    () => createDarshanClient({ ...up.options, baseUrl: "not a url" }),
    /baseUrl "not a url" is not a URL/,
  );
  assert.throws(() => createDarshanClient({ ...up.options, pageSize: 0 }), /pageSize must be an integer ≥ 1/);
});

Deno.test("pull() follows next_cursor until it is null", async () => {
  const up = fakeUpstream([
    page([rec(1), rec(2)], { next_cursor: "c2" }),
    page([rec(3), rec(4)], { next_cursor: "c3" }),
    page([rec(5)], { next_cursor: null }),
  ]);
  const { points, stats } = await pull(up.options);
  assert.deepEqual(points.map((p) => p.ts), [1, 2, 3, 4, 5].map((m) => FROM + m * 60_000));
  assert.deepEqual(up.requests.map((r) => new URL(r.url).searchParams.get("cursor")), [null, "c2", "c3"]);
  assert.equal(stats.pages, 3);
  assert.equal(stats.received, 5);
  assert.ok(up.requests.every((r) => r.headers.get("X-Request-ID") === "req-42"));
});

Deno.test("pull() stops when the cursor is absent", async () => {
  const up = fakeUpstream([page([rec(1)])]);
  const { stats } = await pull(up.options);
  assert.equal(stats.pages, 1);
  assert.equal(up.requests.length, 1);
});

Deno.test("pull() follows page numbers up to total_pages", async () => {
  const up = fakeUpstream([
    page([rec(1), rec(2)], { page: 1, total_pages: 3 }),
    page([rec(3), rec(4)], { page: 2, total_pages: 3 }),
    page([rec(5)], { page: 3, total_pages: 3 }),
  ]);
  const { points, stats } = await pull(up.options);
  assert.equal(points.length, 5);
  assert.equal(stats.pages, 3);
  assert.deepEqual(up.requests.map((r) => new URL(r.url).searchParams.get("page")), [null, "2", "3"]);
});

Deno.test("pull() follows page numbers while has_more is true, counting pages itself when none is echoed", async () => {
  const up = fakeUpstream([
    page([rec(1), rec(2)], { has_more: true }),
    page([rec(3), rec(4)], { has_more: true }),
    page([rec(5)], { has_more: false }),
  ]);
  const { points } = await pull(up.options);
  assert.equal(points.length, 5);
  assert.deepEqual(up.requests.map((r) => new URL(r.url).searchParams.get("page")), [null, "2", "3"]);
});

Deno.test("pull() stops on an empty page even when the upstream offers more", async () => {
  const up = fakeUpstream([
    page([rec(1), rec(2)], { next_cursor: "c2" }),
    page([], { next_cursor: "c3" }),
  ]);
  const { points, stats } = await pull(up.options);
  assert.equal(points.length, 2);
  assert.equal(stats.pages, 2);
  assert.equal(up.requests.length, 2);
});

Deno.test("pull() stops and counts when a cursor repeats (loop guard)", async () => {
  const up = fakeUpstream([
    page([rec(1)], { next_cursor: "a" }),
    page([rec(2)], { next_cursor: "b" }),
    page([rec(3)], { next_cursor: "a" }),
  ]);
  const { points, stats } = await pull(up.options);
  assert.equal(points.length, 3);
  assert.equal(stats.pages, 3);
  assert.equal(stats.loopGuardStops, 1);
  assert.equal(up.requests.length, 3);
});

Deno.test("pull() stops when a page-number API keeps pointing back at the same page", async () => {
  const up = fakeUpstream([
    page([rec(1)], { page: 1, has_more: true }),
    page([rec(1)], { page: 1, has_more: true }),
  ]);
  const { stats } = await pull(up.options);
  assert.equal(stats.pages, 2);
  assert.equal(stats.loopGuardStops, 1);
});

Deno.test("pull() stops at maxPages", async () => {
  const up = fakeUpstream([
    page([rec(1)], { next_cursor: "a" }),
    page([rec(2)], { next_cursor: "b" }),
    page([rec(3)], { next_cursor: "c" }),
  ]);
  const { stats } = await pull({ ...up.options, maxPages: 2 });
  assert.equal(stats.pages, 2);
});

Deno.test("pull() retries 5xx with full-jitter backoff waits", async () => {
  const randoms = [0.5, 0.25, 0.75];
  const up = fakeUpstream([
    new Response("oops", { status: 500 }),
    new Response(null, { status: 502 }),
    new Response(null, { status: 503 }),
    page([rec(1)]),
  ]);
  const { points, stats } = await pull({
    ...up.options,
    retryBaseMs: 100,
    retryCapMs: 300,
    random: () => randoms.shift()!,
  });
  assert.equal(points.length, 1);
  assert.deepEqual(up.waits, [0.5 * 100, 0.25 * 200, 0.75 * 300]);
  assert.equal(stats.retries, 3);
  assert.deepEqual(stats.retryAfterWaitsMs, []);
  assert.equal(stats.pages, 1);
});

Deno.test("pull() retries network errors", async () => {
  const up = fakeUpstream([new TypeError("error sending request: connection refused"), page([rec(1)])]);
  const { points, stats } = await pull(up.options);
  assert.equal(points.length, 1);
  assert.equal(stats.retries, 1);
  assert.deepEqual(up.waits, [125]);
});

Deno.test("pull() times out a hanging request and retries it", async () => {
  const hang = (_request: Request, signal: AbortSignal | undefined) =>
    new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
  const up = fakeUpstream([hang, page([rec(1)])]);
  const { points, stats } = await pull({ ...up.options, timeoutMs: 5 });
  assert.equal(points.length, 1);
  assert.equal(stats.retries, 1);
});

Deno.test("pull() gives up on a request that keeps timing out, naming the timeout", async () => {
  const hang = (_request: Request, signal: AbortSignal | undefined) =>
    new Promise<Response>((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason)));
  const up = fakeUpstream([hang, hang]);
  const error = await rejectsUpstream(pull({ ...up.options, timeoutMs: 3, maxRetries: 1 }));
  assert.match(error.message, /timed out after 3 ms on darshan\.test\/signals\/summary \(2 attempts\)/);
  assert.ok(error.cause instanceof DOMException && error.cause.name === "TimeoutError");
  assert.equal(error.status, undefined);
});

Deno.test("pull() retries malformed bodies: not JSON, and JSON without a data array", async () => {
  const up = fakeUpstream([
    new Response('{"data": [', { headers: { "Content-Type": "application/json" } }),
    Response.json({ items: [] }),
    page([rec(1)]),
  ]);
  const { points, stats } = await pull(up.options);
  assert.equal(points.length, 1);
  assert.equal(stats.retries, 2);
  assert.equal(stats.pages, 1);
});

Deno.test("pull() gives up after maxRetries with the last failure as cause", async () => {
  const up = fakeUpstream([
    new Response(null, { status: 503 }),
    new Response(null, { status: 503 }),
    new Response(null, { status: 503 }),
    new Response(null, { status: 504, statusText: "Gateway Timeout" }),
  ]);
  const error = await rejectsUpstream(pull(up.options));
  assert.equal(up.requests.length, 4);
  assert.deepEqual(up.waits, [125, 250, 500]);
  assert.equal(error.status, 504);
  assert.equal(error.attempts, 4);
  assert.equal(error.path, "/signals/summary");
  assert.equal(
    error.message,
    "Darshan upstream failed after 4 attempts: 504 Gateway Timeout from /signals/summary",
  );
  assert.ok(error.cause instanceof Response && error.cause.status === 504);
  assert.ok(!error.message.includes(KEY));
});

Deno.test("pull() gives up on network errors with the error as cause, never leaking the key", async () => {
  const last = new TypeError(`connection refused (token ${KEY})`);
  const up = fakeUpstream([new TypeError("reset"), last]);
  const error = await rejectsUpstream(pull({ ...up.options, maxRetries: 1 }));
  assert.equal(error.cause, last);
  assert.match(
    error.message,
    /^Cannot reach Darshan upstream at darshan\.test\/signals\/summary after 2 attempts/,
  );
  assert.ok(!error.message.includes(KEY));
});

Deno.test("pull() gives up on malformed bodies with a message saying so", async () => {
  const up = fakeUpstream([Response.json({ rows: [] })]);
  const error = await rejectsUpstream(pull({ ...up.options, maxRetries: 0 }));
  assert.match(
    error.message,
    /malformed body from \/signals\/summary after 1 attempt: expected JSON with a "data" array/,
  );
  assert.ok(error.cause instanceof MalformedBodyError);
});

Deno.test("pull() honours Retry-After in seconds on 429 and records the wait", async () => {
  const up = fakeUpstream([
    new Response(null, { status: 429, headers: { "Retry-After": "2" } }),
    page([rec(1)]),
  ]);
  const { stats } = await pull(up.options);
  assert.deepEqual(up.waits, [2000]);
  assert.deepEqual(stats.retryAfterWaitsMs, [2000]);
  assert.equal(stats.retries, 1);
});

Deno.test("pull() honours Retry-After as an HTTP-date, measured with the injected clock", async () => {
  // The clock reads 17:00:05.010 once the 429 has arrived (it starts at 17:00:05, each call takes 10 ms).
  const replies = fakeUpstream([
    new Response(null, { status: 429, headers: { "Retry-After": "Wed, 29 Oct 2025 17:00:08 GMT" } }),
    page([rec(1)]),
  ], 10);
  const { stats } = await pull(replies.options);
  assert.deepEqual(replies.waits, [2990]);
  assert.deepEqual(stats.retryAfterWaitsMs, [2990]);
});

Deno.test("pull() caps Retry-After at retryAfterCapMs", async () => {
  const up = fakeUpstream([
    new Response(null, { status: 429, headers: { "Retry-After": "3600" } }),
    page([rec(1)]),
  ]);
  const { stats } = await pull({ ...up.options, retryAfterCapMs: 5000 });
  assert.deepEqual(up.waits, [5000]);
  assert.deepEqual(stats.retryAfterWaitsMs, [5000]);
});

Deno.test("pull() falls back to backoff on a 429 without Retry-After, and gives up naming the rate limit", async () => {
  const up = fakeUpstream([new Response(null, { status: 429 }), new Response(null, { status: 429 })]);
  const error = await rejectsUpstream(pull({ ...up.options, maxRetries: 1 }));
  assert.deepEqual(up.waits, [125]);
  assert.equal(error.status, 429);
  assert.match(
    error.message,
    /kept rate-limiting after 2 attempts: 429 Too Many Requests from \/signals\/summary/,
  );
});

for (
  const [status, expected] of [
    [
      401,
      "Darshan upstream refused the request: 401 Unauthorized from /signals/summary (check DARSHAN_API_KEY)",
    ],
    [
      403,
      "Darshan upstream refused the request: 403 Forbidden from /signals/summary (check DARSHAN_API_KEY)",
    ],
    [404, "Darshan upstream rejected the request: 404 Not Found from /signals/summary"],
    [400, "Darshan upstream rejected the request: 400 Bad Request from /signals/summary"],
  ] as const
) {
  Deno.test(`pull() fails at once on ${status} with a message naming the status, not the key`, async () => {
    const up = fakeUpstream([Response.json({ error: "no", key: KEY }, { status }), page([rec(1)])]);
    const error = await rejectsUpstream(pull(up.options));
    assert.equal(up.requests.length, 1);
    assert.deepEqual(up.waits, []);
    assert.equal(error.status, status);
    assert.equal(error.message, expected);
    assert.ok(!error.message.includes(KEY));
    assert.ok(!String(error.stack).includes(KEY));
  });
}

Deno.test("pull() fails on a 4xx met on a later page, after the pages before it", async () => {
  const up = fakeUpstream([page([rec(1)], { next_cursor: "x" }), new Response(null, { status: 410 })]);
  const error = await rejectsUpstream(pull(up.options));
  assert.equal(error.status, 410);
  assert.equal(up.requests.length, 2);
});

Deno.test("pull() stops at once when the caller aborts, without retrying", async () => {
  const controller = new AbortController();
  const up = fakeUpstream([new Response(null, { status: 503 }), page([rec(1)])]);
  const source = createDarshanClient({
    ...up.options,
    sleep: (_ms, signal) => {
      controller.abort(new DOMException("shutting down", "AbortError"));
      return Promise.reject(signal?.reason);
    },
  });
  await assert.rejects(
    source.pull(FROM, TO, { requestId: "r", signal: controller.signal }),
    (error: unknown) => error instanceof DOMException && error.message === "shutting down",
  );
  assert.equal(up.requests.length, 1);
});

Deno.test("pull() counts records, rejects by reason, out-of-window points and upstream latency", async () => {
  const up = fakeUpstream([
    page([
      rec(1, 86.2),
      rec(2, 150),
      { signal: "beta", timestamp: "yesterday", coherenceScore: 70 },
    ], { next_cursor: "c2" }),
    new Response(null, { status: 500 }),
    page([
      { signal_id: "beta", timestamp: FROM / 1000 + 180, coherence_score: 0 },
      { timestamp: "2025-10-29T16:04:00Z", coherenceScore: 100 },
      { signal: "alpha", timestamp: "2025-10-29T16:05:00Z" },
      rec(0, 50),
      { ...rec(0, 50), timestamp: "2025-10-29T17:00:00Z" },
      { ...rec(0, 50), timestamp: "2025-10-29T17:00:01Z" },
    ]),
  ], 15);
  const { points, stats } = await pull(up.options);
  assert.deepEqual(points, [
    { signal: "alpha", ts: FROM + 60_000, score: 86.2 },
    { signal: "beta", ts: FROM + 180_000, score: 0 },
    { signal: "default", ts: FROM + 240_000, score: 100 },
    { signal: "alpha", ts: TO, score: 50 },
  ]);
  assert.equal(stats.pages, 2);
  assert.equal(stats.retries, 1);
  assert.equal(stats.received, 9);
  assert.deepEqual(stats.rejected, { score_out_of_range: 1, invalid_timestamp: 1, missing_score: 1 });
  assert.equal(stats.outOfWindow, 2);
  assert.equal(stats.upstreamLatencyMs, 45);
  assert.equal(stats.loopGuardStops, 0);
});

/** A body of `total` bytes in `chunk`-byte pieces, counting what the reader pulled and whether it cancelled. */
function countingBody(total: number, chunk: number) {
  const seen = { pulled: 0, cancelled: false };
  const piece = new TextEncoder().encode(" ".repeat(chunk));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled >= total) return controller.close();
      seen.pulled += piece.length;
      controller.enqueue(piece);
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

/** Reads the chunks of `boundedChunks`, keeping copies (each chunk is valid only until the next). */
async function collect(stream: ReadableStream<Uint8Array>, maxBytes: number) {
  const chunks: Uint8Array[] = [];
  /** The size of each chunk's backing buffer when it was yielded. */
  const backing: number[] = [];
  /** The buffers of earlier chunks, to see whether the next reads took them over. */
  const buffers: ArrayBufferLike[] = [];
  for await (const chunk of boundedChunks(stream, maxBytes)) {
    chunks.push(chunk.slice());
    backing.push(chunk.buffer.byteLength);
    buffers.push(chunk.buffer);
  }
  return { bytes: chunks.reduce((n, c) => n + c.byteLength, 0), chunks: chunks.length, backing, buffers };
}

Deno.test("boundedChunks() yields a body within the limit whole", async () => {
  const { stream } = countingBody(10 * 1024, 1024);
  const { bytes } = await collect(stream, 10 * 1024);
  assert.equal(bytes, 10 * 1024);
});

Deno.test("boundedChunks() reads a byte stream into one reused 64 KiB block", async () => {
  // A byte stream, as a fetch body is: 1 MiB in 16 KiB pieces.
  let sent = 0;
  const stream = new ReadableStream({
    type: "bytes",
    pull(controller) {
      if (sent >= 1024 * 1024) {
        controller.close();
        // A pending BYOB read is answered by an empty response after the close.
        return controller.byobRequest?.respond(0);
      }
      controller.enqueue(new Uint8Array(16 * 1024).fill(0x20));
      sent += 16 * 1024;
    },
  });
  const { bytes: read, backing, buffers } = await collect(stream, 2 * 1024 * 1024);
  assert.equal(read, 1024 * 1024);
  // Every chunk is a view of the 64 KiB block, and each read took the block back from the chunk before
  // (its buffer is detached): one block for the whole body, however long.
  assert.ok(backing.every((n) => n === 64 * 1024), backing.join());
  assert.ok(buffers.slice(0, -1).every((b) => b.byteLength === 0));
});

Deno.test("boundedChunks() stops at the limit plus one chunk and cancels the stream", async () => {
  const { stream, seen } = countingBody(100 * 1024 * 1024, 4096);
  const error = await collect(stream, 64 * 1024).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof BodyTooLargeError);
  assert.equal(error.limitBytes, 64 * 1024);
  assert.equal(error.readBytes, 64 * 1024 + 4096);
  assert.ok(seen.pulled <= 64 * 1024 + 4096, `pulled ${seen.pulled} bytes`);
  assert.ok(seen.cancelled);
});

Deno.test("readRecords() parses the records while reading and returns the rest of the body", async () => {
  const text = JSON.stringify({ next_cursor: "c2", data: [rec(1), rec(2)], page: 1 });
  const { body, records } = await readRecords(new Response(text).body, 1024 * 1024, DIALECTS.darshan);
  assert.deepEqual(records, [rec(1), rec(2)]);
  assert.deepEqual(body, { next_cursor: "c2", data: [rec(1), rec(2)], page: 1 });
});

Deno.test("readRecords() parses a page over 4 MiB while reading it: the same records, the cursor kept", async () => {
  const records = Array.from({ length: 60_000 }, (_, i) => rec(i % 600, 50 + (i % 50), `s${i}`));
  const text = JSON.stringify({ next_cursor: "c2", data: records, page: 1 });
  assert.ok(text.length > 4 * 1024 * 1024);
  const read = await readRecords(new Response(text).body, 32 * 1024 * 1024, DIALECTS.darshan);
  assert.deepEqual(read.records, records);
  // The streamed body is the document without its records: what nextOf() reads.
  assert.deepEqual(read.body, { next_cursor: "c2", data: [], page: 1 });
});

Deno.test("readRecords() cancels a large body as soon as it stops being JSON, without reading the rest", async () => {
  const seen = { pulled: 0, cancelled: false };
  const spaces = new TextEncoder().encode(" ".repeat(4096));
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulled++;
      // 6 MiB of spaces inside the records array, then a stray "}", then spaces for ever.
      if (seen.pulled === 1) controller.enqueue(new TextEncoder().encode('{"data": ['));
      else if (seen.pulled === 1500) controller.enqueue(new TextEncoder().encode("1]}}"));
      else controller.enqueue(spaces);
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  await assert.rejects(readRecords(stream, 64 * 1024 * 1024, DIALECTS.darshan), MalformedBodyError);
  assert.ok(seen.cancelled);
  assert.ok(seen.pulled < 1510, `pulled ${seen.pulled} chunks`);
});

Deno.test("pull() fails at once on a page over maxBodyBytes, saying the size limit was hit, not malformed", async () => {
  const { stream, seen } = countingBody(8 * 1024 * 1024, 4096);
  const up = fakeUpstream([
    new Response(stream, { headers: { "Content-Type": "application/json" } }),
    page([rec(1)]),
  ]);
  const error = await rejectsUpstream(pull({ ...up.options, maxBodyBytes: 1024 * 1024 }));
  assert.equal(up.requests.length, 1, "not retried");
  assert.equal(error.attempts, 1);
  assert.ok(error.cause instanceof BodyTooLargeError);
  assert.match(error.message, /over the size limit from \/signals\/summary/);
  assert.match(error.message, /size limit of 1048576 bytes \(DARSHAN_MAX_BODY_BYTES\)/);
  assert.doesNotMatch(error.message, /malformed/);
  assert.ok(seen.cancelled);
  assert.ok(seen.pulled <= 1024 * 1024 + 4096);
});

Deno.test("pull() accepts a page of exactly maxBodyBytes", async () => {
  const text = JSON.stringify({ data: [rec(1)] });
  const up = fakeUpstream([new Response(text)]);
  const { points } = await pull({ ...up.options, maxBodyBytes: new TextEncoder().encode(text).length });
  assert.equal(points.length, 1);
});

Deno.test("pull() gives up with what the pull did so far on the error: pages, retries, waits, latency, out-of-window", async () => {
  const up = fakeUpstream([
    page([rec(1), { ...rec(2), timestamp: "3000-01-01T00:00:00Z" }], { next_cursor: "c2" }),
    new Response(null, { status: 429, headers: { "Retry-After": "2" } }),
    new Response(null, { status: 503 }),
  ]);
  const error = await rejectsUpstream(pull({ ...up.options, maxRetries: 1 }));
  assert.equal(error.stats.pages, 1);
  assert.equal(error.stats.retries, 1);
  assert.deepEqual(error.stats.retryAfterWaitsMs, [2000]);
  assert.equal(error.stats.received, 2);
  assert.equal(error.stats.outOfWindow, 1);
  assert.equal(error.stats.upstreamLatencyMs, 30);
});

/** Deno's shape: `TypeError("fetch failed")` whose cause carries the hyper/rustls message. */
const fetchFailed = (inner: string) => new TypeError("fetch failed", { cause: new Error(inner) });

Deno.test("networkCause() names refused connections, DNS and TLS failures and resets from the cause chain", () => {
  assert.equal(
    networkCause(fetchFailed(
      "error sending request for url (http://127.0.0.1:9/signals/summary?from=x): client error (Connect): tcp connect error: Connection refused (os error 111)",
    )),
    "connection refused",
  );
  assert.equal(
    networkCause(fetchFailed(
      "error sending request for url (http://no-such-host.invalid/x): client error (Connect): dns error: failed to lookup address information: Name or service not known",
    )),
    "DNS lookup failed: Name or service not known",
  );
  assert.equal(
    networkCause(fetchFailed(
      "error sending request for url (https://127.0.0.1:4/): client error (Connect): invalid peer certificate: UnknownIssuer",
    )),
    "TLS handshake failed: invalid peer certificate: UnknownIssuer",
  );
  assert.equal(networkCause(fetchFailed("connection reset by peer")), "connection reset");
  assert.equal(
    networkCause(new TypeError("error reading a body from connection")),
    "error reading a body from connection",
  );
});

Deno.test("networkCause() never shows URL user info", () => {
  const cause = networkCause(fetchFailed("something odd at https://svc:P4ssw0rd@darshan.test/x"));
  assert.ok(!cause.includes("P4ssw0rd"), cause);
  assert.ok(!cause.includes("svc:"), cause);
});

Deno.test("pull() gives up on a network error naming the host and the cause, never the key or user info", async () => {
  const up = fakeUpstream([
    fetchFailed(
      "error sending request for url (https://darshan.test/signals/summary): client error (Connect): tcp connect error: Connection refused (os error 111)",
    ),
  ]);
  const error = await rejectsUpstream(
    pull({ ...up.options, baseUrl: "https://svc:P4ssw0rd@darshan.test", maxRetries: 0 }),
  );
  assert.equal(
    error.message,
    "Cannot reach Darshan upstream at darshan.test/signals/summary after 1 attempt: connection refused",
  );
  assert.ok(!error.message.includes(KEY));
  assert.ok(!error.message.includes("P4ssw0rd"));
});
