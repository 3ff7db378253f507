/**
 * The alert outbox's dispatcher: one loop per delivery target, reading what the target owes from the
 * transitions log (every transition after its cursor, a page at a time), sending it in log order and moving
 * the cursor only once the receiver acknowledged (2xx). At least once, in order; a restart resumes from the
 * durable cursor, so a transition logged just before a `kill -9` is delivered by the next process.
 *
 * - Failures are retried with exponential backoff and full jitter (`core/backoff.ts`), or after the
 *   receiver's `Retry-After` (capped). Every non-2xx answer and every network error or timeout is retried,
 *   as Standard Webhooks receivers expect; the batch that failed is sent again, nothing after it first.
 * - A transition older than `maxAgeMs` when its turn comes is given up: the cursor moves past it and it counts
 *   as `expired`.
 * - The outbox is bounded: when a target owes more than `maxOutbox` transitions, the oldest are skipped (the
 *   cursor moves past them), counted as `dropped` and a warning says how many.
 * - Nothing owed is held in memory beyond one page; everything is async (no busy loop) and `wake()` — called
 *   after each append — returns at once, so a slow receiver never holds up ingest or requests.
 * - `stop()` aborts requests in flight and waits, and resolves once every loop has ended.
 *
 * URLs appear only as `scheme://host[:port]` and errors only through `target.ts`'s `safeMessage`.
 */
import { getLogger } from "@logtape/logtape";
import { backoffMs } from "../core/backoff.ts";
import type { Transition } from "../core/alerts.ts";
import { sleep as defaultSleep } from "../core/sleep.ts";
import { cursorOf, type DeliveryCursor, type TransitionLog } from "../persistence/transitions.ts";
import { type DeliveryTarget, safeMessage, type SendResult, urlOrigin } from "./target.ts";

const logger = getLogger(["coherence", "alerts"]);

/** Default `maxAgeMs` (`ALERT_WEBHOOK_MAX_AGE`): 24 h. */
export const DEFAULT_MAX_AGE_MS = 24 * 3600_000;
/** Default `maxOutbox` (`ALERT_OUTBOX_MAX`). */
export const DEFAULT_MAX_OUTBOX = 10_000;

/** What happened to transitions (and attempts): the `outcome` label of the delivery counters. */
export const DELIVERY_OUTCOMES = ["delivered", "failed", "expired", "dropped"] as const;
export type DeliveryOutcome = typeof DELIVERY_OUTCOMES[number];

export interface DispatcherOptions {
  log: TransitionLog;
  targets: readonly DeliveryTarget[];
  now?: () => number;
  /** Waits `ms` or rejects when `signal` aborts (`core/sleep.ts`). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Backoff base, ms. Default 1000. */
  baseMs?: number;
  /** Backoff cap, ms. Default 300 000 (5 min). */
  capMs?: number;
  /** Longest `Retry-After` honoured, ms. Default 600 000 (10 min). */
  retryAfterCapMs?: number;
  /** Transitions older than this when their turn comes are given up (`expired`). Default 24 h. */
  maxAgeMs?: number;
  /** Most transitions a target may owe; past it the oldest are skipped (`dropped`). Default 10 000. */
  maxOutbox?: number;
  /** Transitions read from the log at once. Default 100. */
  pageSize?: number;
  /** While idle, look at the log this often even without `wake()`, ms; 0 disables. Default 30 000. */
  pollMs?: number;
}

/** One target's delivery health: `/status` shows it, `/metrics` exports the counters by outcome. */
export interface DeliveryStatus {
  target: string;
  /** The configured URL as `scheme://host[:port]` only. */
  url: string;
  /** Transitions acknowledged by the receiver. */
  delivered: number;
  /** Attempts that failed (each retry counts). */
  failed: number;
  /** Transitions given up because they were older than the max age. */
  expired: number;
  /** Transitions skipped because the outbox was over its bound. */
  dropped: number;
  /** Transitions owed (after the cursor), as last counted. */
  outboxDepth: number;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /**
   * The last failure (a re-send's too), safe to show (no credentials, path, query or secret); null once a
   * transition is delivered.
   */
  lastError: string | null;
  /** When the next retry is due while one is waiting. */
  nextAttemptAt: string | null;
  consecutiveFailures: number;
}

export interface Dispatcher {
  /** Starts one loop per target (and each target's re-send); a second call does nothing. */
  start(): void;
  /** Tells the loops that transitions were appended; returns at once. */
  wake(): void;
  /** Aborts requests in flight and resolves once every loop has ended. */
  stop(): Promise<void>;
  status(): DeliveryStatus[];
}

