import { deepEqual, equal, match, ok } from "node:assert/strict";
import type { AlertsResponse, DeliveryHealth, TransitionsResponse } from "../../src/schemas.ts";
import { series, T0, testAlerts, testApp, testConfig } from "../helpers.ts";
import { find, parseSamples, promtoolCheck, promtoolInstalled, valueOf } from "../ops/exposition.ts";

const MINUTE = 60_000;
/** alpha high (mean 50), gamma medium (70), beta low (~91): 90 minutes each, one point a minute. */
const points = [
  ...series("alpha", T0, 90, () => 50),
  ...series("beta", T0, 90, (i) => 90 + (i % 3)),
  ...series("gamma", T0, 90, () => 70),
];
/** Evaluations at T0 − 3m … T0: with ALERT_FOR=2m every key is confirmed at T0 − 1m. */
const ENDS = [T0 - 3 * MINUTE, T0 - 2 * MINUTE, T0 - MINUTE, T0];

async function appWith(env: Record<string, string> = {}, delivery: DeliveryHealth[] = []) {
  const config = testConfig(env);
  const alerts = await testAlerts(points, config, ENDS, { delivery });
  return testApp({ points, env, now: T0, alerts });
}

async function getJson<T>(app: Awaited<ReturnType<typeof appWith>>["app"], path: string) {
  const res = await app.request(path);
  return { status: res.status, body: await res.json() as T };
}

Deno.test("GET /coherence/alerts lists every key's state, worst first, with since-when, why and the last evaluation", async () => {
  const { app } = await appWith();
  const { status, body } = await getJson<AlertsResponse>(app, "/coherence/alerts");
  equal(status, 200);
  // 3 signals + "*", 2 windows.
  equal(body.total, 8);
  equal(body.count, 8);
  deepEqual(body.settings, { for: "2m", forSec: 120, recoveryMargin: 1 });
  deepEqual(body.counts, {
    keys: 8,
    active: 6,
    pending: 0,
    levels: { low: 2, medium: 4, high: 2, unknown: 0 },
  });
  deepEqual(body.alerts.map((a) => [a.level, a.signal, a.window]), [
    ["high", "alpha", "1h"],
    ["high", "alpha", "24h"],
    ["medium", "*", "1h"],
    ["medium", "*", "24h"],
    ["medium", "gamma", "1h"],
    ["medium", "gamma", "24h"],
    ["low", "beta", "1h"],
    ["low", "beta", "24h"],
  ]);
  const [alpha] = body.alerts;
  equal(alpha.active, true);
  equal(alpha.since, "2025-10-29T16:59:00Z");
  equal(alpha.pending, null);
  match(alpha.why, /^high: /);
  equal(alpha.evaluation?.at, "2025-10-29T17:00:00Z");
  equal(alpha.evaluation?.mean, 50);
  equal(alpha.evaluation?.candidate, "high");
  equal(body.alerts.at(-1)?.active, false);
});

Deno.test('GET /coherence/alerts filters by signal ("*" is the pooled keys), window and state', async () => {
  const { app } = await appWith();
  const keys = async (query: string) =>
    (await getJson<AlertsResponse>(app, `/coherence/alerts?${query}`)).body.alerts.map((a) =>
      `${a.signal}/${a.window}`
    );
  deepEqual(await keys("signal=alpha"), ["alpha/1h", "alpha/24h"]);
  deepEqual(await keys("signal=*"), ["*/1h", "*/24h"]);
  deepEqual(await keys("window=24h&state=medium"), ["*/24h", "gamma/24h"]);
  deepEqual(await keys("state=high"), ["alpha/1h", "alpha/24h"]);
  equal((await keys("state=active")).length, 6);
  deepEqual(await keys("state=pending"), []);
  deepEqual(await keys("signal=beta&state=high"), []);
});

Deno.test("GET /coherence/alerts shows pending keys: the new level and since when", async () => {
  const { app } = await appWith({ ALERT_FOR: "10m" });
  const { body } = await getJson<AlertsResponse>(app, "/coherence/alerts?signal=alpha&window=1h");
  const [alpha] = body.alerts;
  equal(alpha.level, "unknown");
  equal(alpha.since, null);
  deepEqual(alpha.pending, { level: "high", since: "2025-10-29T16:57:00Z" });
  match(alpha.why, /^pending high since 2025-10-29T16:57:00Z \(180 s of 600 s\)/);
  equal(body.counts.pending, 8);
  deepEqual(body.settings, { for: "10m", forSec: 600, recoveryMargin: 1 });
  equal((await getJson<AlertsResponse>(app, "/coherence/alerts?state=pending")).body.total, 8);
});

