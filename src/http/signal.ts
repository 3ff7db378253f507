/** The `signal` query parameter, checked once for every route that takes it. */
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { ProblemError } from "./problem.ts";

/** What the check reads from the point store. */
export interface KnownSignals {
  has(signal: string): boolean;
  signals(): readonly { signal: string }[];
}

/**
 * The requested signal, or undefined for all signals pooled (absent, empty or `"*"`); an unknown name is a 404
 * `unknown-signal` problem listing (up to 20) known ones.
 */
export function requestedSignal(store: KnownSignals, text: string | undefined): string | undefined {
  const requested = text?.trim();
  if (requested === undefined || requested === "" || requested === POOLED_SIGNAL) return undefined;
  if (!store.has(requested)) {
    const known = store.signals().map((s) => s.signal);
    const list = known.length === 0
      ? "none yet"
      : known.slice(0, 20).join(", ") + (known.length > 20 ? ", …" : "");
    throw new ProblemError("unknown-signal", `Unknown signal "${requested}": known signals are ${list}`);
  }
  return requested;
}
