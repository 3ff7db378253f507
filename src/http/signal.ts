/** The `signal` query parameter, checked once for every route that takes it. */
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
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
