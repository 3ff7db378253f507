/**
 * The ingest loop: pulls from a `Source` into the `PointStore`, one cycle at a time, and records each cycle's
 * provenance. The first cycle backfills the largest configured window; later cycles pull
 * (newest held − overlap, now]. A failed cycle keeps everything held and the next cycle retries.
 */
import { getLogger, withContext } from "@logtape/logtape";
import type { PointStore } from "../core/point_store.ts";
import { toRfc3339 } from "../core/report.ts";
import type { IngestCycle } from "../schemas.ts";
import { failedPullStats, type PullStats, type Source } from "./source.ts";
import type { Tracer } from "@opentelemetry/api";
import { traceIngestCycle } from "../telemetry.ts";
import { signalGate } from "./signal_limit.ts";
import { commitStaged, stageApply } from "./staged_apply.ts";
import { nextMacrotask } from "../core/sleep.ts";

const log = getLogger(["coherence", "ingest"]);

export interface PollerOptions {
  source: Source;
  store: PointStore;
  /** Largest configured window, seconds: the backfill span and the retention of held points. */
  maxWindowSec: number;
  /** How far each incremental pull reaches back before the newest held point, seconds. */
  overlapSec: number;
  intervalSec: number;
  /** Most signals held (`MAX_SIGNALS`); records of further new signals are rejected as `signal_limit`. */
  maxSignals?: number;
  /** Cycles kept for /status. */
  keepCycles?: number;
  now?: () => number;
  newRequestId?: () => string;
  /** Called after every cycle (ok or not), e.g. to write snapshots. Errors are logged, never fatal. */
  onCycle?: (cycle: IngestCycle) => void | Promise<void>;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: never) => void;
  /** Each cycle runs in an `ingest.cycle` span of this tracer (default: the global one, a no-op without OTEL_DENO). */
  tracer?: Tracer;
  /**
   * Called between the slices in which a cycle's points are prepared (default: wait for the next macrotask, so
   * HTTP requests are answered during a large cycle). See `staged_apply.ts`.
   */
  pause?: () => Promise<void>;
  /** Wall time between those pauses, ms (default 8; 0 pauses at every slice boundary). */
  sliceMs?: number;
}

export interface Poller {
  /** Runs one cycle now (waits for a running one first: cycles never overlap). */
  runCycle(): Promise<IngestCycle>;
  /** Runs a cycle now and then every interval until stopped. */
  start(): void;
  /** Stops the schedule, aborts a pull in flight and waits for it to finish. */
  stop(): Promise<void>;
  /** The last cycles, newest last. */
  cycles(): IngestCycle[];
  /** Start of the span the held data covers (points before it were never pulled or were evicted); null before the first successful cycle or for unbounded sources. */
  coverageStartMs(): number | null;
  lastSuccessAtMs(): number | null;
}

/** The cycle fields that come from the pull's own stats, for ok and failed cycles alike. */
function upstreamFigures(stats: PullStats) {
  return {
    pages: stats.pages,
    retries: stats.retries,
    retryAfterWaitsMs: stats.retryAfterWaitsMs,
    upstreamLatencyMs: stats.upstreamLatencyMs,
    received: stats.received,
    rejected: Object.values(stats.rejected).reduce((sum: number, n) => sum + (n ?? 0), 0),
    rejectedByReason: stats.rejected,
    outOfWindow: stats.outOfWindow,
    loopGuardStops: stats.loopGuardStops,
  };
}

