/**
 * Retry timing, pure: exponential backoff with full jitter and the `Retry-After` header. Shared by the
 * upstream client (`ingest/darshan_client.ts`) and alert delivery (`alerts/dispatcher.ts`).
 */

/** Options for {@linkcode backoffMs}. */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random: () => number;
}

/** Exponential backoff with full jitter: `random() * min(cap, base * 2^attempt)`; attempt 0 is the first retry. */
export function backoffMs(attempt: number, { baseMs, capMs, random }: BackoffOptions): number {
  return random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * Parses a `Retry-After` value (delta-seconds or an HTTP-date) into a wait in ms, not below 0; null when
 * absent or unparsable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : null;
}
