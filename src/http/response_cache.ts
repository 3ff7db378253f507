/**
 * A small cache of serialised metrics answers. An answer depends only on the request (route, window, signal,
 * end), on the second it arrived in (the default end) and on the held data, so an entry is keyed by the
 * request and valid for one second and one data epoch: the caller moves to a new epoch whenever the point
 * store's version (bumped by every insert, update or eviction) or the ingest coverage start (which moves the
 * `window_exceeds_history` warning) changes. Ingest therefore invalidates the cache simply by changing data.
 *
 * Bodies are kept as the JSON text split around the value of `meta.latency_ms`, so a repeated answer is the
 * same text with this request's own latency spliced in, without serialising again. (Text, not pre-encoded
 * bytes: Deno.serve hands a string body to its native side as is, cheaper than building a byte array here.)
 */
import type { Context, TypedResponse } from "hono";
import { round3 } from "./middleware.ts";
import { timeParameter } from "./query.ts";

export interface CachedBody {
  /** JSON text up to and including `"latency_ms":`. */
  head: string;
  /** JSON text after the latency value. */
  tail: string;
}

/** The cached body with `latencyMs` as the value of `meta.latency_ms`. */
export function bodyWithLatency(body: CachedBody, latencyMs: number): string {
  return body.head + latencyMs + body.tail;
}

const LATENCY_KEY = '"latency_ms":';

/**
 * Splits a metrics response's JSON text around the value of `"latency_ms"`, or returns null when absent. The
 * key cannot occur inside a JSON string (a quote there is always escaped), so the first match is the key.
 */
export function splitAtLatency(json: string): CachedBody | null {
  const at = json.indexOf(LATENCY_KEY);
  if (at < 0) return null;
  const valueStart = at + LATENCY_KEY.length;
  let end = valueStart;
  while (end < json.length && json[end] !== "," && json[end] !== "}") end++;
  return { head: json.slice(0, valueStart), tail: json.slice(end) };
}

export class ResponseCache {
  #entries = new Map<string, { second: number; epoch: number; body: CachedBody }>();
  readonly maxEntries: number;
  hits = 0;
  misses = 0;

  constructor({ maxEntries = 1024 }: { maxEntries?: number } = {}) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The body cached under `key` for this `second` and data `epoch`, or undefined (a stale entry is dropped). */
  get(key: string, second: number, epoch: number): CachedBody | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.second === second && entry.epoch === epoch) {
      this.hits++;
      return entry.body;
    }
    if (entry !== undefined) this.#entries.delete(key);
    this.misses++;
    return undefined;
  }

  /** Caches `json` (a metrics response) under `key` for `second` and `epoch`; the oldest entry goes when full. */
  set(key: string, second: number, epoch: number, json: string): void {
    const body = splitAtLatency(json);
    if (body === null) return;
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { second, epoch, body });
  }
}

/** What a route's data epoch is read from: the point store's version and the ingest coverage start. */
export interface DataSource {
  store: { readonly version: number };
  ingest: { coverageStartMs(): number | null };
  now?: () => number;
}

/**
 * `cache` bound to one route module's data: answers are keyed by request URL, the second `now()` is in (the
 * default end) and a data epoch that moves whenever the held points or the covered span change.
 */
export function cachedAnswers(cache: ResponseCache, { store, ingest, now = Date.now }: DataSource) {
  let seenVersion = -1;
  let seenCoverage: number | null | undefined = undefined;
  let epoch = 0;
  function dataEpoch(): number {
    const version = store.version, coverage = ingest.coverageStartMs();
    if (version !== seenVersion || coverage !== seenCoverage) {
      seenVersion = version;
      seenCoverage = coverage;
      epoch++;
    }
    return epoch;
  }
  return {
    /** The cached answer to `url` with this request's latency (since `started`), or undefined. */
    hit(url: string, started: number): string | undefined {
      const body = cache.get(url, Math.floor(now() / 1000), dataEpoch());
      return body && bodyWithLatency(body, round3(performance.now() - started));
    },
    /**
     * The JSON of `compute(endMs)`, cached for the second `now()` is in and the data epoch: `endMs` is the `end`
     * parameter, or by default that second.
     */
    answer(url: string, end: string | undefined, compute: (endMs: number) => unknown): string {
      const second = Math.floor(now() / 1000);
      const json = JSON.stringify(compute(end === undefined ? second * 1000 : timeParameter("end", end)));
      cache.set(url, second, dataEpoch(), json);
      return json;
    },
  };
}

/**
 * Sends `text`, the JSON serialisation of a `T` made by the route, typed as the route's JSON response (Hono
 * types `c.body()` as a string body, which the OpenAPI route would refuse).
 */
export function jsonText<T>(c: Context, text: string): TypedResponse<T, 200, "json"> {
  return c.body(text, 200, { "Content-Type": "application/json" }) as unknown as TypedResponse<
    T,
    200,
    "json"
  >;
}
