/**
 * Alertmanager, spoken to as Prometheus does (`POST {url}/api/v2/alerts`, a JSON array of postable alerts):
 *
 * - labels `{alertname="CoherenceDriftRisk", signal, window, severity}` — `window` as written in config
 *   (`formatWindow`: `1h`, `24h`), `severity` the alert's level (`medium` | `high`); the pooled key has
 *   `signal="*"`;
 * - annotations `{summary, description (the rule in words), nearest_boundary}`;
 * - `startsAt` the transition's `at` (the state's `since` on a re-send), `generatorURL` the engine's page for
 *   that signal and window.
 *
 * From the outbox, a transition whose `from` was active sends that alert resolved (`endsAt` = the transition's
 * `at`, or now if that is later: a future `endsAt` would mean "firing until"), and one whose `to` is active
 * sends the new alert firing. A firing alert carries `endsAt` = now + 4 × the re-send interval, as Prometheus
 * does: if the engine goes away, Alertmanager resolves it by itself. Every re-send interval (`ALERT_RESEND_S`)
 * the currently active states are sent again (state, not outbox: no cursor), at most 500 alerts per request.
 * Within one request each label set appears once, the newest (a flap inside one batch sends its end state).
 */
import type { AlertState, Transition, TransitionBoundary } from "../core/alerts.ts";
import { alertKeyId, isActive } from "../core/alerts.ts";
import type { RiskLevel } from "../core/vocabulary.ts";
import { formatWindow } from "../core/window.ts";
import { type DeliveryTarget, postJson, type SendResult } from "./target.ts";

export const ALERT_NAME = "CoherenceDriftRisk";
/** Most alerts in one POST. */
export const MAX_ALERTS_PER_POST = 500;

/** One alert as `POST /api/v2/alerts` takes it (Alertmanager's `postableAlert`). */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL: string;
}

/** An active state to re-send; `nearestBoundary` when the caller knows it (else the last one sent is used). */
export type ActiveAlert = AlertState & { nearestBoundary?: TransitionBoundary | null };

