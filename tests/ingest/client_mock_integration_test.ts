/**
 * The real Darshan client against the real mock upstream over HTTP, with faults on. Sleeps are injected
 * (recorded, not waited), so Retry-After and backoff cost no time.
 */
import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import {
  createDarshanClient,
  type DarshanClientOptions,
  type DarshanPullStats,
  UpstreamError,
} from "../../src/ingest/darshan_client.ts";
import { DIALECTS } from "../../src/ingest/dialect.ts";
import { type NormalizedPoint, normalizeRecord } from "../../src/ingest/normalize.ts";
import {
  createMockDarshan,
  fixtureRecords,
  generateRecords,
  type MockDarshan,
  type MockDarshanOptions,
  mulberry32,
} from "../../src/mock/darshan_server.ts";

const KEY = "integration-key-5b1e0c7d";
const END = Date.parse("2025-10-29T18:00:00Z");
const MINUTE = 60_000;

/** Starts the mock on a free port, runs `fn` with logs captured, and closes everything. */
async function withMock(
  options: Omit<MockDarshanOptions, "apiKey">,
  fn: (baseUrl: string, mock: MockDarshan) => Promise<void>,
): Promise<LogRecord[]> {
  const logs: LogRecord[] = [];
  await configure({
    sinks: { capture: (record: LogRecord) => logs.push(record) },
    loggers: [
      { category: ["coherence"], sinks: ["capture"], lowestLevel: "debug" },
      { category: ["logtape", "meta"], sinks: [], lowestLevel: "warning" },
    ],
  });
  const mock = createMockDarshan({ apiKey: KEY, ...options });
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, mock.app.fetch);
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, mock);
  } finally {
    mock.close();
    await server.shutdown();
    await reset();
  }
  return logs;
}

function clientOptions(baseUrl: string, waits: number[]): DarshanClientOptions {
  return {
    baseUrl,
    apiKey: KEY,
    pageSize: 50,
    timeoutMs: 5_000,
    maxRetries: 8,
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random: mulberry32(5),
  };
}

/** Last copy wins per (signal, timestamp), as the point store does. */
function dedup(points: readonly NormalizedPoint[]): Map<string, number> {
  const held = new Map<string, number>();
  for (const p of points) held.set(`${p.signal}@${p.ts}`, p.score);
  return held;
}

/** What a correct client must end with: the mock's records in (from, to], corrected, valid, deduplicated. */
function expectedFrom(mock: MockDarshan, fromMs: number, toMs: number): Map<string, number> {
  const points: NormalizedPoint[] = [];
  mock.records.forEach((rec, i) => {
    const r = normalizeRecord(mock.corrections.get(i) ?? rec);
    if (r.ok && r.point.ts > fromMs && r.point.ts <= toMs) points.push(r.point);
  });
  return dedup(points);
}

function assertKeyNeverLogged(logs: LogRecord[]) {
  assert.ok(logs.length > 0, "expected the client to log something");
  for (const record of logs) {
    const line = JSON.stringify({
      category: record.category,
      message: record.message.map(String),
      raw: String(record.rawMessage),
      properties: record.properties,
    });
    assert.ok(!line.includes(KEY), `the API key leaked into a log line: ${line}`);
  }
}

function assertStatsMatchMock(
  stats: DarshanPullStats,
  mock: MockDarshan,
  waits: number[],
  requestId: string,
) {
  const failed = mock.requests.filter((r) => r.status !== 200 || r.fault === "malformed");
  const served = mock.requests.filter((r) => r.status === 200 && r.fault === null);
  assert.equal(stats.retries, failed.length);
  assert.equal(stats.pages, served.length);
  assert.equal(stats.received, served.reduce((n, r) => n + r.records, 0));
  const rejected = Object.values(stats.rejected).reduce((n, c) => n + (c ?? 0), 0);
  assert.equal(rejected, served.reduce((n, r) => n + r.invalid, 0));
  assert.equal(waits.length, failed.length);
  assert.ok(mock.requests.every((r) => r.requestId === requestId), "every request carries the X-Request-ID");
  assert.ok(stats.upstreamLatencyMs >= 0);
}

Deno.test("client against mock: with 5xx, 429, malformed bodies, duplicates, corrections and invalid records it returns exactly the valid records", async () => {
  const records = generateRecords(2_000, {
    random: mulberry32(11),
    endMs: END,
    signals: ["a", "b", "c", "d"],
  });
  const from = END - 5 * 60 * MINUTE, to = END - 30 * MINUTE;
  const waits: number[] = [];
  const logs = await withMock({
    records,
    random: mulberry32(2025),
    errorRate: 0.15,
    rateLimitRate: 0.1,
    retryAfterSec: 1,
    malformedRate: 0.1,
    duplicateRate: 0.1,
    correctionRate: 0.05,
    invalidRate: 0.02,
  }, async (baseUrl, mock) => {
    const client = createDarshanClient(clientOptions(baseUrl, waits));
    const { points, stats } = await client.pull(from, to, { requestId: "ingest-1" });

    const expected = expectedFrom(mock, from, to);
    assert.equal(expected.size, 4 * 270);
    assert.deepEqual(dedup(points), expected);
    assert.ok(points.every((p) => p.ts > from && p.ts <= to));

    // Every kind of fault was met and survived.
    const faults = mock.requests.map((r) => r.fault);
    for (const fault of ["error", "rate_limit", "malformed"] as const) {
      assert.ok(faults.includes(fault), `expected at least one ${fault} fault`);
    }
    const served = mock.requests.filter((r) => r.status === 200 && r.fault === null);
    assert.ok(served.some((r) => r.duplicates > 0));
    assert.ok(served.some((r) => r.corrections > 0));
    assert.ok(served.some((r) => r.invalid > 0));
    assert.ok(points.length > expected.size, "duplicates and corrections arrive as extra copies");

    assertStatsMatchMock(stats, mock, waits, "ingest-1");
    const limited = mock.requests.filter((r) => r.fault === "rate_limit").length;
    assert.deepEqual(stats.retryAfterWaitsMs, Array(limited).fill(1000));
    assert.equal(stats.loopGuardStops, 0);
  });
  assertKeyNeverLogged(logs);
});

