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
