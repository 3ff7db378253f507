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
 *   rows the snapshotter computes after each cycle. The pooled `"*"` rows have metrics of their own
 *   (`coherence_pooled_window_*`, labelled by window only), so `sum by (window) (coherence_window_points)`
 *   adds up real signals and never counts the pool twice.
 * - Store: build info, points held, known signals, snapshot rows written and write failures.
 * - Process: prom-client's default collectors (the standard `process_*` and `nodejs_*` set), keeping those
 *   that give real numbers under Deno ({@linkcode createProcessRegistry}); one set per process.
 *
 * Names follow the Prometheus naming guide: base units (`_seconds`, `_bytes`), `_total` on counters, `_ratio`
 * for the volatility index (stdev / mean) and `_score` for figures on the 0–100 coherence-score scale (mean,
 * stdev), which is a scale of its own rather than a percentage, so it is not rescaled to 0–1. Counters with a
 * fixed label set (cycle and record outcomes, every rejection reason) are exported at 0 from the start, so
 * `rate()` and `increase()` work from the first scrape.
 *
 * Every series has bounded labels: route patterns, fixed outcome and reason sets, and (signal, window) pairs
 * of the data itself — for at most `maxSignals` signals (`METRICS_MAX_SIGNALS`, default 1,000): the first by
 * name in code-unit order, a stable choice; `coherence_metrics_signals_omitted` counts the others. The pooled
 * figures are always exported (no signal can take the name `"*"`: normalisation rejects it).
 */
import { readFileSync } from "node:fs";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { nextMacrotask } from "../core/sleep.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { formatWindow } from "../core/window.ts";
import type { IngestCycle } from "../schemas.ts";
import type { SnapshotRow } from "../persistence/snapshot.ts";
import { RequestStats } from "./request_stats.ts";
import type { AlertState } from "../core/alerts.ts";
import { DELIVERY_OUTCOMES } from "../alerts/dispatcher.ts";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";

/** Risk as a number for alert rules (`coherence_window_risk_level >= 2` is high); unknown is -1. */
export const RISK_LEVEL_VALUES = { unknown: -1, low: 0, medium: 1, high: 2 } as const;

const RECORD_OUTCOMES = ["inserted", "updated", "duplicate", "rejected"] as const;

/**
 * Every reason a record is rejected for (`RejectReason` of src/ingest/normalize.ts, which http may not import;
 * a test fails type checking when the two differ), each exported at 0 before the first rejection.
 */
export const REJECT_REASONS = [
  "not_an_object",
  "invalid_signal",
  "reserved_signal",
  "signal_limit",
  "missing_score",
  "invalid_score",
  "score_out_of_range",
  "missing_timestamp",
  "invalid_timestamp",
] as const;

/**
 * Default collectors that Deno cannot fill, dropped rather than exported as constant zeros: Deno emits no `gc`
 * performance entries (the histogram never gets a sample), and its `process._getActiveHandles()`,
 * `_getActiveRequests()` and `getActiveResourcesInfo()` do not list the server, sockets or files it holds.
 */
const EMPTY_UNDER_DENO = [
  "nodejs_gc_duration_seconds",
  "nodejs_active_handles",
  "nodejs_active_handles_total",
  "nodejs_active_requests",
  "nodejs_active_requests_total",
  "nodejs_active_resources",
  "nodejs_active_resources_total",
] as const;

/** Default collectors that read `/proc/self`, which Deno opens only with `--allow-all`. */
const FROM_PROCFS = [
  "process_resident_memory_bytes",
  "process_virtual_memory_bytes",
  "process_heap_bytes",
  "process_open_fds",
  "process_max_fds",
] as const;

export interface ProcessRegistryOptions {
  /** Whether `/proc/self` can be read (default: tried once; Deno allows it only with `--allow-all`). */
  procfs?: boolean;
  /** Resident set size in bytes when `/proc/self` cannot be read (default: `Deno.memoryUsage().rss`). */
  rss?: () => number;
}

/**
 * A registry with prom-client's default collectors (`collectDefaultMetrics`), keeping those that give real
 * numbers under Deno: CPU seconds, start time, event-loop lag, V8 heap and heap spaces, external memory, the
 * Node.js API version, and — when `/proc/self` is readable — resident and virtual memory, data segment, open
 * and maximum file descriptors. Without `/proc/self` (the service runs with `--allow-read`, not
 * `--allow-all`), those would read 0, so they are dropped and `process_resident_memory_bytes` comes from
 * `Deno.memoryUsage().rss`, as prom-client's own non-Linux collector does with `process.memoryUsage()`.
 *
 * Each call starts an event-loop delay monitor that is never stopped: the service makes one per process.
 */
