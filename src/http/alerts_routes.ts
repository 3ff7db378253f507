/**
 * `/coherence/alerts` (every key's alert state, pending included, since when and why) and
 * `/coherence/transitions` (the transitions log). Both read narrow views: the evaluation service's states and
 * status, the log's `list`, and the delivery targets' health.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Config } from "../config.ts";
import { type AlertState, isActive, type Transition } from "../core/alerts.ts";
import { toRfc3339 } from "../core/report.ts";
import { RISK_LEVELS, type RiskLevel } from "../core/vocabulary.ts";
import { formatWindow, parseWindow } from "../core/window.ts";
import type { AlertingStatus } from "../alerts/alerting.ts";
import type { TransitionLog } from "../persistence/transitions.ts";
import {
  type AlertsResponse,
  AlertsResponseSchema,
  type AlertStateBody,
  type DeliveryHealth,
  type TransitionBody,
  TransitionsResponseSchema,
} from "../schemas.ts";
import type { AppEnv } from "./env.ts";
import { ProblemError, problemSpec, QUERY_PROBLEMS } from "./problem.ts";
import { countParameter, type KnownSignals, signalParameter, timeParameter, unknownSignal } from "./query.ts";

export const MAX_ALERTS_LIMIT = 10_000;
const DEFAULT_ALERTS_LIMIT = 1000;
export const MAX_TRANSITIONS_LIMIT = 1000;
const DEFAULT_TRANSITIONS_LIMIT = 100;

/** What the alert routes, `/status` and `/metrics` read of the alerting side. */
export interface AlertsView {
  states(): readonly AlertState[];
  status(): AlertingStatus;
  transitions: Pick<TransitionLog, "list">;
  /** Each delivery target's health (empty without targets). */
  delivery(): readonly DeliveryHealth[];
}

/** A view with no key, no transition and no target: what an app built without alerting shows. */
export function idleAlerts(settings: { forMs: number; recoveryMargin: number }): AlertsView {
  return {
    states: () => [],
    status: () => ({
      keys: 0,
      active: 0,
      pending: 0,
      levels: { low: 0, medium: 0, high: 0, unknown: 0 },
      transitionsWritten: 0,
      transitionsByLevel: { low: 0, medium: 0, high: 0, unknown: 0 },
      appendFailures: 0,
      restored: 0,
      ready: true,
      keysRefused: 0,
      transitionsPruned: 0,
      lastEvaluation: null,
      settings: { forSec: settings.forMs / 1000, recoveryMargin: settings.recoveryMargin },
    }),
    transitions: { list: () => Promise.resolve([]) },
    delivery: () => [],
  };
}

const STATE_FILTERS = [...RISK_LEVELS, "pending", "active"] as const;

const signalQuery = z.string().max(200, { error: "at most 200 characters" }).optional().openapi({
  description: 'Only this signal ("*" for the pooled keys); default: every signal',
});
const windowQuery = z.string().max(32, { error: "at most 32 characters" }).optional().openapi({
  example: "1h",
  description: "Only this window; default: every configured window",
});

export const AlertsQuerySchema = z.object({
  signal: signalQuery,
  window: windowQuery,
  state: z.enum(STATE_FILTERS, { error: `expected one of ${STATE_FILTERS.join(", ")}` }).optional().openapi({
    description: "Only keys at this confirmed level, or pending ones, or active ones (medium or high)",
  }),
  limit: z.string().regex(/^\d{1,6}$/, { error: `expected a whole number from 1 to ${MAX_ALERTS_LIMIT}` })
    .optional().openapi({
      example: "1000",
      description:
        `Most keys to return, worst first (1 to ${MAX_ALERTS_LIMIT}, default ${DEFAULT_ALERTS_LIMIT})`,
    }),
});

export const TransitionsQuerySchema = z.object({
  signal: signalQuery,
  window: windowQuery,
  since: z.string().max(64, { error: "at most 64 characters" }).optional().openapi({
    description: "Only transitions at or after this time (RFC 3339 or epoch)",
  }),
  limit: z.string().regex(/^\d{1,6}$/, {
    error: `expected a whole number from 1 to ${MAX_TRANSITIONS_LIMIT}`,
  }).optional().openapi({
    example: "100",
    description:
      `Newest transitions to return, oldest first (1 to ${MAX_TRANSITIONS_LIMIT}, default ${DEFAULT_TRANSITIONS_LIMIT})`,
  }),
});

const alertsRoute = createRoute({
  method: "get",
  path: "/alerts",
  summary: "Every key's alert state (signal × window, pooled included): level, since when, pending, why",
  request: { query: AlertsQuerySchema },
  responses: {
    200: { content: { "application/json": { schema: AlertsResponseSchema } }, description: "Alert states" },
    ...QUERY_PROBLEMS,
  },
});

const transitionsRoute = createRoute({
  method: "get",
  path: "/transitions",
  summary: "The transitions log: the newest `limit` confirmed changes of alert state, oldest first",
  request: { query: TransitionsQuerySchema },
  responses: {
    200: {
      content: { "application/json": { schema: TransitionsResponseSchema } },
      description: "Transitions",
    },
    ...QUERY_PROBLEMS,
    503: problemSpec("The transitions log cannot be read"),
  },
});

/** Worst first: high, medium, low, unknown. */
const ORDER: Readonly<Record<RiskLevel, number>> = { high: 0, medium: 1, low: 2, unknown: 3 };

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Severity (confirmed level, worst first; pending before settled), then signal, then window. */
export function compareAlertStates(a: AlertState, b: AlertState): number {
  return ORDER[a.level] - ORDER[b.level] ||
    (a.pending === null ? 1 : 0) - (b.pending === null ? 1 : 0) ||
    byCodeUnits(a.signal, b.signal) ||
    a.windowSec - b.windowSec;
}

