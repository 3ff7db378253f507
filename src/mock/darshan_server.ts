/**
 * A mock Darshan `/signals/summary` upstream, shipped with the product: it serves a record list (a fixture
 * or generated data) with bearer auth, both pagination styles, both dialects, and injectable faults, so the
 * real client can be exercised end to end (`deno task mock-darshan`, see docs/UPSTREAM.md).
 *
 * Window semantics match ours: a record is served when `from < timestamp ≤ to` (either bound may be left
 * out). Records whose timestamp cannot be parsed are served only when neither bound is given.
 *
 * The mock reads timestamps with its own small parser ({@linkcode timestampMs}: RFC 3339 through
 * `Temporal.Instant`, epoch seconds or milliseconds) and finds record fields itself, rather than reusing the
 * client's `parseTimestamp` or `pick`: a bug there then shows up as a disagreement in the end-to-end tests
 * instead of being shared by both sides. The dialect tables (`DIALECTS`) are the contract's names, and shared.
 *
 * Fault randomness comes from the injected `random`, so a seeded generator ({@linkcode mulberry32}) makes a
 * run reproducible. Faults tied to records (duplicates, corrections) are drawn once, when the mock is
 * created; faults tied to requests (5xx, 429, slow, malformed, invalid records) are drawn per request.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { upperBound } from "../core/binary_search.ts";
import { sleep as abortableSleep } from "../core/sleep.ts";
import { type Dialect, type DialectName, DIALECTS } from "../ingest/dialect.ts";

/** Options for {@linkcode createMockDarshan}. Rates are probabilities in 0..1. */
export interface MockDarshanOptions {
  /** Raw upstream records, in any order. */
  records: readonly unknown[];
  /** The bearer token accepted. Default `mock-key`. */
  apiKey?: string;
  /** A token that authenticates but is refused with 403. */
  forbiddenKey?: string;
  /** Query parameter and body names. Default `darshan`. */
  dialect?: DialectName;
  /** `cursor` (opaque `next_cursor`) or `page` (page numbers). Default `cursor`. */
  pagination?: "cursor" | "page";
  /** With page pagination: report `total_pages` or `has_more`. Default `total_pages`. */
  pageInfo?: "total_pages" | "has_more";
  /** Page size when the request gives none. Default 100. */
  defaultPageSize?: number;
  /** Largest page size accepted. Default 10 000. */
  maxPageSize?: number;
  /** Share of requests answered 500/502/503/504. */
  errorRate?: number;
  /** Share of requests answered 429 with `Retry-After`. */
  rateLimitRate?: number;
  /** The `Retry-After` seconds sent with a 429. Default 1. */
  retryAfterSec?: number;
  /** Delay before answering, in ms. Default 0. */
  delayMs?: number;
  /** Share of requests that get `delayMs`. Default 1 (all). */
  slowRate?: number;
  /** Share of 200 responses with a malformed body (not JSON, or no data array). */
  malformedRate?: number;
  /** Share of records re-served (as their latest version) at the start of the next page. */
  duplicateRate?: number;
  /** Share of records followed, later on the same page, by a copy with a changed score. */
  correctionRate?: number;
  /** Per served record, the chance that an invalid record is inserted after it. */
  invalidRate?: number;
  random?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One request the mock answered. */
export interface MockRequestEntry {
  path: string;
  query: Record<string, string>;
  /** The X-Request-ID header, or null. */
  requestId: string | null;
  status: number;
  /** The fault injected, if any. */
  fault: "unauthorized" | "forbidden" | "bad_request" | "error" | "rate_limit" | "malformed" | null;
  slow: boolean;
  /** Records served (valid window records, duplicates, corrections and invalid ones). */
  records: number;
  duplicates: number;
  corrections: number;
  invalid: number;
}

/** The mock: its Hono app, its request log, and the truth it serves. */
export interface MockDarshan {
  app: Hono;
  /** Every request answered, in order. */
  readonly requests: MockRequestEntry[];
  /** The records, sorted by timestamp (unparsable timestamps last). */
  readonly records: readonly unknown[];
  /** Index into `records` → the corrected copy served after it. */
  readonly corrections: ReadonlyMap<number, Record<string, unknown>>;
  /**
   * Ends every pending slow-response delay at once (and skips later ones), so that a server's `shutdown()`
   * need not wait for them. Call it before shutting the server down.
   */
  close(): void;
}

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same sequence in 0..1. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 3339 with a zone, as the upstream stores timestamps (`T`, `t` or a space between date and time). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The mock's reading of a timestamp, independent of the client's: RFC 3339 with a zone (checked by
 * `Temporal.Instant`, which refuses impossible dates), or epoch seconds (below 1e11) or milliseconds; integer
 * epoch ms, or null.
 */
function timestampMs(value: unknown): number | null {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? Math.round(value < 1e11 ? value * 1000 : value) : null;
  }
  if (typeof value !== "string" || !RFC3339.test(value)) return null;
  try {
    return Temporal.Instant.from(value).epochMilliseconds;
  } catch {
    return null;
  }
}

