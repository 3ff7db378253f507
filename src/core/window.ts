/**
 * Window parsing and formatting. Pure: no I/O.
 *
 * A window is a duration in whole seconds. Text forms: `30s`, `5m`, `1h`, `24h`, `7d`, or plain seconds
 * (`3600`). The window ending at `end` covers the half-open interval `(end − windowSec, end]`.
 */

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const WINDOW_PATTERN = /^(\d+)([smhd]?)$/;
/** Longest window text we try to parse; anything longer is refused before the regex runs. */
const MAX_WINDOW_TEXT = 32;

/** Raised for window text that cannot be used; the message says what was wrong and what is accepted. */
export class WindowError extends Error {
  override name = "WindowError";
}

export interface ParseWindowOptions {
  /** Largest accepted window in seconds; larger windows are refused. */
  maxSec?: number;
}

/**
 * Parses a window such as `1h` into seconds.
 *
 * @example parseWindow("5m") === 300
 * @throws {WindowError} for text that is not a positive duration within `maxSec`.
 */
export function parseWindow(text: string, options: ParseWindowOptions = {}): number {
  const { maxSec = Number.POSITIVE_INFINITY } = options;
  const trimmed = text.trim();
  const shown = trimmed.length > MAX_WINDOW_TEXT ? `${trimmed.slice(0, MAX_WINDOW_TEXT)}…` : trimmed;
  const match = trimmed.length <= MAX_WINDOW_TEXT ? WINDOW_PATTERN.exec(trimmed.toLowerCase()) : null;
  if (match === null) {
    throw new WindowError(
      `Cannot parse window "${shown}": expected a number followed by s, m, h or d (e.g. 30s, 5m, 1h, 7d), or plain seconds`,
    );
  }
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] || "s"];
  if (seconds === 0) {
    throw new WindowError(`Window "${shown}" is empty: a window must be at least 1 second`);
  }
  // Without a finite maxSec the limit is the largest exact integer, so the message never says "Infinity".
  const limit = Math.min(maxSec, Number.MAX_SAFE_INTEGER);
  if (!Number.isSafeInteger(seconds) || seconds > limit) {
    throw new WindowError(
      `Window "${shown}" is too long: the maximum is ${formatWindow(limit)} (${limit} s)`,
    );
  }
  return seconds;
}

/**
 * Formats seconds as exact window text in the largest whole unit, with days only from 2 days on (as people
 * write windows): 3600 → `1h`, 86400 → `24h`, 172800 → `2d`, 90 → `90s`.
 */
export function formatWindow(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds >= 2 * UNIT_SECONDS.d && seconds % UNIT_SECONDS.d === 0) return `${seconds / UNIT_SECONDS.d}d`;
  for (const unit of ["h", "m"] as const) {
    const size = UNIT_SECONDS[unit];
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** Parses a comma-separated window list such as `1h,24h`; duplicates are dropped, order is kept. */
export function parseWindowList(text: string, options: ParseWindowOptions = {}): number[] {
  const parts = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
  if (parts.length === 0) throw new WindowError("Window list is empty: expected e.g. 1h,24h");
  return [...new Set(parts.map((part) => parseWindow(part, options)))];
}
