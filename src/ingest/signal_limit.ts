/**
 * The cardinality bound (`MAX_SIGNALS`): a cycle's points for signals not held yet are admitted while there is
 * room, first come first served in the order the pull returned them; the records of any further new signal
 * are rejected with reason `signal_limit`. Signals already held always keep their points. A slot frees when a
 * signal's last point is evicted. Pure: no I/O.
 */

export interface SignalLimitOptions {
  /** Whether the store holds points of this signal. */
  isHeld(signal: string): boolean;
  /** Signals held now. */
  heldCount: number;
  /** Most signals that may be held. */
  maxSignals: number;
}

/** The limit's decision for one signal at a time, remembered for the cycle (see {@linkcode signalGate}). */
export interface SignalGate {
  /** Whether records of `signal` are admitted; the first new signals are, while there is room. */
  admits(signal: string): boolean;
  /** Distinct new signals refused so far. */
  readonly refusedSignals: number;
}

/** The limit as a per-signal decision, asked in the order the pull returned the records. */
export function signalGate({ isHeld, heldCount, maxSignals }: SignalLimitOptions): SignalGate {
  const admitted = new Set<string>();
  const refused = new Set<string>();
  return {
    admits(signal) {
      if (admitted.has(signal) || isHeld(signal)) return true;
      if (refused.has(signal)) return false;
      if (heldCount + admitted.size < maxSignals) {
        admitted.add(signal);
        return true;
      }
      refused.add(signal);
      return false;
    },
    get refusedSignals() {
      return refused.size;
    },
  };
}
