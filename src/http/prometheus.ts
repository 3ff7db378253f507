/**
 * The service's Prometheus instruments, in one registry that `/metrics` exposes (text exposition format 0.0.4,
 * through `prom-client`):
 *
 * - HTTP: requests by method, route pattern and status, and a duration histogram ({@linkcode RequestStats},
 *   which `/status` reads too).
 * - Ingest: cycles ok/failed, records by outcome, rejections by reason, pages, retries, Retry-After waits,
 *   out-of-window records, loop-guard stops, evictions, the last cycle's and last success's time, cycle
 *   duration and upstream latency histograms. What the upstream did (pages, retries, waits, latency,
 *   out-of-window records, loop-guard stops) counts for failed cycles too; record outcomes only for ok ones.
 * - The latest snapshot: mean, stdev, volatilityIndex, n and risk per (signal, window), set from the same
 *   rows the snapshotter computes after each cycle (series for `"*"` are all signals pooled).
 * - Process and store: build info, start time, resident memory, points held, known signals, snapshot rows
 *   written and write failures.
 *
 * Every series has bounded labels: route patterns, fixed outcome and reason sets, and (signal, window) pairs
 * of the data itself — for at most `maxSignals` signals (`METRICS_MAX_SIGNALS`, default 1,000): the first by
 * name in code-unit order, a stable choice; `coherence_metrics_signals_omitted` counts the others. The pooled
 * `"*"` is always exported (no signal can take its name: normalisation rejects it).
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { nextMacrotask } from "../core/sleep.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { formatWindow } from "../core/window.ts";
import type { IngestCycle } from "../schemas.ts";
import type { SnapshotRow } from "../persistence/snapshot.ts";
import { RequestStats } from "./request_stats.ts";

/** Risk as a number for alert rules (`coherence_window_risk_level >= 2` is high); unknown is -1. */
export const RISK_LEVEL_VALUES = { unknown: -1, low: 0, medium: 1, high: 2 } as const;

const RECORD_OUTCOMES = ["inserted", "updated", "duplicate", "rejected"] as const;

