/**
 * The alert evaluation service: after every successful ingest cycle, one {@linkcode step} per snapshot row
 * (key = signal × configured window, pooled `"*"` included), the cycle's transitions appended to the
 * transitions log (in log order; in one call unless there are more than `appendBatch`, then in batches with a
 * pause between them), then `onTransitions` (the dispatcher's wake). States live in memory and come
 * back from the log's `latest()` on start-up ({@linkcode restoreState}).
 *
 * The log is the truth: a state moves to a new level only once its transition is written. When the append
 * fails, the keys with a transition keep their confirmed level and stay pending on the new one (since the
 * same first evaluation), so the next cycle confirms it again and writes it; the failure is counted and shown
 * in {@linkcode AlertingStatus}. An evaluation never rejects: ingest must go on whatever the log does.
 */
import { getLogger } from "@logtape/logtape";
import {
  type AlertKey,
  alertKeyId,
  type AlertSettings,
  type AlertState,
  initialState,
  isActive,
  restoreState,
  step,
  type Transition,
} from "../core/alerts.ts";
import { toRfc3339 } from "../core/report.ts";
import { nextMacrotask, pacer } from "../core/sleep.ts";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";
import { errorMessage, type SnapshotRow } from "../persistence/snapshot.ts";
import type { TransitionLog } from "../persistence/transitions.ts";

const log = getLogger(["coherence", "alerts"]);

/** Rows evaluated between two pacer checks (a pause follows once `sliceMs` have passed). */
export const ALERT_SLICE_ROWS = 100;

/** Transitions appended per call to the log (a pause may follow each). */
export const ALERT_APPEND_BATCH = 200;

/** Default bound on the keys held (signals × windows); rows of further keys are not evaluated, and counted. */
export const ALERT_MAX_KEYS = 1_000_000;

export interface AlertingOptions {
  log: TransitionLog;
  settings: AlertSettings;
  /** The configured windows, seconds: rows of other windows are ignored, restored keys of other windows too. */
  windows: readonly number[];
  maxKeys?: number;
  /** Called with each cycle's transitions once they are written (the dispatcher's wake). Errors are logged. */
  onTransitions?: (transitions: readonly Transition[]) => void;
  /**
   * Transitions older than this (before the evaluation's time) are pruned from the log, each key's newest
   * excepted (a restart restores from it); undefined: never.
   */
  retentionMs?: number;
  /** How often the log is pruned, ms of evaluation time (default hourly). */
  pruneEveryMs?: number;
  sliceRows?: number;
  /** Transitions per append call (default {@linkcode ALERT_APPEND_BATCH}). */
  appendBatch?: number;
  /** Wall time between pauses, ms (default 8). */
  sliceMs?: number;
  pause?: () => Promise<void>;
}

export interface AlertEvaluationStatus {
  /** When the evaluation ran (the snapshot's computed_at), RFC 3339. */
  at: string;
  ok: boolean;
  /** Keys evaluated. */
  keys: number;
  /** Transitions confirmed (written when ok). */
  transitions: number;
  error: string | null;
}

export interface AlertingStatus {
  /** Keys held (each configured window × each signal seen, plus `"*"`). */
  keys: number;
  /** Keys whose confirmed level is medium or high. */
  active: number;
  /** Keys waiting out ALERT_FOR on a new level. */
  pending: number;
  /** Confirmed levels, key counts. */
  levels: Record<RiskLevel, number>;
  /** Transitions written to the log by this process. */
  transitionsWritten: number;
  /** Of those, by the level moved to. */
  transitionsByLevel: Record<RiskLevel, number>;
  /** Appends to the log that failed (their transitions are confirmed again on the next cycle). */
  appendFailures: number;
  /** Keys restored from the log at start-up. */
  restored: number;
  /** Whether the states were restored from the log (evaluation waits for it). */
  ready: boolean;
  /** Rows not evaluated because `maxKeys` keys are held. */
  keysRefused: number;
  /** Transitions pruned from the log (older than the retention, never a key's newest). */
  transitionsPruned: number;
  lastEvaluation: AlertEvaluationStatus | null;
  settings: { forSec: number; recoveryMargin: number };
}