/** A state as the API shows it. */
export function alertStateBody(state: AlertState): AlertStateBody {
  const e = state.evaluated;
  return {
    signal: state.signal,
    windowSec: state.windowSec,
    window: formatWindow(state.windowSec),
    level: state.level,
    active: isActive(state.level),
    since: state.sinceMs === null ? null : toRfc3339(state.sinceMs),
    pending: state.pending === null
      ? null
      : { level: state.pending.level, since: toRfc3339(state.pending.sinceMs) },
    why: state.why,
    evaluation: e === null ? null : {
      at: toRfc3339(e.atMs),
      level: e.level,
      candidate: e.candidate,
      rule: e.rule,
      n: e.n,
      mean: e.mean,
      stdev: e.stdev,
      volatilityIndex: e.volatilityIndex,
    },
  };
}

/** A transition as the API shows it (the log's fields plus the window as text). */
export function transitionBody(t: Transition): TransitionBody {
  return {
    id: t.id,
    signal: t.signal,
    windowSec: t.windowSec,
    window: formatWindow(t.windowSec),
    from: t.from,
    to: t.to,
    at: t.at,
    pendingSince: t.pendingSince,
    n: t.n,
    mean: t.mean,
    stdev: t.stdev,
    volatilityIndex: t.volatilityIndex,
    rule: t.rule,
    nearestBoundary: t.nearestBoundary,
  };
}

/** What the alert routes read. */
export interface AlertsDeps {
  config: Pick<Config, "maxWindowSec" | "alerts">;
  store: KnownSignals;
  alerts?: AlertsView;
}

/** The `signal` filter: undefined for every signal, `"*"` for the pooled keys (unlike the metrics routes). */
function signalFilter(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  if (trimmed === undefined || trimmed === "") return undefined;
  return signalParameter(trimmed) ?? "*";
}

/** The answer of `/coherence/alerts` for a query (also what the page reads). */
export function alertsAnswer(
  view: AlertsView,
  config: Pick<Config, "maxWindowSec" | "alerts">,
  store: KnownSignals,
  query: z.infer<typeof AlertsQuerySchema>,
): AlertsResponse {
  const signal = signalFilter(query.signal);
  const windowSec = query.window === undefined
    ? undefined
    : parseWindow(query.window, { maxSec: config.maxWindowSec });
  const limit = countParameter("limit", query.limit, DEFAULT_ALERTS_LIMIT, 1, MAX_ALERTS_LIMIT);
  const states = view.states();
  const matching = states.filter((s) =>
    (signal === undefined || s.signal === signal) &&
    (windowSec === undefined || s.windowSec === windowSec) &&
    (query.state === undefined ||
      (query.state === "pending"
        ? s.pending !== null
        : query.state === "active"
        ? isActive(s.level)
        : s.level === query.state))
  );
  if (
    signal !== undefined && signal !== "*" && !store.has(signal) && !states.some((s) => s.signal === signal)
  ) {
    throw unknownSignal(store, signal);
  }
  matching.sort(compareAlertStates);
  const status = view.status();
  return {
    settings: {
      for: formatWindowOrZero(config.alerts.forMs / 1000),
      forSec: config.alerts.forMs / 1000,
      recoveryMargin: config.alerts.recoveryMargin,
    },
    counts: { keys: status.keys, active: status.active, pending: status.pending, levels: status.levels },
    total: matching.length,
    limit,
    count: Math.min(limit, matching.length),
    order: "severity, then signal, then window",
    alerts: matching.slice(0, limit).map(alertStateBody),
  };
}

/** `2m`, `90s`, or `0s` for no wait. */
export function formatWindowOrZero(seconds: number): string {
  return seconds === 0 ? "0s" : formatWindow(seconds);
}

export function alertsRoutes(deps: AlertsDeps): OpenAPIHono<AppEnv> {
  const { config, store } = deps;
  const view = deps.alerts ?? idleAlerts(config.alerts);
  const app = new OpenAPIHono<AppEnv>();

  app.openapi(alertsRoute, (c) => c.json(alertsAnswer(view, config, store, c.req.valid("query")), 200));

  app.openapi(transitionsRoute, async (c) => {
    const query = c.req.valid("query");
    const signal = signalFilter(query.signal);
    const windowSec = query.window === undefined
      ? undefined
      : parseWindow(query.window, { maxSec: config.maxWindowSec });
    const limit = countParameter("limit", query.limit, DEFAULT_TRANSITIONS_LIMIT, 1, MAX_TRANSITIONS_LIMIT);
    const sinceMs = query.since === undefined ? undefined : timeParameter("since", query.since);
    const transitions = await view.transitions.list({ signal, windowSec, sinceMs, limit }).catch((error) => {
      throw new ProblemError(
        "store-unavailable",
        `Cannot read the transitions log: ${(error as Error).message}`,
        { cause: error },
      );
    });
    // As /coherence/history: a signal is unknown when it is neither held, nor an alert key, nor in the log.
    if (
      transitions.length === 0 && signal !== undefined && signal !== "*" && !store.has(signal) &&
      !view.states().some((s) => s.signal === signal)
    ) {
      throw unknownSignal(store, signal);
    }
    return c.json({
      signal: signal ?? null,
      windowSec: windowSec ?? null,
      since: sinceMs === undefined ? null : toRfc3339(sinceMs),
      order: "oldest first" as const,
      limit,
      count: transitions.length,
      transitions: transitions.map(transitionBody),
    }, 200);
  });

  return app;
}
