/** Request counters and a latency sample for /status (count, error rate, p95). */

export interface RequestStatsSnapshot {
  count: number;
  errors: number;
  errorRate: number;
  p95LatencyMs: number | null;
}

export class RequestStats {
  #count = 0;
  #errors = 0;
  #latencies: Float64Array;
  #next = 0;
  #filled = 0;

  /** Keeps the latencies of the last `sampleSize` requests for the percentile. */
  constructor(sampleSize = 2048) {
    this.#latencies = new Float64Array(sampleSize);
  }

  /** Records one response; 5xx count as errors. */
  record(status: number, latencyMs: number): void {
    this.#count++;
    if (status >= 500) this.#errors++;
    this.#latencies[this.#next] = latencyMs;
    this.#next = (this.#next + 1) % this.#latencies.length;
    this.#filled = Math.min(this.#filled + 1, this.#latencies.length);
  }

  snapshot(): RequestStatsSnapshot {
    return {
      count: this.#count,
      errors: this.#errors,
      errorRate: this.#count === 0 ? 0 : this.#errors / this.#count,
      p95LatencyMs: percentile(this.#latencies.slice(0, this.#filled), 0.95),
    };
  }
}

/** Nearest-rank percentile of the values (0 < q ≤ 1); null when empty. */
export function percentile(values: Float64Array, q: number): number | null {
  if (values.length === 0) return null;
  const sorted = values.slice().sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