Deno.test("client against mock: page numbers with has_more in the start_end dialect over the bundled fixture", async () => {
  let records: unknown[];
  try {
    records = fixtureRecords(
      JSON.parse(await Deno.readTextFile(new URL("../../fixtures/signals.json", import.meta.url))),
    );
  } catch {
    records = generateRecords(3_000, { random: mulberry32(3), endMs: END });
  }
  const times = records.map((r) => normalizeRecord(r)).flatMap((r) => r.ok ? [r.point.ts] : []);
  const from = Math.min(...times) - MINUTE, to = Math.max(...times);
  const waits: number[] = [];
  const logs = await withMock({
    records,
    dialect: "start_end",
    pagination: "page",
    pageInfo: "has_more",
    random: mulberry32(8),
    errorRate: 0.1,
    rateLimitRate: 0.05,
    malformedRate: 0.05,
    duplicateRate: 0.05,
    correctionRate: 0.05,
    invalidRate: 0.01,
  }, async (baseUrl, mock) => {
    const client = createDarshanClient({
      ...clientOptions(baseUrl, waits),
      pageSize: 500,
      dialect: DIALECTS.start_end,
    });
    const { points, stats } = await client.pull(from, to, { requestId: "fixture-pull" });
    assert.deepEqual(dedup(points), expectedFrom(mock, from, to));
    assertStatsMatchMock(stats, mock, waits, "fixture-pull");
    const first = mock.requests[0].query;
    assert.ok("start_ts" in first && "end_ts" in first && !("from" in first));
    assert.ok(mock.requests.some((r) => r.query.page !== undefined));
  });
  assertKeyNeverLogged(logs);
});

Deno.test("client against mock: page numbers with total_pages and a short page size", async () => {
  const records = generateRecords(300, { random: mulberry32(4), endMs: END });
  const waits: number[] = [];
  await withMock({ records, pagination: "page", random: mulberry32(1) }, async (baseUrl, mock) => {
    const client = createDarshanClient({ ...clientOptions(baseUrl, waits), pageSize: 40 });
    const { points, stats } = await client.pull(END - 1000 * MINUTE, END, { requestId: "r" });
    assert.equal(points.length, 300);
    assert.equal(stats.pages, 8);
    assert.deepEqual(mock.requests.map((r) => r.query.page ?? "1"), ["1", "2", "3", "4", "5", "6", "7", "8"]);
  });
});

Deno.test("client against mock: a wrong key fails at once with 401, and the key is in no message or log", async () => {
  const waits: number[] = [];
  const logs = await withMock({ records: generateRecords(10, { endMs: END }) }, async (baseUrl, mock) => {
    const wrong = "wrong-key-0000";
    const client = createDarshanClient({ ...clientOptions(baseUrl, waits), apiKey: wrong });
    const error = await client.pull(END - 60 * MINUTE, END, { requestId: "auth" }).catch((e) => e);
    assert.ok(error instanceof UpstreamError);
    assert.equal(error.status, 401);
    assert.equal(
      error.message,
      "Darshan upstream refused the request: 401 Unauthorized from /signals/summary (check DARSHAN_API_KEY)",
    );
    assert.ok(!error.message.includes(wrong));
    assert.equal(mock.requests.length, 1);
    assert.deepEqual(waits, []);
  });
  assertKeyNeverLogged(logs);
});

Deno.test("client against mock: slow responses time out and are retried", async () => {
  const records = generateRecords(200, { random: mulberry32(6), endMs: END });
  const waits: number[] = [];
  await withMock(
    { records, delayMs: 2_000, slowRate: 0.3, random: mulberry32(17) },
    async (baseUrl, mock) => {
      const client = createDarshanClient({ ...clientOptions(baseUrl, waits), timeoutMs: 25 });
      const { points, stats } = await client.pull(END - 1000 * MINUTE, END, { requestId: "slow" });
      assert.equal(points.length, 200);
      const slow = mock.requests.filter((r) => r.slow).length;
      assert.ok(slow > 0, "expected at least one slow response");
      // Each slow response timed out once (a busy machine may time out a fast one too: retried the same way).
      assert.ok(stats.retries >= slow);
      assert.equal(stats.pages, 4);
    },
  );
});
