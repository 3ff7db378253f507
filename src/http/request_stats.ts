/**
 * The HTTP request instruments: a Prometheus counter of requests by method, route pattern and status, and a
 * request-duration histogram. `/metrics` exposes them; `/status` reads its request count, 5xx error rate and
 * p95 latency from the same two instruments, so the two views never disagree.
 *
 * Routes are labelled with the matched pattern (`/static/:name`, never the raw path) and unmatched paths
 * share one label, so a client cannot blow up the number of series.
 */
import { Counter, Histogram, Registry } from "prom-client";

export interface RequestStatsSnapshot {
  count: number;
  errors: number;
  errorRate: number;
  /** The 95th percentile since start, estimated from the histogram's buckets as `histogram_quantile` does. */
  p95LatencyMs: number | null;
}

/** Upper bounds of the request-duration histogram, seconds: fine below 10 ms, where this API answers. */
export const REQUEST_DURATION_BUCKETS_S: readonly number[] = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** The route label of a request that matched no route (404s of unknown paths). */
export const UNMATCHED_ROUTE = "(unmatched)";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export interface RequestLabels {
  method: string;
  /** The matched route pattern, e.g. `/coherence/metrics`; {@linkcode UNMATCHED_ROUTE} when none matched. */
  route: string;
}

export interface RequestStatsOptions {
  /** Where the instruments are registered (the service's one registry); a fresh one by default. */
  registry?: Registry;
  /** Metric name prefix. */
  prefix?: string;
}

export class RequestStats {
  readonly requests: Counter<"method" | "route" | "status">;
  readonly duration: Histogram<"method" | "route">;

  constructor({ registry = new Registry(), prefix = "coherence_" }: RequestStatsOptions = {}) {
    this.requests = new Counter({
      name: `${prefix}http_requests_total`,
      help: "HTTP requests answered, by method, matched route pattern and status code",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: "Time from receiving a request to its response being ready, by method and matched route pattern",
      labelNames: ["method", "route"] as const,
      buckets: [...REQUEST_DURATION_BUCKETS_S],
      registers: [registry],
    });
  }

  /** Records one response; 5xx count as errors. Unknown methods are labelled `other`. */
  record(status: number, latencyMs: number, labels: Partial<RequestLabels> = {}): void {
    const method = labels.method === undefined ? "GET" : METHODS.has(labels.method) ? labels.method : "other";
    const route = labels.route ?? UNMATCHED_ROUTE;
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, Math.max(0, latencyMs) / 1000);
  }

  /** Count, errors and p95 since start, read from the two instruments. */
  async snapshot(): Promise<RequestStatsSnapshot> {
    let count = 0;
    let errors = 0;
    for (const { value, labels } of (await this.requests.get()).values) {
      count += value;
      if (Number(labels.status) >= 500) errors += value;
    }
    const buckets = new Map<number, number>();
    const histogram = await this.duration.get();
    for (const { metricName, labels, value } of histogram.values) {
      if (metricName !== `${histogram.name}_bucket`) continue;
      const bound = (labels as Record<string, string | number | undefined>).le;
      const le = bound === "+Inf" ? Infinity : Number(bound);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    }
    const sorted = [...buckets].map(([le, cumulative]) => ({ le, cumulative })).sort((a, b) => a.le - b.le);
    const p95 = histogramQuantile(0.95, sorted);
    return {
      count,
      errors,
      errorRate: count === 0 ? 0 : errors / count,
      p95LatencyMs: p95 === null ? null : Math.round(p95 * 1e6) / 1e3,
    };
  }
}

/**
 * The q-quantile (0 < q ≤ 1) of a cumulative histogram, the way Prometheus' `histogram_quantile` computes it:
 * find the bucket holding the rank q·count and interpolate linearly inside it (the first bucket starts at 0);
 * a rank in the `+Inf` bucket answers the highest finite bound. Null when the histogram is empty.
 */
export function histogramQuantile(
  q: number,
  buckets: readonly { le: number; cumulative: number }[],
): number | null {
  const total = buckets.at(-1)?.cumulative ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const { le, cumulative } of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lowerBound;
      const inBucket = cumulative - lowerCount;
      return lowerBound + (le - lowerBound) * (inBucket === 0 ? 1 : (rank - lowerCount) / inBucket);
    }
    lowerBound = le;
    lowerCount = cumulative;
  }
  return lowerBound;
}
