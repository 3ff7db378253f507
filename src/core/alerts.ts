/**
 * Alert states: per (signal, configured window), pooled `"*"` included, the risk level an alert reports, with
 * a pending period and a recovery margin so that a noisy boundary does not flap (SPEC "Alerts"). Pure: no I/O.
 *
 * Each ingest cycle gives one {@linkcode Evaluation} per key, from the same numbers as the snapshot rows. The
 * evaluation's level is the rules' level (`classifyRisk`), except that a move to a *better* level than the
 * confirmed one also needs the mean to clear the effective boundary by `recoveryMargin` score points: the
 * level used is the better of the confirmed level and the level of `mean − margin` against H and M (the same
 * effective boundaries as the forecast and the nearest boundary; SPEC "Risk as a function of the mean").
 *
 * That candidate level then behaves like Prometheus' `for`: when it differs from the confirmed level it is
 * `pending` from the first evaluation that gave it, and it is confirmed — a {@linkcode Transition} — at the
 * first evaluation at least `forMs` later, provided every evaluation in between gave the same candidate. Any
 * other candidate in between restarts the wait (or cancels it, when it is the confirmed level). With
 * `forMs = 0` a change is confirmed at once.
 *
 * A key never evaluated is `unknown` since never (`sinceMs` null). The state is a pure function of the
 * evaluation history ({@linkcode replay}), and after a restart it comes back from the key's last transition
 * ({@linkcode restoreState}): the confirmed level and since when; a pending wait starts again.
 */
import { toRfc3339 } from "./report.ts";
import {
  type BoundaryRule,
  classifyRisk,
  effectiveBoundaries,
  fmt,
  nearestBoundary,
  type Thresholds,
} from "./risk.ts";
import type { Summary } from "./stats.ts";
import type { RiskLevel } from "./vocabulary.ts";

export interface AlertSettings {
  /** How long a new level must hold, every evaluation, before it is confirmed (ms; 0: at once). */
  forMs: number;
  /** Score points by which the mean must clear an effective boundary before a better level is confirmed. */
  recoveryMargin: number;
  thresholds: Thresholds;
}

/** What an alert is about: one signal (or `"*"`) over one configured window. */
export interface AlertKey {
  signal: string;
  windowSec: number;
}

/** One evaluation of a key: the window's numbers at the end of an ingest cycle. */
export interface Evaluation extends AlertKey {
  /** The window end (the snapshot's computed_at), epoch ms. */
  atMs: number;
  summary: Summary;
}

export interface PendingLevel {
  level: RiskLevel;
  /** The first evaluation that gave this level, epoch ms. */
  sinceMs: number;
}

/** The effective boundary a transition was judged against, in short. */
export interface TransitionBoundary {
  /** `high` is H (high | medium), `medium` is M (medium | low). */
  boundary: "high" | "medium";
  rule: BoundaryRule;
  /** The mean at which the level changes (H or M). */
  changesAt: number;
  direction: "rise" | "fall";
  text: string;
}

/** One confirmed change of state: what the log keeps and what delivery sends. */
export interface Transition {
  /** Unique and deterministic: the same evaluation history gives the same id (a receiver deduplicates on it). */
  id: string;
  signal: string;
  windowSec: number;
  from: RiskLevel;
  to: RiskLevel;
  /** When the new level was confirmed (an evaluation's window end), RFC 3339 UTC. */
  at: string;
  /** The first evaluation that gave the new level, RFC 3339 UTC. */
  pendingSince: string;
  n: number;
  mean: number | null;
  stdev: number | null;
  volatilityIndex: number | null;
  /** The rule that fired, in words (the rules' decision at the confirming evaluation). */
  rule: string;
  nearestBoundary: TransitionBoundary | null;
}

/** The last evaluation of a key, as the alert saw it. */
export interface EvaluatedLevel {
  atMs: number;
  /** The rules' level, before the margin and the pending period. */
  level: RiskLevel;
  /** The level after the recovery margin: what is pending or confirmed. */
  candidate: RiskLevel;
  rule: string;
  n: number;
  mean: number | null;
  stdev: number | null;
  volatilityIndex: number | null;
}

export interface AlertState extends AlertKey {
  /** The confirmed level. */
  level: RiskLevel;
  /** When it was confirmed, epoch ms; null while a key has never left its initial `unknown`. */
  sinceMs: number | null;
  pending: PendingLevel | null;
  evaluated: EvaluatedLevel | null;
  /** Why the state is what it is, in one sentence. */
  why: string;
}

/** Worst first: how bad a level is (unknown is apart: never better or worse than a known level). */
const SEVERITY: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2, unknown: -1 };

/** True when `to` is a known level better than the known level `from` (a recovery). */
export function isRecovery(from: RiskLevel, to: RiskLevel): boolean {
  return from !== "unknown" && to !== "unknown" && SEVERITY[to] < SEVERITY[from];
}

/** Levels an alert fires for (Alertmanager `severity`). */
export function isActive(level: RiskLevel): level is "medium" | "high" {
  return level === "medium" || level === "high";
}

/** The initial state of a key never evaluated. */
export function initialState(key: AlertKey): AlertState {
  return {
    signal: key.signal,
    windowSec: key.windowSec,
    level: "unknown",
    sinceMs: null,
    pending: null,
    evaluated: null,
    why: "not evaluated yet",
  };
}