/** Upper bounds for ingest timings, seconds: an upstream page takes tens of ms to tens of seconds. */
const INGEST_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface ServiceMetricsOptions {
  /** Metric name prefix (default `coherence_`). */
  prefix?: string;
  /** Reported in `coherence_build_info`. */
  version?: string;
  /** Process start, epoch ms. */
  startedAtMs?: number;
  /** The point store, read at scrape time. */
  points?: { readonly size: number; readonly signalCount: number };
  /** Snapshot persistence figures, read at scrape time. */
  persistence?: () => { rowsWritten: number; writeFailures: number };
  /** Resident set size in bytes, read at scrape time (default: `Deno.memoryUsage().rss`). */
  rss?: () => number;
  /** Most signals with per-signal series (`METRICS_MAX_SIGNALS`, default 1,000): the first by name. */
  maxSignals?: number;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly requests: RequestStats;
  readonly contentType: string = this.registry.contentType;
  readonly #cycles: Counter<"outcome">;
  readonly #records: Counter<"outcome">;
  readonly #rejected: Counter<"reason">;
  readonly #pages: Counter;
  readonly #retries: Counter;
  readonly #evicted: Counter;
  readonly #outOfWindow: Counter;
  readonly #loopGuardStops: Counter;
  readonly #retryAfterWaits: Counter;
  readonly #retryAfterWaitSeconds: Counter;
  readonly #lastCycle: Gauge;
  readonly #lastSuccess: Gauge;
  readonly #lastOk: Gauge;
  readonly #cycleDuration: Histogram;
  readonly #upstreamLatency: Histogram;
  readonly #snapshotAt: Gauge;
  readonly #mean: Gauge<"signal" | "window">;
  readonly #stdev: Gauge<"signal" | "window">;
  readonly #volatility: Gauge<"signal" | "window">;
  readonly #n: Gauge<"signal" | "window">;
  readonly #riskLevel: Gauge<"signal" | "window">;
  readonly #risk: Gauge<"signal" | "window" | "risk">;
  readonly #omitted: Gauge;
  readonly #maxSignals: number;

  constructor(options: ServiceMetricsOptions = {}) {
    const { prefix = "coherence_", version = "0.0.0", startedAtMs = Date.now(), points, persistence } =
      options;
    const rss = options.rss ?? (() => Deno.memoryUsage().rss);
    this.#maxSignals = options.maxSignals ?? 1000;
    const registers = [this.registry];
    const name = (suffix: string) => `${prefix}${suffix}`;
    this.requests = new RequestStats({ registry: this.registry, prefix });

    this.#cycles = new Counter({
      name: name("ingest_cycles_total"),
      help: "Ingest cycles run, by outcome (ok or failed)",
      labelNames: ["outcome"] as const,
      registers,
    });
    this.#records = new Counter({
      name: name("ingest_records_total"),
      help:
        "Upstream records by outcome: inserted (new), updated (new score), duplicate (same score), rejected",
      labelNames: ["outcome"] as const,
      registers,
    });
    this.#rejected = new Counter({
      name: name("ingest_rejected_records_total"),
      help: "Upstream records skipped as invalid, by reason (they sum to outcome=rejected)",
      labelNames: ["reason"] as const,
      registers,
    });
    this.#pages = new Counter({
      name: name("ingest_pages_total"),
      help: "Upstream pages fetched",
      registers,
    });
    this.#retries = new Counter({
      name: name("ingest_retries_total"),
      help: "Upstream requests retried (network errors, timeouts, 5xx, 429, malformed bodies)",
      registers,
    });
    this.#evicted = new Counter({
      name: name("ingest_evicted_points_total"),
      help: "Held points evicted as older than the largest window plus the overlap",
      registers,
    });
    this.#outOfWindow = new Counter({
      name: name("ingest_out_of_window_records_total"),
      help: "Valid upstream records outside the pull window, dropped (ok and failed cycles)",
      registers,
    });
    this.#loopGuardStops = new Counter({
      name: name("ingest_loop_guard_stops_total"),
      help: "Pulls stopped because the upstream pointed back at a page already fetched",
      registers,
    });
    this.#retryAfterWaits = new Counter({
      name: name("ingest_retry_after_waits_total"),
      help: "Waits imposed by a 429 Retry-After (ok and failed cycles)",
      registers,
    });
    this.#retryAfterWaitSeconds = new Counter({
      name: name("ingest_retry_after_wait_seconds_total"),
      help: "Time spent waiting on 429 Retry-After, seconds (ok and failed cycles)",
      registers,
    });
    this.#lastCycle = new Gauge({
      name: name("ingest_last_cycle_timestamp_seconds"),
      help: "When the last ingest cycle finished, Unix seconds (0 before the first)",
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: name("ingest_last_success_timestamp_seconds"),
      help:
        "When the last successful ingest cycle started (the time its data reaches), Unix seconds (0: never)",
      registers,
    });
    this.#lastOk = new Gauge({
      name: name("ingest_last_cycle_success"),
      help: "1 if the last ingest cycle succeeded, 0 if it failed or none ran yet",
      registers,
    });
    this.#cycleDuration = new Histogram({
      name: name("ingest_cycle_duration_seconds"),
      help: "Duration of whole ingest cycles (pull, validation, merge), seconds",
      buckets: INGEST_BUCKETS_S,
      registers,
    });
    this.#upstreamLatency = new Histogram({
      name: name("ingest_upstream_latency_seconds"),
      help: "Time spent waiting for the upstream per cycle, ok or failed (all pages and retries), seconds",
      buckets: INGEST_BUCKETS_S,
      registers,
    });
    for (const outcome of ["ok", "failed"]) this.#cycles.inc({ outcome }, 0);
    for (const outcome of RECORD_OUTCOMES) this.#records.inc({ outcome }, 0);

    const windowed = (suffix: string, help: string) =>
      new Gauge({ name: name(suffix), help, labelNames: ["signal", "window"] as const, registers });
    this.#snapshotAt = new Gauge({
      name: name("snapshot_timestamp_seconds"),
      help: "End of the windows of the latest snapshot (its computed_at), Unix seconds (0 before the first)",
      registers,
    });
    this.#mean = windowed(
      "window_mean",
      'Latest snapshot: mean coherence score per signal and window ("*" = all signals pooled); absent when n = 0',
    );
    this.#stdev = windowed("window_stdev", "Latest snapshot: sample standard deviation; absent when n < 2");
    this.#volatility = windowed(
      "window_volatility_index",
      "Latest snapshot: volatilityIndex = stdev / mean; absent when undefined (n < 2 or mean 0)",
    );
    this.#n = windowed("window_points", "Latest snapshot: points in the window");
    this.#riskLevel = windowed(
      "window_risk_level",
      "Latest snapshot: drift risk as a number, -1 unknown, 0 low, 1 medium, 2 high",
    );
    this.#risk = new Gauge({
      name: name("window_risk"),
      help: "Latest snapshot: 1 for the window's current drift risk level, 0 for the others",
      labelNames: ["signal", "window", "risk"] as const,
      registers,
    });

    this.#omitted = new Gauge({
      name: name("metrics_signals_omitted"),
      help:
        "Signals in the latest snapshot without per-signal series here (METRICS_MAX_SIGNALS; the first by name are exported)",
      registers,
    });

    new Gauge({
      name: name("build_info"),
      help: "Always 1; the labels carry the engine and Deno versions",
      labelNames: ["version", "deno"] as const,
      registers,
    }).set({ version, deno: Deno.version.deno }, 1);
    new Gauge({
      name: name("process_start_time_seconds"),
      help: "When the service started, Unix seconds",
      registers,
    }).set(startedAtMs / 1000);
    new Gauge({
      name: name("process_resident_memory_bytes"),
      help: "Resident set size of the process, bytes",
      registers,
      collect() {
        try {
          this.set(rss());
        } catch {
          // Not available on every platform (Deno Deploy); the gauge keeps its last value.
        }
      },
    });
    if (points) {
      new Gauge({
        name: name("points_held"),
        help: "Points held in memory across all signals",
        registers,
        collect() {
          this.set(points.size);
        },
      });
      new Gauge({
        name: name("signals_known"),
        help: "Signals with at least one held point",
        registers,
        collect() {
          this.set(points.signalCount);
        },
      });
    }
    if (persistence) {
      // Counters mirrored from the snapshotter's own tallies at scrape time.
      new Counter({
        name: name("snapshot_rows_written_total"),
        help: "Snapshot rows written to the active store",
        registers,
        collect() {
          this.reset();
          this.inc(persistence().rowsWritten);
        },
      });
      new Counter({
        name: name("snapshot_write_failures_total"),
        help: "Snapshot writes that failed (the next cycle tries again)",
        registers,
        collect() {
          this.reset();
          this.inc(persistence().writeFailures);
        },
      });
    }
  }

  /** Counts one finished ingest cycle. */
  recordCycle(cycle: IngestCycle): void {
    this.#cycles.inc({ outcome: cycle.ok ? "ok" : "failed" });
    this.#lastCycle.set(Date.parse(cycle.finishedAt) / 1000);
    this.#lastOk.set(cycle.ok ? 1 : 0);
    this.#cycleDuration.observe(cycle.durationMs / 1000);
    // What the upstream did counts whether or not the cycle succeeded.
    this.#pages.inc(cycle.pages);
    this.#retries.inc(cycle.retries);
    this.#upstreamLatency.observe(cycle.upstreamLatencyMs / 1000);
    this.#outOfWindow.inc(cycle.outOfWindow);
    this.#loopGuardStops.inc(cycle.loopGuardStops);
    this.#retryAfterWaits.inc(cycle.retryAfterWaitsMs.length);
    this.#retryAfterWaitSeconds.inc(cycle.retryAfterWaitsMs.reduce((sum, ms) => sum + ms, 0) / 1000);
    if (!cycle.ok) return;
    this.#lastSuccess.set(Date.parse(cycle.startedAt) / 1000);
    this.#records.inc({ outcome: "inserted" }, cycle.inserted);
    this.#records.inc({ outcome: "updated" }, cycle.updated);
    this.#records.inc({ outcome: "duplicate" }, cycle.duplicates);
    this.#records.inc({ outcome: "rejected" }, cycle.rejected);
    for (const [reason, count] of Object.entries(cycle.rejectedByReason)) {
      this.#rejected.inc({ reason }, count);
    }
    this.#evicted.inc(cycle.evicted);
  }

  /**
   * Replaces the per-(signal, window) gauges with one snapshot's rows: signals gone from the data disappear,
   * and undefined values (null mean, stdev or volatility) have no series rather than a made-up number. Only the
   * pooled rows and those of the first `maxSignals` signals by name are exported; the rest are counted.
   */
  recordSnapshot(rows: readonly SnapshotRow[]): void {
    for (const gauge of [this.#mean, this.#stdev, this.#volatility, this.#n, this.#riskLevel, this.#risk]) {
      gauge.reset();
    }
    const exported = firstSignals(rows, this.#maxSignals);
    let latest = 0;
    for (const row of rows) {
      latest = Math.max(latest, Date.parse(row.computed_at));
      if (row.signal !== POOLED_SIGNAL && !exported.has(row.signal)) continue;
      const labels = { signal: row.signal, window: formatWindow(row.window_sec) };
      if (row.mean !== null) this.#mean.set(labels, row.mean);
      if (row.stdev !== null) this.#stdev.set(labels, row.stdev);
      if (row.volatility_index !== null) this.#volatility.set(labels, row.volatility_index);
      this.#n.set(labels, row.n);
      this.#riskLevel.set(labels, RISK_LEVEL_VALUES[row.risk]);
      for (const risk of Object.keys(RISK_LEVEL_VALUES)) {
        this.#risk.set({ ...labels, risk }, risk === row.risk ? 1 : 0);
      }
    }
    this.#omitted.set(exported.omitted);
    if (rows.length > 0) this.#snapshotAt.set(latest / 1000);
  }

  /**
   * The whole registry in the text exposition format, as `registry.metrics()` gives it, but formatted one
   * metric at a time with a pause (the next macrotask) between them: a scrape of many series never blocks
   * other requests for its whole duration (issue 12).
   */
  async exposition(): Promise<string> {
    const parts: string[] = [];
    for (const { name } of this.registry.getMetricsAsArray()) {
      parts.push(await this.registry.getSingleMetricAsString(name));
      await nextMacrotask();
    }
    return `${parts.join("\n\n")}\n`;
  }
}

/** The first `max` signal names of the rows (pooled excluded), by code-unit order, and how many others there are. */
function firstSignals(rows: readonly SnapshotRow[], max: number): Set<string> & { omitted: number } {
  const names = new Set<string>();
  for (const row of rows) if (row.signal !== POOLED_SIGNAL) names.add(row.signal);
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.assign(new Set(sorted.slice(0, max)), { omitted: Math.max(0, sorted.length - max) });
}
