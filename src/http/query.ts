/** The query parameters routes share (`signal`, `window`, a time, a count), each parsed and checked in one place. */
import type { Config } from "../config.ts";
import { parseTimestamp } from "../core/time.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { parseWindow } from "../core/window.ts";
import { ProblemError } from "./problem.ts";

/** What the check reads from the point store. */
export interface KnownSignals {
  has(signal: string): boolean;
  signals(): readonly { signal: string }[];
}

/** The requested signal name, or undefined for all signals pooled (absent, empty or `"*"`); not checked. */
export function signalParameter(text: string | undefined): string | undefined {
  const requested = text?.trim();
  return requested === undefined || requested === "" || requested === POOLED_SIGNAL ? undefined : requested;
}

/** The 404 `unknown-signal` problem for `name`, listing (up to 20) known signals. */
export function unknownSignal(store: KnownSignals, name: string): ProblemError {
  const known = store.signals();
  const list = known.length === 0
    ? "none yet"
    : known.slice(0, 20).map((s) => s.signal).join(", ") + (known.length > 20 ? ", …" : "");
  return new ProblemError("unknown-signal", `Unknown signal "${name}": known signals are ${list}`);
}

/**
 * The requested signal, or undefined for all signals pooled (absent, empty or `"*"`); a name the point store
 * does not hold is a 404 `unknown-signal` problem.
 */
export function requestedSignal(store: KnownSignals, text: string | undefined): string | undefined {
  const requested = signalParameter(text);
  if (requested !== undefined && !store.has(requested)) throw unknownSignal(store, requested);
  return requested;
}

/** The `window` parameter in seconds: the first configured window when absent. */
export function windowParameter(
  config: Pick<Config, "windows" | "maxWindowSec">,
  text: string | undefined,
): number {
  return text === undefined ? config.windows[0] : parseWindow(text, { maxSec: config.maxWindowSec });
}

/** A time parameter (RFC 3339 or epoch seconds or milliseconds) in epoch ms; a bad `end` is `invalid-end`. */
export function timeParameter(name: string, text: string): number {
  const trimmed = text.trim();
  const ms = parseTimestamp(/^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : trimmed);
  if (ms === null) {
    throw new ProblemError(
      name === "end" ? "invalid-end" : "invalid-parameter",
      `Cannot parse ${name} "${text}": expected an RFC 3339 date-time such as 2025-10-29T17:43:00Z, or epoch seconds or milliseconds`,
    );
  }
  return ms;
}

/** A whole-number parameter (its schema allows only digits): `fallback` when absent, else `min` to `max`. */
export function countParameter(
  name: string,
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const count = text === undefined ? fallback : Number(text);
  if (count < min || count > max) {
    throw new ProblemError(
      "invalid-parameter",
      `Query parameter "${name}" is not valid: expected ${min} to ${max}, got ${count}`,
    );
  }
  return count;
}