/** The state a key comes back in after a restart: the last transition's level, since its time. */
export function restoreState(last: Transition): AlertState {
  return {
    ...initialState(last),
    level: last.to,
    sinceMs: Date.parse(last.at),
    why: `${last.to} since ${last.at} (restored from the transitions log): ${last.rule}`,
  };
}

/** `key` as one string (signal names may hold any character but line breaks; the window is a number). */
export function alertKeyId(key: AlertKey): string {
  return `${key.windowSec}\u0000${key.signal}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: a short, stable digest of a signal name for transition ids. */
function digest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * A transition's id: `tr_<at ms, base 36>_<window s>_<digest of the signal>_<from>_<to>`. Deterministic, so
 * replaying the same evaluations gives the same ids; unique for a key at one time (one transition per key per
 * evaluation).
 */
export function transitionId(key: AlertKey, atMs: number, from: RiskLevel, to: RiskLevel): string {
  return `tr_${atMs.toString(36)}_${key.windowSec}_${digest(key.signal)}_${from}_${to}`;
}

/** The rules' level, then the recovery margin: a better level only as far as `mean − margin` reaches. */
function candidateLevel(
  confirmed: RiskLevel,
  level: RiskLevel,
  summary: Summary,
  s: AlertSettings,
): RiskLevel {
  if (!isRecovery(confirmed, level) || summary.mean === null) return level;
  const b = effectiveBoundaries(summary, s.thresholds);
  if (b === null) return level;
  const shifted = summary.mean - s.recoveryMargin;
  const withMargin: RiskLevel = shifted < b.high.mean ? "high" : shifted < b.medium.mean ? "medium" : level;
  // The better of the confirmed level and what the margin allows (never better than the rules' level).
  if (SEVERITY[withMargin] >= SEVERITY[confirmed]) return confirmed;
  return SEVERITY[withMargin] > SEVERITY[level] ? withMargin : level;
}

export interface StepResult {
  state: AlertState;
  transition: Transition | null;
}

/** One evaluation applied to a key's state. Pure: the same state and evaluation give the same result. */
export function step(state: AlertState, evaluation: Evaluation, settings: AlertSettings): StepResult {
  const { atMs, summary } = evaluation;
  const decision = classifyRisk(summary, settings.thresholds);
  const candidate = candidateLevel(state.level, decision.level, summary, settings);
  const evaluated: EvaluatedLevel = {
    atMs,
    level: decision.level,
    candidate,
    rule: decision.text,
    n: summary.n,
    mean: summary.mean,
    stdev: summary.stdev,
    volatilityIndex: summary.volatilityIndex,
  };
  const margin = candidate !== decision.level
    ? ` (${decision.level} by the rules, but the mean ${
      fmt(summary.mean ?? 0)
    } has not cleared the boundary ` +
      `by the recovery margin ${fmt(settings.recoveryMargin)})`
    : "";
  if (candidate === state.level) {
    return {
      state: { ...state, pending: null, evaluated, why: `${state.level}: ${decision.text}${margin}` },
      transition: null,
    };
  }
  const pending = state.pending?.level === candidate ? state.pending : { level: candidate, sinceMs: atMs };
  if (atMs - pending.sinceMs < settings.forMs) {
    const waited = Math.max(0, atMs - pending.sinceMs);
    return {
      state: {
        ...state,
        pending,
        evaluated,
        why: `pending ${candidate} since ${toRfc3339(pending.sinceMs)} (${fmt(waited / 1000)} s of ${
          fmt(settings.forMs / 1000)
        } s): ${decision.text}`,
      },
      transition: null,
    };
  }
  const nearest = nearestBoundary(summary, settings.thresholds, decision);
  const transition: Transition = {
    id: transitionId(evaluation, atMs, state.level, candidate),
    signal: evaluation.signal,
    windowSec: evaluation.windowSec,
    from: state.level,
    to: candidate,
    at: toRfc3339(atMs),
    pendingSince: toRfc3339(pending.sinceMs),
    n: summary.n,
    mean: summary.mean,
    stdev: summary.stdev,
    volatilityIndex: summary.volatilityIndex,
    rule: decision.text + margin,
    nearestBoundary: nearest === null ? null : {
      boundary: nearest.boundary,
      rule: nearest.rule,
      changesAt: nearest.changesAt,
      direction: nearest.direction,
      text: nearest.text,
    },
  };
  return {
    state: {
      signal: evaluation.signal,
      windowSec: evaluation.windowSec,
      level: candidate,
      sinceMs: atMs,
      pending: null,
      evaluated,
      why: `${candidate} since ${transition.at}: ${transition.rule}`,
    },
    transition,
  };
}

/** The state after a history of evaluations of one key, and the transitions on the way. */
export function replay(
  key: AlertKey,
  evaluations: Iterable<Evaluation>,
  settings: AlertSettings,
  from: AlertState = initialState(key),
): { state: AlertState; transitions: Transition[] } {
  let state = from;
  const transitions: Transition[] = [];
  for (const evaluation of evaluations) {
    const result = step(state, evaluation, settings);
    state = result.state;
    if (result.transition) transitions.push(result.transition);
  }
  return { state, transitions };
}
