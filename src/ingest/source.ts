/**
 * Where points come from. The poller asks a source for the records in a time range; a source is the live
 * Darshan API (`darshan_client.ts`) or a local mock file (`mock_source.ts`).
 */
import type { SourceKind } from "../core/vocabulary.ts";
import type { NormalizedPoint, RejectReason } from "./normalize.ts";

/** What one pull did upstream: the provenance of a cycle's data. */
export interface PullStats {
  /** Pages fetched (successful responses). */
  pages: number;
  /** Attempts that were retried (network error, timeout, 5xx, 429, malformed body). */
  retries: number;
  /** Waits imposed by 429 Retry-After, in ms. */
  retryAfterWaitsMs: number[];
  /** Records received (valid or not). */
  received: number;
  /** Invalid records skipped, by reason. */
  rejected: Partial<Record<RejectReason, number>>;
  /** Sum of upstream response times, ms. */
  upstreamLatencyMs: number;
  /**
   * Times the loop guard stopped paging: a cursor came back that was already followed, or a page-number API
   * pointed back at a page already fetched. 0 or 1 per pull.
   */
  loopGuardStops: number;
  /** Valid records outside `(fromMs, toMs]` that the upstream sent anyway; dropped. */
  outOfWindow: number;
}

export interface PullOptions {
  /** Sent upstream as X-Request-ID. */
  requestId: string;
  signal?: AbortSignal;
}

/** One signal's points as columns (epoch ms, score), in any order; the store sorts and deduplicates them. */
export interface PointColumns {
  signal: string;
  ts: Float64Array;
  score: Float64Array;
}

export interface PullResult {
  points: NormalizedPoint[];
  /** More points, as columns per signal: how a large mock file parsed off the main thread arrives. */
  columns?: PointColumns[];
  stats: PullStats;
}

export interface Source {
  readonly kind: SourceKind;
  /** Where the data comes from, safe to show (a URL or a path; never a key). */
  readonly location: string;
  /**
   * Records with fromMs < timestamp ≤ toMs. A source without a time window (`mock_file`) returns every record
   * on its first pull and nothing after. Rejects on failure (after its own retries).
   */
  pull(fromMs: number, toMs: number, options: PullOptions): Promise<PullResult>;
  /** True when the source ignores the pull window (no backfill window, no age-based eviction). */
  readonly unbounded?: boolean;
}

export function emptyStats(): PullStats {
  return {
    pages: 0,
    retries: 0,
    retryAfterWaitsMs: [],
    received: 0,
    rejected: {},
    upstreamLatencyMs: 0,
    loopGuardStops: 0,
    outOfWindow: 0,
  };
}

/**
 * A pull that failed part-way: its error carries what the pull did before it gave up (pages fetched,
 * retries, waits, latency), so a failed cycle reports them as a successful one does.
 */
export interface FailedPull {
  stats: PullStats;
}

/** The stats a failed pull's error carries ({@linkcode FailedPull}), or null when it carries none. */
export function failedPullStats(error: unknown): PullStats | null {
  if (typeof error !== "object" || error === null || !("stats" in error)) return null;
  const stats = error.stats;
  if (typeof stats !== "object" || stats === null) return null;
  const s = stats as Partial<Record<keyof PullStats, unknown>>;
  const counts = [s.pages, s.retries, s.received, s.upstreamLatencyMs, s.loopGuardStops, s.outOfWindow];
  if (!counts.every((n) => typeof n === "number" && Number.isFinite(n))) return null;
  if (!Array.isArray(s.retryAfterWaitsMs) || typeof s.rejected !== "object" || s.rejected === null) {
    return null;
  }
  return stats as PullStats;
}
