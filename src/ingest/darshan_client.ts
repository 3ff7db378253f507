/**
 * The live Darshan source: pulls `GET {baseUrl}/signals/summary` page by page, retries what is worth
 * retrying, and normalises the records. The contract it assumes is written down in docs/UPSTREAM.md.
 *
 * Retries follow std's `retry()` shape: an explicit {@linkcode isRetriable}, exponential backoff with full
 * jitter ({@linkcode backoffMs}), an `AbortSignal`, and a final {@linkcode UpstreamError} whose `cause` is the
 * last failure. The API key goes in the `Authorization` header only: never in a URL, a log line or an error.
 *
 * @module
 */
import { getLogger } from "@logtape/logtape";
import { backoffMs, parseRetryAfter } from "../core/backoff.ts";
import { redactUrl, redactUserInfo } from "../core/redact.ts";
import { sleep as defaultSleep } from "../core/sleep.ts";
import { type Dialect, DIALECTS } from "./dialect.ts";
import { type NormalizedPoint, normalizeRecords, pick, recordsOf } from "./normalize.ts";
import { recordBatches, RecordStreamError } from "./record_stream.ts";
import { emptyStats, type FailedPull, type PullOptions, type PullStats, type Source } from "./source.ts";

export { backoffMs, type BackoffOptions, parseRetryAfter } from "../core/backoff.ts";

const log = getLogger(["coherence", "ingest"]);

/** The path of the one upstream endpoint, below the base URL. */
const SUMMARY_PATH = "/signals/summary";

/** Options for {@linkcode createDarshanClient}. */
export interface DarshanClientOptions {
  /** Base URL of the Darshan API, e.g. `https://darshan.example.com/api`. */
  baseUrl: string;
  /** Bearer token; sent in the `Authorization` header only. */
  apiKey: string;
  /** Records per page (`page_size`). Default 1000. */
  pageSize?: number;
  /** Per-request timeout in ms, covering the response body too. Default 10 000. */
  timeoutMs?: number;
  /** Retries per page after the first attempt. Default 5. */
  maxRetries?: number;
  /** Backoff base in ms. Default 250. */
  retryBaseMs?: number;
  /** Backoff cap in ms. Default 30 000. */
  retryCapMs?: number;
  /** Longest `Retry-After` wait honoured, in ms. Default 60 000. */
  retryAfterCapMs?: number;
  /** Guard against an upstream that never stops paging. Default 10 000 pages. */
  maxPages?: number;
  /**
   * Largest page body read, in bytes of the decompressed stream (what `fetch` yields after undoing
   * `Content-Encoding`). A larger body stops the read at the limit and fails the pull at once. Default 32 MiB.
   */
  maxBodyBytes?: number;
  /** Query, body and record names. Default {@linkcode DIALECTS.darshan}. */
  dialect?: Dialect;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

/** The client's {@linkcode PullStats} (`loopGuardStops` and `outOfWindow` are counted here only). */
export type DarshanPullStats = PullStats;

/** A {@linkcode Source} backed by the Darshan API. */
export interface DarshanSource extends Source {
  readonly kind: "darshan_api";
  pull(
    fromMs: number,
    toMs: number,
    options: PullOptions,
  ): Promise<{ points: NormalizedPoint[]; stats: DarshanPullStats }>;
}

/** A 200 response whose body is not JSON or carries no data array. */
export class MalformedBodyError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "MalformedBodyError";
  }
}

/** Default {@linkcode DarshanClientOptions.maxBodyBytes}: 32 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * A response body larger than the client's `maxBodyBytes`, counted on the decompressed stream: reading stopped
 * as soon as the count passed the limit, so at most one chunk beyond it was held. Never retried: the same page
 * would be as large again.
 */
export class BodyTooLargeError extends Error {
  /** The limit, bytes. */
  readonly limitBytes: number;
  /** Bytes read before the read stopped (more than the limit by at most one chunk). */
  readonly readBytes: number;
  constructor(limitBytes: number, readBytes: number) {
    super(
      `the body exceeded the size limit of ${limitBytes} bytes (DARSHAN_MAX_BODY_BYTES); reading stopped at ${readBytes} bytes`,
    );
    this.name = "BodyTooLargeError";
    this.limitBytes = limitBytes;
    this.readBytes = readBytes;
  }
}

/** Bodies are read in blocks of this size (or the limit + 1 when smaller); one block serves a whole body. */
const BODY_BLOCK_BYTES = 64 * 1024;