export function createProcessRegistry(options: ProcessRegistryOptions = {}): Registry {
  const { procfs = procfsReadable(), rss = () => Deno.memoryUsage().rss } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of EMPTY_UNDER_DENO) registry.removeSingleMetric(name);
  if (!procfs) {
    for (const name of FROM_PROCFS) registry.removeSingleMetric(name);
    new Gauge({
      name: "process_resident_memory_bytes",
      help: "Resident memory size in bytes.",
      registers: [registry],
      collect() {
        try {
          this.set(rss());
        } catch {
          // Not available on every platform (Deno Deploy): the gauge keeps its last value.
        }
      },
    });
  }
  return registry;
}

function procfsReadable(): boolean {
  try {
    readFileSync("/proc/self/status");
    return true;
  } catch {
    return false;
  }
}

let processRegistry: Registry | undefined;

/** Upper bounds for ingest timings, seconds: an upstream page takes tens of ms to tens of seconds. */
const INGEST_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export interface ServiceMetricsOptions {
  /** Metric name prefix (default `coherence_`). */
  prefix?: string;
  /** Reported in `coherence_build_info`. */
  version?: string;
  /** The point store, read at scrape time. */
  points?: { readonly size: number; readonly signalCount: number };
  /** Snapshot persistence figures, read at scrape time. */
  persistence?: () => { rowsWritten: number; writeFailures: number };
  /** The process metrics (default: one {@linkcode createProcessRegistry} shared by the whole process). */
  processRegistry?: Registry;
  /** Most signals with per-signal series (`METRICS_MAX_SIGNALS`, default 1,000): the first by name. */
  maxSignals?: number;
  /** Alert states, transitions and delivery health, read at scrape time. */
  alerts?: AlertMetricsSource;
}

/** What the alert metrics read at scrape time (an {@linkcode AlertsView} of `alerts_routes.ts` is one). */
export interface AlertMetricsSource {
  states(): readonly AlertState[];
  status(): { transitionsByLevel: Record<RiskLevel, number> };
  delivery(): readonly {
    target: string;
    delivered: number;
    failed: number;
    expired: number;
    dropped: number;
    outboxDepth: number;
  }[];
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
  readonly #signals: WindowGauges<"signal" | "window">;
  readonly #pooled: WindowGauges<"window">;
  readonly #omitted: Gauge;
  readonly #maxSignals: number;
  readonly #process: Registry;