/** The record's timestamp field (the first of `fields` it has a value for) and its epoch ms, or null. */
function recordTimestamp(record: unknown, fields: readonly string[]): [string, number] | null {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return null;
  const obj = record as Record<string, unknown>;
  const field = fields.find((name) => obj[name] !== undefined && obj[name] !== null);
  const ms = field === undefined ? null : timestampMs(obj[field]);
  return ms === null ? null : [field!, ms];
}

/** The upstream shape of a fixture file: `{ "data": [...] }` or a bare array. */
const FixtureSchema = z.union([
  z.array(z.unknown()),
  z.looseObject({ data: z.array(z.unknown()) }),
]);

/** The records of a parsed fixture file; throws a readable error when the shape is wrong. */
export function fixtureRecords(json: unknown): unknown[] {
  const parsed = FixtureSchema.safeParse(json);
  if (!parsed.success) {
    throw new TypeError('Cannot read fixture: expected { "data": [...] } or a bare array of records');
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.data;
}

/**
 * Shifts every record's timestamp by the same amount so the newest lands at `newestMs`; the timestamp is
 * rewritten as RFC 3339 in whichever field the record used. Records without a valid timestamp are kept as
 * they are (they are meant to be rejected downstream).
 */
export function shiftRecords(
  records: readonly unknown[],
  newestMs: number,
  dialect: Dialect = DIALECTS.darshan,
): unknown[] {
  const timestampOf = (record: unknown) => recordTimestamp(record, dialect.record.timestamp);
  let newest = -Infinity;
  for (const record of records) newest = Math.max(newest, timestampOf(record)?.[1] ?? -Infinity);
  if (!Number.isFinite(newest)) return [...records];
  const offset = newestMs - newest;
  return records.map((record) => {
    const found = timestampOf(record);
    if (found === null) return record;
    return { ...(record as Record<string, unknown>), [found[0]]: new Date(found[1] + offset).toISOString() };
  });
}

/** Options for {@linkcode generateRecords}. */
export interface GenerateOptions {
  random?: () => number;
  /** Timestamp of the newest records (rounded down to the step). Default now. */
  endMs?: number;
  /** Spacing between a signal's records. Default 60 s. */
  stepMs?: number;
  signals?: readonly string[];
}

/**
 * `count` records in the upstream shape, round-robin over the signals, one per signal per step, the newest at
 * `endMs`. Each signal's score is a bounded random walk around its own level (2 decimals).
 */
export function generateRecords(count: number, options: GenerateOptions = {}): Record<string, unknown>[] {
  const { random = Math.random, stepMs = 60_000, signals = ["alpha", "beta", "gamma"] } = options;
  const endMs = Math.floor((options.endMs ?? Date.now()) / stepMs) * stepMs;
  const levels = signals.map((_, i) => 88 - 12 * (i % 4));
  const scores = [...levels];
  const steps = Math.ceil(count / signals.length);
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % signals.length;
    const step = Math.floor(i / signals.length);
    const drift = (levels[s] - scores[s]) * 0.1 + (random() - 0.5) * 6;
    scores[s] = Math.min(100, Math.max(0, scores[s] + drift));
    const active = 5 + Math.floor(random() * 15);
    out.push({
      signal: signals[s],
      timestamp: new Date(endMs - (steps - 1 - step) * stepMs).toISOString().replace(".000Z", "Z"),
      coherenceScore: Math.round(scores[s] * 100) / 100,
      agentStates: { active, idle: Math.floor(random() * 5) },
      eventCount: Math.floor(random() * 80),
    });
  }
  return out;
}