export function createPoller(options: PollerOptions): Poller {
  const {
    source,
    store,
    maxWindowSec,
    overlapSec,
    intervalSec,
    maxSignals = Infinity,
    keepCycles = 10,
    now = Date.now,
    newRequestId = () => `ingest-${crypto.randomUUID()}`,
    onCycle,
    setTimeout: schedule = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: unschedule = (id) => globalThis.clearTimeout(id),
    pause = nextMacrotask,
    sliceMs,
  } = options;
  const history: IngestCycle[] = [];
  /** Held points reach back this far after eviction; also the margin kept for late corrections. */
  const retentionMs = (maxWindowSec + overlapSec) * 1000;
  let backfilled = false;
  let coverageStart: number | null = null;
  let lastSuccess: number | null = null;
  let running: Promise<IngestCycle> | null = null;
  let timer: unknown = null;
  let stopped = true;
  let abort = new AbortController();

  async function cycle(): Promise<IngestCycle> {
    const requestId = newRequestId();
    return await withContext({ requestId }, async () => {
      const started = now();
      const newest = store.newestMs();
      const bounded = !source.unbounded;
      const fromMs = !backfilled || newest === null
        ? started - maxWindowSec * 1000
        : newest - overlapSec * 1000;
      const range = bounded ? { from: toRfc3339(fromMs), to: toRfc3339(started) } : null;
      const record: IngestCycle = {
        requestId,
        startedAt: toRfc3339(started),
        finishedAt: toRfc3339(started),
        ok: false,
        range,
        durationMs: 0,
        upstreamLatencyMs: 0,
        pages: 0,
        retries: 0,
        retryAfterWaitsMs: [],
        received: 0,
        accepted: 0,
        inserted: 0,
        updated: 0,
        duplicates: 0,
        rejected: 0,
        rejectedByReason: {},
        outOfWindow: 0,
        loopGuardStops: 0,
        evicted: 0,
        error: null,
      };
      try {
        const signal = abort.signal;
        const pulled = await source.pull(fromMs, started, { requestId, signal });
        const { stats } = pulled;
        // Prepared off to the side in slices (HTTP requests are answered in between), then applied in one
        // short synchronous step: readers never see part of a cycle.
        const gate = signalGate({ isHeld: (s) => store.has(s), heldCount: store.signalCount, maxSignals });
        const staged = await stageApply(store, pulled.points, pulled.columns ?? [], {
          admits: gate.admits,
          pause,
          sliceMs,
        });
        signal.throwIfAborted();
        if (staged.rejected > 0) {
          stats.rejected.signal_limit = (stats.rejected.signal_limit ?? 0) + staged.rejected;
          log.warn("MAX_SIGNALS={maxSignals} reached: {records} records of {signals} new signals rejected", {
            maxSignals,
            records: staged.rejected,
            signals: gate.refusedSignals,
          });
        }
        const applied = commitStaged(store, staged);
        Object.assign(record, { ok: true, ...upstreamFigures(stats), accepted: staged.accepted, ...applied });
        if (bounded) {
          const cutoff = started - retentionMs;
          record.evicted = store.evictBefore(cutoff);
          coverageStart = coverageStart === null ? fromMs : Math.max(coverageStart, cutoff);
        }
        backfilled = true;
        lastSuccess = started;
      } catch (error) {
        record.error = error instanceof Error ? error.message : String(error);
        // What the pull did before it gave up counts as much as a successful pull's figures.
        const stats = failedPullStats(error);
        if (stats) Object.assign(record, upstreamFigures(stats));
      }
      const finished = now();
      record.finishedAt = toRfc3339(finished);
      record.durationMs = finished - started;
      history.push(record);
      if (history.length > keepCycles) history.splice(0, history.length - keepCycles);
      // One JSON line with the whole provenance of the cycle.
      if (record.ok) log.info("ingest cycle ok", { ...record });
      else log.error("ingest cycle failed", { ...record });
      if (onCycle) {
        try {
          await onCycle(record);
        } catch (error) {
          log.error("after-cycle hook failed", { error: (error as Error).message });
        }
      }
      return record;
    });
  }

  async function runCycle(): Promise<IngestCycle> {
    while (running) await running.catch(() => {});
    running = traceIngestCycle(cycle, options.tracer);
    try {
      return await running;
    } finally {
      running = null;
    }
  }

  function loop(): void {
    timer = null;
    if (stopped) return;
    runCycle().finally(() => {
      if (!stopped) timer = schedule(loop, intervalSec * 1000);
    });
  }

  return {
    runCycle,
    start() {
      if (!stopped) return;
      stopped = false;
      abort = new AbortController();
      loop();
    },
    async stop() {
      stopped = true;
      if (timer !== null) unschedule(timer as never);
      timer = null;
      abort.abort(new DOMException("ingest stopped", "AbortError"));
      if (running) await running.catch(() => {});
    },
    cycles: () => [...history],
    coverageStartMs: () => (source.unbounded ? null : coverageStart),
    lastSuccessAtMs: () => lastSuccess,
  };
}