  constructor(options: ServiceMetricsOptions = {}) {
    const { prefix = "coherence_", version = "0.0.0", points, persistence } = options;
    this.#process = options.processRegistry ?? (processRegistry ??= createProcessRegistry());
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
    for (const reason of REJECT_REASONS) this.#rejected.inc({ reason }, 0);
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

    this.#snapshotAt = new Gauge({
      name: name("snapshot_timestamp_seconds"),
      help: "End of the windows of the latest snapshot (its computed_at), Unix seconds (0 before the first)",
      registers,
    });
    this.#signals = windowGauges(
      name("window_"),
      ["signal", "window"] as const,
      "per signal and window",
      registers,
    );
    this.#pooled = windowGauges(
      name("pooled_window_"),
      ["window"] as const,
      'of all signals pooled ("*"), per window',
      registers,
    );

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
    if (options.alerts) this.#alertMetrics(name, registers, options.alerts);
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

  /**
   * `coherence_alert_state{signal,window,state}` (1 for each key's confirmed level, plus `state="pending"`
   * while a new level waits out ALERT_FOR; the pooled keys and those of the first `maxSignals` signals by
   * name), `coherence_alert_transitions_total{to}`, `coherence_alert_deliveries_total{target,outcome}` and
   * `coherence_alert_outbox_depth{target}`: all read from the alerting side at scrape time.
   */
  #alertMetrics(name: (suffix: string) => string, registers: Registry[], alerts: AlertMetricsSource): void {
    const maxSignals = this.#maxSignals;
    new Gauge({
      name: name("alert_state"),
      help:
        "1 for each alert key's confirmed level (state low, medium, high or unknown), and state=pending while a new level waits out ALERT_FOR",
      labelNames: ["signal", "window", "state"] as const,
      registers,
      collect() {
        this.reset();
        const states = alerts.states();
        const exported = firstNames(states.map((s) => s.signal), maxSignals);
        for (const s of states) {
          if (s.signal !== POOLED_SIGNAL && !exported.has(s.signal)) continue;
          const labels = { signal: s.signal, window: formatWindow(s.windowSec) };
          this.set({ ...labels, state: s.level }, 1);
          if (s.pending !== null) this.set({ ...labels, state: "pending" }, 1);
        }
      },
    });
    new Counter({
      name: name("alert_transitions_total"),
      help: "Alert transitions written to the transitions log by this process, by the level moved to",
      labelNames: ["to"] as const,
      registers,
      collect() {
        this.reset();
        const byLevel = alerts.status().transitionsByLevel;
        for (const to of RISK_LEVELS) this.inc({ to }, byLevel[to]);
      },
    });
    new Counter({
      name: name("alert_deliveries_total"),
      help:
        "Alert deliveries by target (webhook, alertmanager) and outcome: delivered, failed (retried), expired (given up), dropped (outbox full)",
      labelNames: ["target", "outcome"] as const,
      registers,
      collect() {
        this.reset();
        for (const d of alerts.delivery()) {
          for (const outcome of DELIVERY_OUTCOMES) this.inc({ target: d.target, outcome }, d[outcome]);
        }
      },
    });
    new Gauge({
      name: name("alert_outbox_depth"),
      help: "Transitions a delivery target still owes (its outbox)",
      labelNames: ["target"] as const,
      registers,
      collect() {
        this.reset();
        for (const d of alerts.delivery()) this.set({ target: d.target }, d.outboxDepth);
      },
    });
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
    resetWindowGauges(this.#signals);
    resetWindowGauges(this.#pooled);
    const exported = firstSignals(rows, this.#maxSignals);
    let latest = 0;
    for (const row of rows) {
      latest = Math.max(latest, Date.parse(row.computed_at));
      const window = formatWindow(row.window_sec);
      if (row.signal === POOLED_SIGNAL) setWindowGauges(this.#pooled, { window }, row);
      else if (exported.has(row.signal)) setWindowGauges(this.#signals, { signal: row.signal, window }, row);
    }
    this.#omitted.set(exported.omitted);
    if (rows.length > 0) this.#snapshotAt.set(latest / 1000);
  }

  /**
   * The service's registry and the process metrics in the text exposition format, as `registry.metrics()`
   * gives it, but formatted one metric at a time with a pause (the next macrotask) between them: a scrape of
   * many series never blocks other requests for its whole duration (issue 12).
   */
  async exposition(): Promise<string> {
    const parts: string[] = [];
    for (const { name } of this.registry.getMetricsAsArray()) {
      parts.push(await this.registry.getSingleMetricAsString(name));
      await nextMacrotask();
    }
    return `${parts.join("\n\n")}\n\n${await this.#process.metrics()}`;
  }
}

/** The gauges of one snapshot row: per signal (labels signal, window) or pooled (label window). */
interface WindowGauges<L extends string> {
  mean: Gauge<L>;
  stdev: Gauge<L>;
  volatility: Gauge<L>;
  n: Gauge<L>;
  riskLevel: Gauge<L>;
  risk: Gauge<L | "risk">;
}

function windowGauges<L extends string>(
  prefix: string,
  labelNames: readonly L[],
  whose: string,
  registers: Registry[],
): WindowGauges<L> {
  const gauge = (suffix: string, help: string) =>
    new Gauge<L>({
      name: prefix + suffix,
      help: `Latest snapshot, ${whose}: ${help}`,
      labelNames,
      registers,
    });
  return {
    mean: gauge("mean_score", "mean coherence score (0-100 scale); absent when n = 0"),
    stdev: gauge("stdev_score", "sample standard deviation of the score (0-100 scale); absent when n < 2"),
    volatility: gauge(
      "volatility_index_ratio",
      "volatilityIndex = stdev / mean; absent when undefined (n < 2 or mean 0)",
    ),
    n: gauge("points", "points in the window"),
    riskLevel: gauge("risk_level", "drift risk as a number, -1 unknown, 0 low, 1 medium, 2 high"),
    risk: new Gauge<L | "risk">({
      name: `${prefix}risk`,
      help: `Latest snapshot, ${whose}: 1 for the window's current drift risk level, 0 for the others`,
      labelNames: [...labelNames, "risk"],
      registers,
    }),
  };
}

function resetWindowGauges(gauges: WindowGauges<string>): void {
  for (const gauge of Object.values(gauges)) gauge.reset();
}

function setWindowGauges<L extends string>(
  gauges: WindowGauges<L>,
  labels: Record<L, string>,
  row: SnapshotRow,
): void {
  if (row.mean !== null) gauges.mean.set(labels, row.mean);
  if (row.stdev !== null) gauges.stdev.set(labels, row.stdev);
  if (row.volatility_index !== null) gauges.volatility.set(labels, row.volatility_index);
  gauges.n.set(labels, row.n);
  gauges.riskLevel.set(labels, RISK_LEVEL_VALUES[row.risk]);
  for (const risk of Object.keys(RISK_LEVEL_VALUES)) {
    gauges.risk.set({ ...labels, risk } as Record<L | "risk", string>, risk === row.risk ? 1 : 0);
  }
}

/** The first `max` distinct names (pooled excluded), by code-unit order. */
function firstNames(names: readonly string[], max: number): Set<string> {
  const distinct = [...new Set(names)].filter((n) => n !== POOLED_SIGNAL);
  distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Set(distinct.slice(0, max));
}

/** The first `max` signal names of the rows (pooled excluded), by code-unit order, and how many others there are. */
function firstSignals(rows: readonly SnapshotRow[], max: number): Set<string> & { omitted: number } {
  const names = new Set<string>();
  for (const row of rows) if (row.signal !== POOLED_SIGNAL) names.add(row.signal);
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.assign(new Set(sorted.slice(0, max)), { omitted: Math.max(0, sorted.length - max) });
}