interface Run {
  target: DeliveryTarget;
  origin: string;
  cursor: DeliveryCursor | null | undefined;
  woken: boolean;
  idle: AbortController | null;
  counting: boolean;
  status: DeliveryStatus;
}

const iso = (ms: number | null): string | null => ms === null ? null : new Date(ms).toISOString();

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const {
    log,
    targets,
    now = Date.now,
    sleep = defaultSleep,
    random = Math.random,
    baseMs = 1000,
    capMs = 300_000,
    retryAfterCapMs = 600_000,
    maxAgeMs = DEFAULT_MAX_AGE_MS,
    maxOutbox = DEFAULT_MAX_OUTBOX,
    pageSize = 100,
    pollMs = 30_000,
  } = options;
  const stopping = new AbortController();
  const loops: Promise<void>[] = [];
  let started = false;

  const runs: Run[] = targets.map((target) => ({
    target,
    origin: urlOrigin(target.url),
    cursor: undefined,
    woken: false,
    idle: null,
    counting: false,
    status: {
      target: target.name,
      url: urlOrigin(target.url),
      delivered: 0,
      failed: 0,
      expired: 0,
      dropped: 0,
      outboxDepth: 0,
      lastSuccessAt: null,
      lastFailureAt: null,
      lastError: null,
      nextAttemptAt: null,
      consecutiveFailures: 0,
    },
  }));

  /** Waits `ms` (0 still yields to timers and I/O); false when stopped meanwhile. */
  async function pause(ms: number, signal: AbortSignal = stopping.signal): Promise<boolean> {
    try {
      await sleep(Math.max(0, ms), signal);
    } catch {
      // Aborted: by stop(), or by wake() for an idle wait.
    }
    return !stopping.signal.aborted;
  }

  async function cursorOfRun(run: Run): Promise<DeliveryCursor | null> {
    if (run.cursor === undefined) run.cursor = await log.cursor(run.target.name);
    return run.cursor;
  }

  async function advance(run: Run, last: Transition): Promise<void> {
    const cursor = cursorOf(last);
    await log.setCursor(run.target.name, cursor);
    run.cursor = cursor;
  }

  /** Counts what the target owes; past the bound skips the oldest. True when it skipped any. */
  async function enforceBound(run: Run): Promise<boolean> {
    const depth = await log.countAfter(await cursorOfRun(run));
    run.status.outboxDepth = depth;
    if (depth <= maxOutbox) return false;
    let excess = depth - maxOutbox;
    let skipped = 0;
    while (excess > 0) {
      const page = await log.after(await cursorOfRun(run), Math.min(pageSize, excess));
      if (page.length === 0) break;
      await advance(run, page[page.length - 1]);
      skipped += page.length;
      excess -= page.length;
    }
    run.status.dropped += skipped;
    run.status.outboxDepth = Math.max(0, depth - skipped);
    logger.warn(
      "Alert outbox of {target} owed {depth} transitions, over its bound of {maxOutbox}: skipped the {dropped} oldest",
      { target: run.target.name, depth, maxOutbox, dropped: skipped },
    );
    return skipped > 0;
  }

  /** Gives up the transitions of `batch` older than the max age (a prefix: the log is in time order). */
  async function expire(run: Run, batch: readonly Transition[]): Promise<readonly Transition[]> {
    const cutoff = now() - maxAgeMs;
    let count = 0;
    while (count < batch.length && Date.parse(batch[count].at) < cutoff) count++;
    if (count === 0) return batch;
    await advance(run, batch[count - 1]);
    run.status.expired += count;
    run.status.outboxDepth = Math.max(0, run.status.outboxDepth - count);
    logger.warn("Gave up {count} alert transitions older than {maxAgeMs} ms for {target}", {
      target: run.target.name,
      count,
      maxAgeMs,
    });
    return batch.slice(count);
  }

  function recordFailure(run: Run, result: SendResult & { ok: false }): void {
    run.status.lastFailureAt = iso(now());
    run.status.lastError = result.error;
  }

  /** Sends one batch until acknowledged, expired, skipped by the bound or stopped. False: re-read the log. */
  async function deliverBatch(run: Run, batch: readonly Transition[]): Promise<boolean> {
    let rest = batch;
    for (let attempt = 0;; attempt++) {
      if (stopping.signal.aborted) return false;
      rest = await expire(run, rest);
      if (rest.length === 0) return true;
      if (attempt > 0 && await enforceBound(run)) return false;
      const result = await run.target.send(rest, stopping.signal);
      if (result.ok) {
        await advance(run, rest[rest.length - 1]);
        const s = run.status;
        s.delivered += rest.length;
        s.outboxDepth = Math.max(0, s.outboxDepth - rest.length);
        s.consecutiveFailures = 0;
        s.lastSuccessAt = iso(now());
        s.lastError = null;
        s.nextAttemptAt = null;
        return true;
      }
      if (stopping.signal.aborted) return false;
      const s = run.status;
      s.failed++;
      s.consecutiveFailures++;
      recordFailure(run, result);
      const waitMs = result.retryAfterMs !== undefined && result.retryAfterMs !== null
        ? Math.min(result.retryAfterMs, retryAfterCapMs)
        : backoffMs(attempt, { baseMs, capMs, random });
      s.nextAttemptAt = iso(now() + waitMs);
      logger.warn("Alert delivery to {target} failed ({error}); retrying in {waitMs} ms", {
        target: run.target.name,
        url: run.origin,
        error: result.error,
        attempt: attempt + 1,
        waitMs: Math.round(waitMs),
      });
      if (!await pause(waitMs)) return false;
      s.nextAttemptAt = null;
    }
  }

  /** Delivers one page; false when the target owes nothing. */
  async function deliverPage(run: Run): Promise<boolean> {
    run.woken = false;
    await enforceBound(run);
    const page = await log.after(await cursorOfRun(run), pageSize);
    if (page.length === 0) return false;
    const size = Math.max(1, run.target.batchSize);
    for (let i = 0; i < page.length; i += size) {
      if (!await deliverBatch(run, page.slice(i, i + size))) break;
    }
    return true;
  }

  async function idle(run: Run): Promise<void> {
    if (run.woken) return;
    const controller = new AbortController();
    run.idle = controller;
    const signal = AbortSignal.any([stopping.signal, controller.signal]);
    try {
      if (pollMs > 0) await pause(pollMs, signal);
      else {
        await new Promise<void>((resolve) => {
          if (signal.aborted) return resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
      }
    } finally {
      run.idle = null;
    }
  }

  async function loop(run: Run): Promise<void> {
    let storeAttempt = 0;
    while (!stopping.signal.aborted) {
      try {
        const more = await deliverPage(run);
        storeAttempt = 0;
        if (!more) await idle(run);
      } catch (error) {
        // The log failed (a store error): try again later; the cursor only ever moves after a success.
        if (stopping.signal.aborted) break;
        run.cursor = undefined;
        const message = safeMessage(error instanceof Error ? error.message : String(error));
        run.status.lastError = `transitions log: ${message}`;
        run.status.lastFailureAt = iso(now());
        logger.error("Alert delivery for {target} cannot read the transitions log: {error}", {
          target: run.target.name,
          error: message,
        });
        await pause(backoffMs(storeAttempt++, { baseMs, capMs, random }));
      }
    }
  }

  async function resendLoop(run: Run): Promise<void> {
    const resend = run.target.resend!;
    while (await pause(resend.intervalMs)) {
      const result = await resend.run(stopping.signal);
      if (stopping.signal.aborted) break;
      if (result.ok) run.status.lastSuccessAt = iso(now());
      else {
        recordFailure(run, result);
        logger.warn("Re-sending active alerts to {target} failed ({error})", {
          target: run.target.name,
          url: run.origin,
          error: result.error,
        });
      }
    }
  }

  /** Refreshes a waiting target's outbox depth after an append (its loop may be in a backoff). */
  async function recount(run: Run): Promise<void> {
    if (run.counting) return;
    run.counting = true;
    try {
      run.status.outboxDepth = await log.countAfter(await cursorOfRun(run));
    } catch {
      // The loop reports store failures.
    } finally {
      run.counting = false;
    }
  }

  return {
    start() {
      if (started || stopping.signal.aborted) return;
      started = true;
      for (const run of runs) {
        loops.push(loop(run));
        if (run.target.resend !== undefined) loops.push(resendLoop(run));
      }
    },
    wake() {
      for (const run of runs) {
        run.woken = true;
        run.idle?.abort();
        if (started && !stopping.signal.aborted) void recount(run);
      }
    },
    async stop() {
      stopping.abort(new DOMException("The dispatcher stopped", "AbortError"));
      await Promise.all(loops);
    },
    status() {
      return runs.map((run) => ({ ...run.status }));
    },
  };
}