Deno.test("GET /coherence/alerts is bounded by limit (default 1000, at most 10000) and gives the total", async () => {
  const { app } = await appWith();
  const { body } = await getJson<AlertsResponse>(app, "/coherence/alerts?limit=3");
  equal(body.limit, 3);
  equal(body.count, 3);
  equal(body.total, 8);
  deepEqual(body.alerts.map((a) => a.signal), ["alpha", "alpha", "*"]);
  equal((await getJson<AlertsResponse>(app, "/coherence/alerts")).body.limit, 1000);
  equal((await app.request("/coherence/alerts?limit=10000")).status, 200);
});

Deno.test("GET /coherence/alerts answers 400 for bad parameters and 404 for an unknown signal", async () => {
  const { app } = await appWith();
  const cases: [string, number, RegExp][] = [
    ["limit=0", 400, /"limit" is not valid: expected 1 to 10000, got 0/],
    ["limit=10001", 400, /expected 1 to 10000/],
    ["limit=abc", 400, /"limit" is not valid/],
    [
      "state=critical",
      400,
      /"state" is not valid: expected one of low, medium, high, unknown, pending, active/,
    ],
    ["window=5x", 400, /Cannot parse window "5x"/],
    ["window=999d", 400, /too long/],
    ["signal=nobody", 404, /Unknown signal "nobody": known signals are alpha, beta, gamma/],
  ];
  for (const [query, status, detail] of cases) {
    const res = await app.request(`/coherence/alerts?${query}`);
    equal(res.status, status, query);
    equal(res.headers.get("content-type"), "application/problem+json", query);
    match((await res.json()).detail, detail, query);
  }
});

Deno.test("GET /coherence/transitions gives the log, oldest first, filtered by signal, window and since", async () => {
  const { app } = await appWith();
  const all = await getJson<TransitionsResponse>(app, "/coherence/transitions");
  equal(all.status, 200);
  equal(all.body.count, 8);
  equal(all.body.limit, 100);
  equal(all.body.order, "oldest first");
  ok(all.body.transitions.every((t) => t.from === "unknown" && t.at === "2025-10-29T16:59:00Z"));
  const alpha = await getJson<TransitionsResponse>(app, "/coherence/transitions?signal=alpha&window=1h");
  deepEqual(alpha.body.transitions.map((t) => [t.from, t.to, t.window, t.pendingSince]), [
    ["unknown", "high", "1h", "2025-10-29T16:57:00Z"],
  ]);
  const [t] = alpha.body.transitions;
  match(t.id, /^tr_/);
  equal(t.mean, 50);
  match(t.rule, /mean 50/);
  equal(alpha.body.signal, "alpha");
  equal(alpha.body.windowSec, 3600);
  const pooled = await getJson<TransitionsResponse>(app, "/coherence/transitions?signal=*");
  deepEqual(pooled.body.transitions.map((t) => t.signal), ["*", "*"]);
  const later = await getJson<TransitionsResponse>(app, "/coherence/transitions?since=2025-10-29T17:00:00Z");
  equal(later.body.count, 0);
  equal(later.body.since, "2025-10-29T17:00:00Z");
  const limited = await getJson<TransitionsResponse>(app, "/coherence/transitions?limit=2");
  equal(limited.body.count, 2);
  deepEqual(limited.body.transitions, all.body.transitions.slice(-2), "the newest, oldest first");
});

Deno.test("GET /coherence/transitions: a known signal without transitions is an empty 200; 400s and 404 as /coherence/history", async () => {
  const config = testConfig();
  const alerts = await testAlerts(points, config, []);
  const { app } = testApp({ points, now: T0, alerts });
  const empty = await getJson<TransitionsResponse>(app, "/coherence/transitions?signal=alpha");
  equal(empty.status, 200);
  equal(empty.body.count, 0);
  const cases: [string, number, RegExp][] = [
    ["limit=0", 400, /expected 1 to 1000, got 0/],
    ["limit=1001", 400, /expected 1 to 1000, got 1001/],
    ["since=never", 400, /Cannot parse since "never"/],
    ["window=bad", 400, /Cannot parse window "bad"/],
    ["signal=nobody", 404, /Unknown signal "nobody"/],
  ];
  for (const [query, status, detail] of cases) {
    const res = await app.request(`/coherence/transitions?${query}`);
    equal(res.status, status, query);
    match((await res.json()).detail, detail, query);
  }
});

Deno.test("GET /coherence/transitions answers 503 when the log cannot be read", async () => {
  const config = testConfig();
  const alerts = await testAlerts(points, config, ENDS);
  alerts.transitions = { list: () => Promise.reject(new Error("database is locked")) };
  const { app } = testApp({ points, now: T0, alerts });
  const res = await app.request("/coherence/transitions");
  equal(res.status, 503);
  match((await res.json()).detail, /Cannot read the transitions log: database is locked/);
});