export interface Alerting {
  /**
   * States from the log's last transition of each key. Rejects when the log cannot be read. Logs "alert states
   * restored" at info, or at `level` (a follower refreshing on every applied points version passes "debug").
   */
  restore(options?: { level?: "info" | "debug" }): Promise<void>;
  /** One evaluation per row, transitions appended, then `onTransitions`. Never rejects; serialized. */
  evaluate(rows: readonly SnapshotRow[]): Promise<void>;
  /** Every key's state, pending included. */
  states(): AlertState[];
  /** The states whose confirmed level fires (medium, high). */
  active(): AlertState[];
  status(): AlertingStatus;
}

function levelCounts(): Record<RiskLevel, number> {
  return Object.fromEntries(RISK_LEVELS.map((l) => [l, 0])) as Record<RiskLevel, number>;
}

export function createAlerting(options: AlertingOptions): Alerting {
  const {
    log: transitions,
    settings,
    maxKeys = ALERT_MAX_KEYS,
    onTransitions,
    retentionMs,
    pruneEveryMs = 3_600_000,
    sliceRows = ALERT_SLICE_ROWS,
    appendBatch = ALERT_APPEND_BATCH,
    sliceMs,
    pause = nextMacrotask,
  } = options;
  const windows = new Set(options.windows);
  const states = new Map<string, AlertState>();
  let ready = false;
  let restored = 0;
  let transitionsWritten = 0;
  const transitionsByLevel = levelCounts();
  let appendFailures = 0;
  let keysRefused = 0;
  let transitionsPruned = 0;
  let lastPruneMs = -Infinity;
  let lastEvaluation: AlertEvaluationStatus | null = null;
  let queue: Promise<void> = Promise.resolve();

  async function restore({ level = "info" }: { level?: "info" | "debug" } = {}): Promise<void> {
    const latest = await transitions.latest();
    states.clear();
    restored = 0;
    for (const t of latest) {
      if (!windows.has(t.windowSec)) continue;
      states.set(alertKeyId(t), restoreState(t));
      restored++;
    }
    ready = true;
    log[level]("alert states restored", { keys: restored, active: countActive() });
  }

  function countActive(): number {
    let n = 0;
    for (const s of states.values()) if (isActive(s.level)) n++;
    return n;
  }

  async function run(rows: readonly SnapshotRow[]): Promise<void> {
    if (rows.length === 0) return;
    const atMs = Date.parse(rows[0].computed_at);
    if (!ready) {
      // Without the log's states a restarted process would fire every active alert again: wait for them.
      try {
        await restore();
      } catch (error) {
        lastEvaluation = {
          at: toRfc3339(atMs),
          ok: false,
          keys: 0,
          transitions: 0,
          error: `cannot restore the alert states: ${errorMessage(error)}`,
        };
        log.error("alert states not restored; evaluation skipped", { error: lastEvaluation.error });
        return;
      }
    }
    const boundary = pacer({ sliceMs, pause });
    const next = new Map<string, AlertState>();
    const before = new Map<string, AlertState>();
    const confirmed: Transition[] = [];
    let evaluated = 0;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % sliceRows === 0) await boundary();
      const row = rows[i];
      if (!windows.has(row.window_sec)) continue;
      const key: AlertKey = { signal: row.signal, windowSec: row.window_sec };
      const id = alertKeyId(key);
      const state = states.get(id) ?? next.get(id);
      if (state === undefined && states.size + next.size >= maxKeys) {
        keysRefused++;
        continue;
      }
      const from = state ?? initialState(key);
      const result = step(from, {
        ...key,
        atMs: Date.parse(row.computed_at),
        summary: { n: row.n, mean: row.mean, stdev: row.stdev, volatilityIndex: row.volatility_index },
      }, settings);
      evaluated++;
      next.set(id, result.state);
      if (result.transition) {
        before.set(id, from);
        confirmed.push(result.transition);
      }
    }
    // Log order, (at, id), with each `at` parsed once (compareTransitions parses both per comparison: 20,000
    // transitions would hold the event loop for ~100 ms).
    const ordered = confirmed.map((t) => ({ t, atMs: Date.parse(t.at) }))
      .sort((a, b) => a.atMs - b.atMs || (a.t.id < b.t.id ? -1 : a.t.id > b.t.id ? 1 : 0));
    for (let i = 0; i < ordered.length; i++) confirmed[i] = ordered[i].t;
    // Appended in batches, in log order, with a pause between them: a cycle where every key changes level
    // (the first after start-up) never holds the event loop for the whole append. A failed batch stops the
    // append: the transitions before it are written (their keys move), the rest are held back.
    let written = 0;
    let error: string | null = null;
    for (let from = 0; from < confirmed.length; from += appendBatch) {
      if (from > 0) await boundary();
      const batch = confirmed.slice(from, from + appendBatch);
      try {
        await transitions.append(batch);
      } catch (e) {
        error = errorMessage(e);
        break;
      }
      written += batch.length;
      for (const t of batch) {
        transitionsByLevel[t.to]++;
        log.info("alert transition", {
          signal: t.signal,
          windowSec: t.windowSec,
          from: t.from,
          to: t.to,
          at: t.at,
          mean: t.mean,
          volatilityIndex: t.volatilityIndex,
        });
      }
    }
    transitionsWritten += written;
    const unwritten = new Map(confirmed.slice(written).map((t) => [alertKeyId(t), t]));
    if (error !== null) {
      appendFailures++;
      log.error("alert transitions not written; they are confirmed again next cycle", {
        error,
        transitions: unwritten.size,
        written,
      });
    }
    for (const [id, state] of next) {
      const t = unwritten.get(id);
      if (t === undefined) {
        states.set(id, state);
        continue;
      }
      // The confirmed level stays; the new level is pending since its first evaluation.
      const old = before.get(id)!;
      states.set(id, {
        ...old,
        pending: { level: t.to, sinceMs: Date.parse(t.pendingSince) },
        evaluated: state.evaluated,
        why: `pending ${t.to} since ${t.pendingSince}: the transition could not be written to the log ` +
          `(retried next cycle): ${t.rule}`,
      });
    }
    lastEvaluation = {
      at: toRfc3339(atMs),
      ok: error === null,
      keys: evaluated,
      transitions: confirmed.length,
      error,
    };
    if (written > 0) {
      try {
        onTransitions?.(confirmed.slice(0, written));
      } catch (e) {
        log.error("alert transitions hook failed", { error: errorMessage(e) });
      }
    }
    if (retentionMs !== undefined && atMs - lastPruneMs >= pruneEveryMs) {
      await prune(atMs - retentionMs, atMs);
    }
  }

  async function prune(beforeMs: number, atMs: number): Promise<void> {
    lastPruneMs = atMs;
    try {
      const removed = await transitions.prune(beforeMs);
      transitionsPruned += removed;
      if (removed > 0) log.info("alert transitions pruned", { removed, before: toRfc3339(beforeMs) });
    } catch (error) {
      log.error("alert transitions prune failed", { error: errorMessage(error) });
    }
  }

  return {
    restore,
    evaluate(rows) {
      const done = queue.then(() => run(rows)).catch((error) => {
        log.error("alert evaluation failed", { error: errorMessage(error) });
      });
      queue = done;
      return done;
    },
    states: () => [...states.values()],
    active: () => [...states.values()].filter((s) => isActive(s.level)),
    status() {
      const levels = levelCounts();
      let pending = 0;
      for (const s of states.values()) {
        levels[s.level]++;
        if (s.pending !== null) pending++;
      }
      return {
        keys: states.size,
        active: levels.medium + levels.high,
        pending,
        levels,
        transitionsWritten,
        transitionsByLevel: { ...transitionsByLevel },
        appendFailures,
        restored,
        ready,
        keysRefused,
        transitionsPruned,
        lastEvaluation,
        settings: { forSec: settings.forMs / 1000, recoveryMargin: settings.recoveryMargin },
      };
    },
  };
}