/**
 * The chunks of a byte stream, no more than `maxBytes` in all: past the limit the stream is cancelled (closing
 * the connection) and a {@linkcode BodyTooLargeError} thrown. A byte stream (a `fetch` body) is read with a
 * BYOB reader into one 64 KiB block, reused for every chunk (each chunk is valid until the next is asked
 * for); other streams are read by default. A consumer that stops early cancels the stream too.
 */
export async function* boundedChunks(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | null = null;
  let plain: ReadableStreamDefaultReader<Uint8Array> | null = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    plain = stream.getReader();
  }
  const reader = byob ?? plain!;
  let block = new Uint8Array(Math.min(BODY_BLOCK_BYTES, maxBytes + 1));
  let total = 0;
  let ended = false;
  try {
    while (true) {
      let chunk: Uint8Array;
      if (byob) {
        // Never ask for more than one byte past the limit.
        const want = Math.min(block.length, maxBytes + 1 - total);
        const { done, value } = await byob.read(block.subarray(0, want));
        // The block's buffer was transferred to `value`; the next read transfers it back.
        if (value) block = new Uint8Array(value.buffer);
        if (done) break;
        chunk = value;
      } else {
        const { done, value } = await plain!.read();
        if (done) break;
        chunk = value;
      }
      total += chunk.byteLength;
      if (total > maxBytes) throw new BodyTooLargeError(maxBytes, total);
      yield chunk;
    }
    ended = true;
  } finally {
    if (!ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** Pages up to this size are read whole and parsed with one `JSON.parse` (the fastest way); larger ones stream. */
const WHOLE_PAGE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a JSON page of at most `maxBytes` (else a {@linkcode BodyTooLargeError}). A page of up to 4 MiB is
 * parsed whole with `JSON.parse`; past that it is parsed while it arrives (`record_stream.ts`), never holding
 * its text: the records chunk by chunk, the rest of the document (cursor and page fields) at the end — so a
 * gzip bomb of whitespace costs 4 MiB, and a 32 MiB page no single long `JSON.parse`. A body that is not JSON,
 * or holds no records array where the dialect puts them, is a {@linkcode MalformedBodyError}.
 */
export async function readRecords(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  dialect: Dialect,
): Promise<{ body: unknown; records: unknown[] }> {
  const dataNames = dialect.body.data;
  const chunks = stream === null ? null : boundedChunks(stream, maxBytes);
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (chunks !== null && headBytes <= WHOLE_PAGE_BYTES) {
    const next = await chunks.next();
    if (next.done) break;
    // Copied: a chunk is valid only until the next is read.
    head.push(next.value.slice());
    headBytes += next.value.byteLength;
  }
  if (chunks === null || headBytes <= WHOLE_PAGE_BYTES) {
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder().decode(concat(head, headBytes)));
    } catch (cause) {
      throw new MalformedBodyError("expected a JSON body", { cause });
    }
    const records = recordsOf(body, dialect);
    if (records === null) throw new MalformedBodyError(`expected JSON with a "${dataNames[0]}" array`);
    return { body, records };
  }
  return await streamRecords(head, chunks, dataNames);
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** The streaming half of {@linkcode readRecords}: the chunks read so far, then the rest of the body. */
async function streamRecords(
  head: Uint8Array[],
  chunks: AsyncGenerator<Uint8Array>,
  dataNames: readonly string[],
): Promise<{ body: unknown; records: unknown[] }> {
  async function* all(): AsyncGenerator<Uint8Array> {
    try {
      while (head.length > 0) yield head.shift()!;
      yield* chunks;
    } finally {
      // Stopped early (a syntax error): cancel the body.
      await chunks.return(undefined);
    }
  }
  const records: unknown[] = [];
  let envelope: string;
  const batches = recordBatches(all(), dataNames);
  try {
    while (true) {
      const next = await batches.next();
      if (next.done) {
        envelope = next.value;
        break;
      }
      for (const record of next.value) records.push(record);
    }
  } catch (error) {
    if (!(error instanceof RecordStreamError)) throw error;
    if (error.kind === "no_records") {
      throw new MalformedBodyError(`expected JSON with a "${dataNames[0]}" array`, { cause: error });
    }
    throw new MalformedBodyError("expected a JSON body", { cause: error });
  }
  try {
    return { body: JSON.parse(envelope), records };
  } catch (cause) {
    throw new MalformedBodyError("expected a JSON body", { cause });
  }
}

/**
 * Whether a failed attempt is worth another: network errors (`TypeError` from fetch), timeouts
 * (`TimeoutError`), malformed bodies, 5xx and 429 responses. Everything else (401, 403, other 4xx, a
 * caller's abort) fails at once.
 */
export function isRetriable(failure: unknown): boolean {
  if (failure instanceof Response) return failure.status >= 500 || failure.status === 429;
  if (failure instanceof MalformedBodyError) return true;
  if (failure instanceof BodyTooLargeError) return false;
  if (failure instanceof DOMException) return failure.name === "TimeoutError";
  return failure instanceof TypeError;
}

/**
 * The final failure of a pull: names the status, the host and the URL path, never the key. `stats` is what
 * the pull did before it gave up.
 */
export class UpstreamError extends Error implements FailedPull {
  /** HTTP status of the last response, when there was one. */
  readonly status?: number;
  /** Path of the request that failed, e.g. `/signals/summary`. */
  readonly path: string;
  /** Attempts made for the failing page. */
  readonly attempts: number;
  /** Pages, retries, waits and latency of the pull up to the failure. */
  readonly stats: PullStats;
  constructor(
    message: string,
    options: { status?: number; path: string; attempts: number; cause?: unknown; stats?: PullStats },
  ) {
    super(message, { cause: options.cause });
    this.name = "UpstreamError";
    this.status = options.status;
    this.path = options.path;
    this.attempts = options.attempts;
    this.stats = options.stats ?? emptyStats();
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function describeStatus(response: Response): string {
  const text = response.statusText || STATUS_TEXT[response.status] || "";
  return text ? `${response.status} ${text}` : String(response.status);
}

/**
 * The underlying cause of a network failure in a few words, from the error and its `cause` chain (Deno's
 * fetch throws `TypeError: fetch failed` whose cause says what happened): `connection refused`,
 * `DNS lookup failed: …`, `TLS handshake failed: …`, `connection reset`, else the innermost message without
 * the URL. User info in any URL is removed.
 */
export function networkCause(error: unknown): string {
  // "error sending request for url (http://h/p?q): client error (Connect): tcp connect error: X (os error 111)"
  const clean = (message: string) =>
    redactUserInfo(message)
      .replace(/^error sending request for url \([^)]*\):\s*/i, "")
      .replace(/^client error \([^)]*\):\s*/i, "")
      .replace(/\s*\(os error \d+\)$/, "")
      .trim();
  const messages: string[] = [];
  for (let e = error, depth = 0; depth < 8 && e !== undefined && e !== null; depth++) {
    messages.push(clean(e instanceof Error ? e.message : String(e)));
    e = e instanceof Error ? e.cause : undefined;
  }
  const all = messages.join(" | ");
  const innermost = messages.at(-1) ?? "";
  const last = innermost.split(": ").at(-1) ?? innermost;
  if (/connection refused/i.test(all)) return "connection refused";
  if (
    /dns error|failed to lookup address|name or service not known|nodename nor servname|no such host/i.test(
      all,
    )
  ) {
    return `DNS lookup failed: ${last}`;
  }
  if (/certificate|\b(tls|ssl)\b|handshake|corrupt message/i.test(all)) {
    return `TLS handshake failed: ${innermost.replace(/^(tls|ssl) (handshake )?error:\s*/i, "")}`;
  }
  if (/connection reset/i.test(all)) return "connection reset";
  return innermost || "fetch failed";
}

/** `https://user:pw@host/api/` → `https://host/api`: safe to show. */
function safeLocation(url: URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  copy.search = "";
  copy.hash = "";
  return copy.href.replace(/\/+$/, "");
}

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`Cannot create Darshan client: ${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

/** The next cursor of a body: a non-empty string or a finite number, else null. */
function cursorOf(body: Record<string, unknown>, names: readonly string[]): string | null {
  const value = pick(body, names);
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return null;
}

function numberOf(body: Record<string, unknown>, names: readonly string[]): number | null {
  const value = pick(body, names);
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** What one successful page said about the next one. */
type Next = { cursor: string } | { page: number } | null;

/**
 * Creates the Darshan API source. Nothing happens until `pull()`.
 *
 * @example
 * ```ts
 * const source = createDarshanClient({ baseUrl: "https://darshan.example.com", apiKey: key });
 * const { points, stats } = await source.pull(Date.now() - 3_600_000, Date.now(), { requestId: "r1" });
 * ```
 */
export function createDarshanClient(options: DarshanClientOptions): DarshanSource {
  const {
    apiKey,
    pageSize = 1000,
    timeoutMs = 10_000,
    maxRetries = 5,
    retryBaseMs = 250,
    retryCapMs = 30_000,
    retryAfterCapMs = 60_000,
    maxPages = 10_000,
    maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
    dialect = DIALECTS.darshan,
    fetch = globalThis.fetch,
    sleep = defaultSleep,
    random = Math.random,
    now = Date.now,
  } = options;
  let base: URL;
  try {
    base = new URL(options.baseUrl);
  } catch (cause) {
    throw new TypeError(
      `Cannot create Darshan client: baseUrl "${redactUrl(options.baseUrl)}" is not a URL`,
      {
        cause,
      },
    );
  }
  positiveInt("pageSize", pageSize);
  positiveInt("timeoutMs", timeoutMs);
  positiveInt("maxRetries", maxRetries, 0);
  positiveInt("maxPages", maxPages);
  positiveInt("maxBodyBytes", maxBodyBytes);
  const location = safeLocation(base);
  const endpoint = new URL(location + SUMMARY_PATH);
  const path = endpoint.pathname;
  /** Host and path, as named in errors: `darshan.example.com/api/signals/summary`. */
  const where = endpoint.host + path;
  const maxAttempts = maxRetries + 1;

  /** Never let the key through, whatever an underlying error message says. */
  const redact = (text: string) => redactUserInfo(apiKey ? text.replaceAll(apiKey, "[redacted]") : text);

  function finalError(failure: unknown, attempts: number, stats: PullStats): UpstreamError {
    const tries = attempts === 1 ? "1 attempt" : `${attempts} attempts`;
    let message: string;
    let status: number | undefined;
    if (failure instanceof Response) {
      status = failure.status;
      const what = `${describeStatus(failure)} from ${path}`;
      if (status === 401 || status === 403) {
        message = `Darshan upstream refused the request: ${what} (check DARSHAN_API_KEY)`;
      } else if (status === 429) {
        message = `Darshan upstream kept rate-limiting after ${tries}: ${what}`;
      } else if (status >= 500) {
        message = `Darshan upstream failed after ${tries}: ${what}`;
      } else {
        message = `Darshan upstream rejected the request: ${what}`;
      }
    } else if (failure instanceof BodyTooLargeError) {
      message = `Darshan upstream sent a page over the size limit from ${path}: ${failure.message}`;
    } else if (failure instanceof MalformedBodyError) {
      message = `Darshan upstream sent a malformed body from ${path} after ${tries}: ${failure.message}`;
    } else if (failure instanceof DOMException && failure.name === "TimeoutError") {
      message = `Darshan upstream timed out after ${timeoutMs} ms on ${where} (${tries})`;
    } else {
      message = `Cannot reach Darshan upstream at ${where} after ${tries}: ${networkCause(failure)}`;
    }
    return new UpstreamError(redact(message), { status, path, attempts, cause: failure, stats });
  }

  /** One attempt: the parsed body, or throws / returns the failure (a Response for a bad status). */
  async function attempt(
    url: URL,
    requestId: string,
    signal: AbortSignal | undefined,
  ): Promise<{ body: unknown; records: unknown[]; status: number } | { failure: unknown }> {
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new DOMException(`Timed out after ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
    try {
      const response = await fetch(url, {
        headers: {
          Authorization: `Bearer ${apiKey}`,
          Accept: "application/json",
          "X-Request-ID": requestId,
        },
        signal: combined,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        return { failure: response };
      }
      // Parsed while it is read and counted after decompression: a gzip bomb is cut off at the limit, and
      // neither the text nor (beyond its records) the document is ever held whole.
      const { body, records } = await readRecords(response.body, maxBodyBytes, dialect);
      return { body, records, status: response.status };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.signal.aborted) return { failure: timeout.signal.reason };
      return { failure: error };
    } finally {
      clearTimeout(timer);
    }
  }

  async function pull(fromMs: number, toMs: number, { requestId, signal }: PullOptions) {
    const stats: DarshanPullStats = emptyStats();
    const points: NormalizedPoint[] = [];
    /** Cursors and page numbers already followed (`c:<cursor>`, `p:<page>`): the loop guard. */
    const followed = new Set<string>();
    let next: Next = null;

    for (let page = 1; page <= maxPages; page++) {
      const url = new URL(endpoint);
      const q = dialect.params;
      url.searchParams.set(q.from, new Date(fromMs).toISOString());
      url.searchParams.set(q.to, new Date(toMs).toISOString());
      url.searchParams.set(q.pageSize, String(pageSize));
      if (next && "cursor" in next) url.searchParams.set(q.cursor, next.cursor);
      if (next && "page" in next) url.searchParams.set(q.page, String(next.page));

      let result: { body: unknown; records: unknown[]; status: number } | undefined;
      for (let attemptNo = 1; result === undefined; attemptNo++) {
        signal?.throwIfAborted();
        const started = now();
        const outcome = await attempt(url, requestId, signal);
        stats.upstreamLatencyMs += now() - started;
        if (!("failure" in outcome)) {
          result = outcome;
          break;
        }
        const { failure } = outcome;
        const status = failure instanceof Response ? failure.status : undefined;
        if (!isRetriable(failure) || attemptNo >= maxAttempts) {
          log.warn("Giving up on page {page} after attempt {attempt} (status {status})", {
            page,
            attempt: attemptNo,
            status: status ?? null,
          });
          throw finalError(failure, attemptNo, stats);
        }
        let waitMs = backoffMs(attemptNo - 1, { baseMs: retryBaseMs, capMs: retryCapMs, random });
        if (failure instanceof Response && failure.status === 429) {
          const retryAfter = parseRetryAfter(failure.headers.get("Retry-After"), now());
          if (retryAfter !== null) {
            waitMs = Math.min(retryAfter, retryAfterCapMs);
            stats.retryAfterWaitsMs.push(waitMs);
          }
        }
        stats.retries++;
        log.warn("Retrying page {page} (attempt {attempt}, status {status}) in {waitMs} ms", {
          page,
          attempt: attemptNo,
          status: status ?? null,
          reason: failure instanceof Error || failure instanceof DOMException ? failure.name : "http_status",
          waitMs,
        });
        await sleep(waitMs, signal);
      }

      stats.pages++;
      const { body, records, status } = result;
      stats.received += records.length;
      const normalized = normalizeRecords(records, dialect);
      for (const [reason, count] of Object.entries(normalized.rejected)) {
        const key = reason as keyof typeof normalized.rejected;
        stats.rejected[key] = (stats.rejected[key] ?? 0) + (count ?? 0);
      }
      for (const point of normalized.points) {
        if (point.ts > fromMs && point.ts <= toMs) points.push(point);
        else stats.outOfWindow++;
      }
      log.debug("Fetched page {page}: {records} records (status {status})", {
        page,
        records: records.length,
        status,
      });

      if (records.length === 0) break;
      next = nextOf(body, next && "page" in next ? next.page : page);
      if (next === null) break;
      const key = "cursor" in next ? `c:${next.cursor}` : `p:${next.page}`;
      if (followed.has(key)) {
        stats.loopGuardStops++;
        log.warn("Stopping at page {page}: the upstream pointed back at a page already fetched", { page });
        break;
      }
      followed.add(key);
      if (page === maxPages) {
        log.warn("Stopping at page {page}: the page limit was reached", { page });
      }
    }
    log.info("Pulled {records} records in {pages} pages ({retries} retries)", {
      records: points.length,
      pages: stats.pages,
      retries: stats.retries,
      latencyMs: stats.upstreamLatencyMs,
    });
    return { points, stats };
  }

  /**
   * Cursor first; else page numbers with `has_more` or `total_pages`: the next page is the echoed `page` + 1
   * (so 0-based APIs work when they echo), or this request's number + 1 counting the first as 1; else done.
   */
  function nextOf(body: unknown, current: number): Next {
    if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
    const b = body as Record<string, unknown>;
    const cursor = cursorOf(b, dialect.body.nextCursor);
    if (cursor !== null) return { cursor };
    const served = numberOf(b, dialect.body.page) ?? current;
    const hasMore = pick(b, dialect.body.hasMore);
    if (typeof hasMore === "boolean") return hasMore ? { page: served + 1 } : null;
    const totalPages = numberOf(b, dialect.body.totalPages);
    if (totalPages !== null) return served + 1 <= totalPages ? { page: served + 1 } : null;
    return null;
  }

  return { kind: "darshan_api", location, pull };
}