export interface AlertmanagerTargetOptions {
  /** `ALERTMANAGER_URL`: Alertmanager's base URL (`/api/v2/alerts` is appended to its path). */
  url: string;
  /** The engine's page for a signal and window (absolute URL): the alerts' `generatorURL`. */
  pageUrl: (signal: string, windowSec: number) => string;
  /** The current states (active ones are re-sent). */
  active?: () => Iterable<ActiveAlert>;
  /** `ALERT_RESEND_S` in ms. Default 60 000; 0 disables the re-send. */
  resendMs?: number;
  /** Per request, ms. Default 10 000. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
}

/** `{url}/api/v2/alerts`, keeping a path prefix (`http://proxy/alertmanager` → `…/alertmanager/api/v2/alerts`). */
export function alertsEndpoint(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, "")}/api/v2/alerts`;
  return parsed.href;
}

function signalText(signal: string): string {
  return signal === "*" ? "all signals (pooled)" : `signal ${signal}`;
}

function labelsOf(signal: string, windowSec: number, severity: "medium" | "high"): Record<string, string> {
  return { alertname: ALERT_NAME, signal, window: formatWindow(windowSec), severity };
}

function boundaryText(boundary: TransitionBoundary | null | undefined): string {
  return boundary?.text ?? "none (not enough data)";
}

export interface AlertShapeOptions {
  pageUrl: (signal: string, windowSec: number) => string;
  /** Now, epoch ms: a resolution's `endsAt` is never later (a future `endsAt` means "firing until"). */
  nowMs?: number;
  /** The `endsAt` of a firing alert, epoch ms; null: none (Alertmanager's resolve_timeout applies). */
  firingEndsAtMs: number | null;
}

function resolvedAt(at: string, nowMs: number | undefined): string {
  return nowMs !== undefined && Date.parse(at) > nowMs ? new Date(nowMs).toISOString() : at;
}

/** The alerts one transition sends: the `from` alert resolved, the `to` alert firing (either may be absent). */
export function transitionAlerts(t: Transition, options: AlertShapeOptions): PostableAlert[] {
  const alerts: PostableAlert[] = [];
  const generatorURL = options.pageUrl(t.signal, t.windowSec);
  const window = formatWindow(t.windowSec);
  if (isActive(t.from)) {
    alerts.push({
      labels: labelsOf(t.signal, t.windowSec, t.from),
      annotations: {
        summary: `Coherence drift risk ${t.from} for ${signalText(t.signal)} over ${window}: now ${t.to}`,
        description: `Moved from ${t.from} to ${t.to} at ${t.at}: ${t.rule}`,
        nearest_boundary: boundaryText(t.nearestBoundary),
      },
      startsAt: t.at,
      endsAt: resolvedAt(t.at, options.nowMs),
      generatorURL,
    });
  }
  if (isActive(t.to)) {
    alerts.push({
      labels: labelsOf(t.signal, t.windowSec, t.to),
      annotations: {
        summary: `Coherence drift risk ${t.to} for ${signalText(t.signal)} over ${window}`,
        description: t.rule,
        nearest_boundary: boundaryText(t.nearestBoundary),
      },
      startsAt: t.at,
      ...(options.firingEndsAtMs === null ? {} : { endsAt: new Date(options.firingEndsAtMs).toISOString() }),
      generatorURL,
    });
  }
  return alerts;
}

/** The firing alert of an active state (a re-send). */
export function stateAlert(
  state: ActiveAlert & { level: "medium" | "high" },
  nowMs: number,
  options: AlertShapeOptions,
): PostableAlert {
  return {
    labels: labelsOf(state.signal, state.windowSec, state.level),
    annotations: {
      summary: `Coherence drift risk ${state.level} for ${signalText(state.signal)} over ${
        formatWindow(state.windowSec)
      }`,
      description: state.evaluated?.rule ?? state.why,
      nearest_boundary: boundaryText(state.nearestBoundary),
    },
    startsAt: new Date(state.sinceMs ?? nowMs).toISOString(),
    ...(options.firingEndsAtMs === null ? {} : { endsAt: new Date(options.firingEndsAtMs).toISOString() }),
    generatorURL: options.pageUrl(state.signal, state.windowSec),
  };
}

/** One alert per label set, the last one given (the newest, in log order), first-seen order kept. */
function lastPerLabels(alerts: readonly PostableAlert[]): PostableAlert[] {
  const byLabels = new Map<string, PostableAlert>();
  for (const alert of alerts) {
    const key = JSON.stringify(alert.labels);
    byLabels.delete(key);
    byLabels.set(key, alert);
  }
  return [...byLabels.values()];
}

export function createAlertmanagerTarget(options: AlertmanagerTargetOptions): DeliveryTarget {
  const {
    url,
    pageUrl,
    active,
    resendMs = 60_000,
    timeoutMs = 10_000,
    fetch = globalThis.fetch,
    now = Date.now,
  } = options;
  const endpoint = alertsEndpoint(url);
  /** The nearest boundary last sent per firing key (bounded by the keys), for re-sends that lack it. */
  const boundaries = new Map<string, TransitionBoundary | null>();
  const shape = (): AlertShapeOptions => ({
    pageUrl,
    nowMs: now(),
    firingEndsAtMs: resendMs > 0 ? now() + 4 * resendMs : null,
  });

  async function post(alerts: readonly PostableAlert[], signal: AbortSignal): Promise<SendResult> {
    for (let i = 0; i < alerts.length; i += MAX_ALERTS_PER_POST) {
      const body = JSON.stringify(alerts.slice(i, i + MAX_ALERTS_PER_POST));
      const result = await postJson(endpoint, body, { fetch, timeoutMs, signal, now });
      if (!result.ok) return result;
    }
    return { ok: true };
  }

  const keyOf = (signal: string, windowSec: number, level: RiskLevel) =>
    `${alertKeyId({ signal, windowSec })}\u0000${level}`;

  return {
    name: "alertmanager",
    url,
    // Each transition gives at most two alerts.
    batchSize: MAX_ALERTS_PER_POST / 2,
    async send(transitions, signal) {
      const s = shape();
      const result = await post(lastPerLabels(transitions.flatMap((t) => transitionAlerts(t, s))), signal);
      if (result.ok) {
        for (const t of transitions) {
          if (isActive(t.from)) boundaries.delete(keyOf(t.signal, t.windowSec, t.from));
          if (isActive(t.to)) boundaries.set(keyOf(t.signal, t.windowSec, t.to), t.nearestBoundary);
        }
      }
      return result;
    },
    ...(active === undefined || resendMs <= 0 ? {} : {
      resend: {
        intervalMs: resendMs,
        run(signal) {
          const s = shape();
          const alerts: PostableAlert[] = [];
          for (const state of active()) {
            if (!isActive(state.level)) continue;
            const level = state.level;
            const nearest = state.nearestBoundary !== undefined
              ? state.nearestBoundary
              : boundaries.get(keyOf(state.signal, state.windowSec, level));
            alerts.push(stateAlert({ ...state, level, nearestBoundary: nearest }, now(), s));
          }
          return alerts.length === 0 ? Promise.resolve({ ok: true }) : post(alerts, signal);
        },
      },
    }),
  };
}