const WEBHOOK_HEALTH: DeliveryHealth = {
  target: "webhook",
  url: "https://hooks.example.com:443",
  delivered: 5,
  failed: 2,
  expired: 1,
  dropped: 0,
  outboxDepth: 3,
  lastSuccessAt: "2025-10-29T16:58:00Z",
  lastFailureAt: "2025-10-29T16:59:00Z",
  lastError: "HTTP 503",
  nextAttemptAt: "2025-10-29T17:00:04Z",
  consecutiveFailures: 1,
};

Deno.test("/status shows the alert evaluation and each delivery target's health", async () => {
  const { app } = await appWith({}, [WEBHOOK_HEALTH]);
  const body = await (await app.request("/status")).json();
  deepEqual(body.alerts, {
    keys: 8,
    active: 6,
    pending: 0,
    transitionsWritten: 8,
    appendFailures: 0,
    restored: 0,
    lastEvaluation: { at: "2025-10-29T17:00:00Z", ok: true, keys: 8, transitions: 0, error: null },
    settings: { for: "2m", forSec: 120, recoveryMargin: 1 },
    delivery: [WEBHOOK_HEALTH],
  });
  equal(body.status, "ok");
});

Deno.test("/status without alerting shows no keys and no targets", async () => {
  const { app } = testApp({ points, now: T0 });
  const body = await (await app.request("/status")).json();
  equal(body.alerts.keys, 0);
  deepEqual(body.alerts.delivery, []);
  equal(body.alerts.lastEvaluation, null);
});

Deno.test("/metrics: coherence_alert_state per key and level (pending too), transitions by level, deliveries and outbox depth", async () => {
  const config = testConfig({ ALERT_FOR: "2m" });
  const alerts = await testAlerts(points, config, ENDS, { delivery: [WEBHOOK_HEALTH] });
  // The same evaluations with ALERT_FOR=10m: every key still pending.
  const pendingAlerts = await testAlerts(points, testConfig({ ALERT_FOR: "10m" }), ENDS);
  const { app } = testApp({ points, now: T0, alerts });
  const text = await (await app.request("/metrics")).text();
  const samples = parseSamples(text);
  equal(valueOf(samples, "coherence_alert_state", { signal: "alpha", window: "1h", state: "high" }), 1);
  equal(valueOf(samples, "coherence_alert_state", { signal: "*", window: "24h", state: "medium" }), 1);
  equal(find(samples, "coherence_alert_state").length, 8, "one series per key (none pending)");
  equal(valueOf(samples, "coherence_alert_transitions_total", { to: "medium" }), 4);
  equal(valueOf(samples, "coherence_alert_transitions_total", { to: "high" }), 2);
  equal(valueOf(samples, "coherence_alert_transitions_total", { to: "unknown" }), 0);
  equal(valueOf(samples, "coherence_alert_deliveries_total", { target: "webhook", outcome: "delivered" }), 5);
  equal(valueOf(samples, "coherence_alert_deliveries_total", { target: "webhook", outcome: "expired" }), 1);
  equal(valueOf(samples, "coherence_alert_outbox_depth", { target: "webhook" }), 3);

  const pending = testApp({ points, now: T0, alerts: pendingAlerts });
  const pendingSamples = parseSamples(await (await pending.app.request("/metrics")).text());
  equal(
    valueOf(pendingSamples, "coherence_alert_state", { signal: "alpha", window: "1h", state: "pending" }),
    1,
  );
  equal(
    valueOf(pendingSamples, "coherence_alert_state", { signal: "alpha", window: "1h", state: "unknown" }),
    1,
  );
  if (await promtoolInstalled()) {
    const check = await promtoolCheck(text);
    ok(check.success, check.output);
  } else {
    ok(Deno.env.get("CI") !== "true", "promtool is required under CI=true");
    console.warn("\n!!! promtool not found: SKIPPING the promtool check of the alert metrics.\n");
  }
});

Deno.test("/metrics exports alert states for the first METRICS_MAX_SIGNALS signals by name, the pooled keys always", async () => {
  const env = { METRICS_MAX_SIGNALS: "1" };
  const alerts = await testAlerts(points, testConfig(env), ENDS);
  const { app } = testApp({ points, env, now: T0, alerts });
  const samples = parseSamples(await (await app.request("/metrics")).text());
  const signals = new Set(find(samples, "coherence_alert_state").map((s) => s.labels.signal));
  deepEqual([...signals].sort(), ["*", "alpha"]);
});