const INVALID_VARIANTS: ((rec: Record<string, unknown>) => unknown)[] = [
  (rec) => ({ ...rec, coherenceScore: 150 }),
  (rec) => ({ signal: rec.signal, timestamp: rec.timestamp }),
  (rec) => ({ ...rec, timestamp: "yesterday at noon" }),
  (rec) => ({ ...rec, coherenceScore: String(rec.coherenceScore) }),
  () => "not a record",
];

const MALFORMED_BODIES: { body: string; contentType: string }[] = [
  { body: '{"data": [{"signal": "alpha", "timestamp": ', contentType: "application/json" },
  { body: '{"items": [], "next_cursor": null}', contentType: "application/json" },
  { body: "<html><body>502 Bad Gateway</body></html>", contentType: "text/html" },
];

const encodeCursor = (offset: number) => btoa(`offset:${offset}`).replace(/=+$/, "");
function decodeCursor(cursor: string): number | null {
  try {
    const match = /^offset:(\d+)$/.exec(atob(cursor));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Creates the mock upstream. Serve `mock.app.fetch` with `Deno.serve`, or call `mock.app.request(...)` in
 * tests.
 */
export function createMockDarshan(options: MockDarshanOptions): MockDarshan {
  const {
    apiKey = "mock-key",
    forbiddenKey,
    dialect: dialectName = "darshan",
    pagination = "cursor",
    pageInfo = "total_pages",
    defaultPageSize = 100,
    maxPageSize = 10_000,
    errorRate = 0,
    rateLimitRate = 0,
    retryAfterSec = 1,
    delayMs = 0,
    slowRate = 1,
    malformedRate = 0,
    duplicateRate = 0,
    correctionRate = 0,
    invalidRate = 0,
    random = Math.random,
    // close() aborts every pending delay early; the request then answers.
    sleep = (ms, signal) => abortableSleep(ms, signal).catch(() => {}),
  } = options;
  const dialect = DIALECTS[dialectName];
  const p = dialect.params;

  // Sort by timestamp, unparsable last; the finite prefix is binary-searched per request.
  const tsOf = (rec: unknown) => recordTimestamp(rec, dialect.record.timestamp)?.[1] ?? null;
  const sorted = options.records.map((rec, i) => ({ rec, ts: tsOf(rec), i }))
    .sort((a, b) => (a.ts ?? Infinity) - (b.ts ?? Infinity) || a.i - b.i);
  const records = sorted.map((e) => e.rec);
  const ts = Float64Array.from(sorted, (e) => e.ts ?? Infinity);
  const finite = ts.findIndex((t) => t === Infinity);
  const finiteCount = finite === -1 ? ts.length : finite;

  // Record-level faults, drawn once so that every page and every retry tells the same story.
  const duplicated = new Set<number>();
  const corrections = new Map<number, Record<string, unknown>>();
  records.forEach((rec, i) => {
    if (duplicateRate > 0 && random() < duplicateRate) duplicated.add(i);
    if (correctionRate > 0 && random() < correctionRate && typeof rec === "object" && rec !== null) {
      const obj = rec as Record<string, unknown>;
      const field = dialect.record.score.find((name) => typeof obj[name] === "number");
      if (field === undefined) return;
      const old = obj[field] as number;
      const changed = Math.round(((old + 5 + random() * 30) % 100) * 100) / 100;
      corrections.set(i, { ...obj, [field]: changed === old ? (old + 50) % 100 : changed });
    }
  });
  const latest = (i: number) => corrections.get(i) ?? records[i];

  const requests: MockRequestEntry[] = [];
  // Delays end on close(), not on the request's signal: listening to that makes Deno.serve warn about its
  // legacy abort-on-success behaviour.
  const closing = new AbortController();
  const app = new Hono();

  app.get("/signals/summary", async (c) => {
    const query: Record<string, string> = { ...c.req.query() };
    const entry: MockRequestEntry = {
      path: c.req.path,
      query,
      requestId: c.req.header("X-Request-ID") ?? null,
      status: 200,
      fault: null,
      slow: false,
      records: 0,
      duplicates: 0,
      corrections: 0,
      invalid: 0,
    };
    requests.push(entry);
    const problem = (
      status: 400 | 401 | 403 | 429 | 500 | 502 | 503 | 504,
      fault: MockRequestEntry["fault"],
      detail: string,
      title: string | null = fault,
    ) => {
      entry.status = status;
      entry.fault = fault;
      return c.json({ title, status, detail }, status);
    };

    const auth = c.req.header("Authorization");
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    if (forbiddenKey !== undefined && token === forbiddenKey) {
      return problem(403, "forbidden", "This key may not read signals");
    }
    if (token !== apiKey) {
      c.header("WWW-Authenticate", 'Bearer realm="darshan"');
      return problem(401, "unauthorized", auth ? "Invalid bearer token" : "Missing bearer token");
    }

    // A window bound in epoch ms: undefined when not given, null when it cannot be read.
    const bound = (raw: string | undefined) =>
      raw === undefined ? undefined : timestampMs(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw);
    const from = bound(query[p.from]), to = bound(query[p.to]);
    if (from === null || to === null) {
      return problem(
        400,
        "bad_request",
        `${p.from} and ${p.to} must be RFC 3339 date-times or epoch numbers`,
      );
    }
    const sizeRaw = query[p.pageSize];
    const pageSize = sizeRaw === undefined ? defaultPageSize : Number(sizeRaw);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
      return problem(400, "bad_request", `${p.pageSize} must be an integer in 1..${maxPageSize}`);
    }
    let offset = 0;
    if (pagination === "cursor" && query[p.cursor] !== undefined) {
      const decoded = decodeCursor(query[p.cursor]);
      if (decoded === null) return problem(400, "bad_request", `Unknown ${p.cursor} "${query[p.cursor]}"`);
      offset = decoded;
    }
    let page = 1;
    if (pagination === "page" && query[p.page] !== undefined) {
      page = Number(query[p.page]);
      if (!Number.isInteger(page) || page < 1) return problem(400, "bad_request", `${p.page} must be ≥ 1`);
      offset = (page - 1) * pageSize;
    }

    if (delayMs > 0 && random() < slowRate) {
      entry.slow = true;
      await sleep(delayMs, closing.signal);
    }
    if (errorRate > 0 && random() < errorRate) {
      const status = ([500, 502, 503, 504] as const)[Math.floor(random() * 4)];
      return problem(status, "error", "Injected failure", "upstream_error");
    }
    if (rateLimitRate > 0 && random() < rateLimitRate) {
      c.header("Retry-After", String(retryAfterSec));
      return problem(429, "rate_limit", "Slow down", "rate_limited");
    }

    // The window: records with from < ts ≤ to, or everything when no bound is given.
    const unbounded = from === undefined && to === undefined;
    const lo = from === undefined ? 0 : upperBound(ts, finiteCount, from);
    const hi = to === undefined
      ? (unbounded ? records.length : finiteCount)
      : upperBound(ts, finiteCount, to);
    const total = Math.max(0, hi - lo);
    const start = lo + offset, end = Math.min(hi, start + pageSize);

    if (malformedRate > 0 && random() < malformedRate) {
      const bad = MALFORMED_BODIES[Math.floor(random() * MALFORMED_BODIES.length)];
      entry.fault = "malformed";
      return c.body(bad.body, 200, { "Content-Type": bad.contentType });
    }

    const data: unknown[] = [];
    if (start < end && offset > 0) {
      for (let i = Math.max(lo, start - pageSize); i < start; i++) {
        if (duplicated.has(i)) {
          data.push(latest(i));
          entry.duplicates++;
        }
      }
    }
    const later: unknown[] = [];
    for (let i = start; i < end; i++) {
      const rec = records[i];
      data.push(rec);
      const fixed = corrections.get(i);
      if (fixed) {
        later.push(fixed);
        entry.corrections++;
      }
      if (invalidRate > 0 && random() < invalidRate && typeof rec === "object" && rec !== null) {
        const make = INVALID_VARIANTS[Math.floor(random() * INVALID_VARIANTS.length)];
        data.push(make(rec as Record<string, unknown>));
        entry.invalid++;
      }
    }
    data.push(...later);
    entry.records = data.length;

    const more = end < hi;
    if (pagination === "cursor") {
      return c.json({ data, [dialect.body.nextCursor[0]]: more ? encodeCursor(end - lo) : null });
    }
    const info = pageInfo === "has_more" ? { has_more: more } : { total_pages: Math.ceil(total / pageSize) };
    return c.json({ data, page, page_size: pageSize, ...info });
  });

  app.notFound((c) => c.json({ title: "not_found", status: 404, detail: `No route ${c.req.path}` }, 404));

  return { app, requests, records, corrections, close: () => closing.abort() };
}
