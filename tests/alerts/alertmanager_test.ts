/**
 * The Alertmanager target: the alerts' shape and batching against a fake fetch, then end to end against the
 * real `prometheus-alertmanager` (Debian's package) started on loopback with a webhook receiver in the test:
 * a transition to `high` is seen `firing` there, the recovery `resolved`.
 *
 * Without the binary the end-to-end test is skipped with a loud warning, except under CI=true, where that fails.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  ALERT_NAME,
  alertsEndpoint,
  createAlertmanagerTarget,
  MAX_ALERTS_PER_POST,
  type PostableAlert,
  transitionAlerts,
} from "../../src/alerts/alertmanager_target.ts";
import { createDispatcher } from "../../src/alerts/dispatcher.ts";
import { type AlertState, initialState } from "../../src/core/alerts.ts";
import { createMemoryTransitionLog } from "../../src/persistence/memory_transitions.ts";
import { commandInstalled } from "../ops/exposition.ts";
import { transition, until } from "./support.ts";

const ALERTMANAGER = "prometheus-alertmanager";
const AMTOOL = "amtool";
const EXAMPLE = new URL("../../docs/alertmanager.yml", import.meta.url).pathname;
const ALERTS_DOC = new URL("../../docs/ALERTS.md", import.meta.url).pathname;
const CI = Deno.env.get("CI") === "true";
const pageUrl = (signal: string, windowSec: number) =>
  `http://engine.test:8000/?signal=${encodeURIComponent(signal)}&window=${windowSec}s`;

const haveAlertmanager = await commandInstalled(ALERTMANAGER);
if (!haveAlertmanager && !CI) {
  console.warn(
    `\n!!! ${ALERTMANAGER} not found: SKIPPING the end-to-end test against a real Alertmanager.\n` +
      "!!! Install it with: apt-get update && apt-get install -y prometheus-alertmanager   (CI=true makes this a failure)\n",
  );
}

const haveAmtool = await commandInstalled(AMTOOL);
if (!haveAmtool && !CI) {
  console.warn(
    `\n!!! ${AMTOOL} not found: SKIPPING the check of docs/alertmanager.yml (prometheus-alertmanager has it)\n`,
  );
}

async function amtool(...args: string[]): Promise<string> {
  const { success, stdout, stderr } = await new Deno.Command(AMTOOL, {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  ok(success, `amtool ${args.join(" ")} failed:\n${text}`);
  return new TextDecoder().decode(stdout);
}

Deno.test("docs/ALERTS.md shows docs/alertmanager.yml verbatim", async () => {
  const doc = await Deno.readTextFile(ALERTS_DOC);
  const block = /```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  equal(block, await Deno.readTextFile(EXAMPLE));
});

Deno.test({
  name:
    "docs/alertmanager.yml passes amtool check-config and routes severity=high to the pager, medium to chat",
  ignore: !haveAmtool && !CI,
  async fn() {
    await amtool("check-config", EXAMPLE);
    const route = (severity: string) =>
      amtool(
        "config",
        "routes",
        "test",
        `--config.file=${EXAMPLE}`,
        `alertname=${ALERT_NAME}`,
        `severity=${severity}`,
      );
    equal((await route("high")).trim(), "on-call-pager");
    equal((await route("medium")).trim(), "team-chat");
  },
});

/** A fetch that records each POST's alerts and answers 200. */
function recordingFetch() {
  const posts: { url: string; alerts: PostableAlert[] }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    posts.push({ url: String(input), alerts: JSON.parse(String(init?.body)) });
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  return { posts, fetch };
}

Deno.test("alertsEndpoint() appends /api/v2/alerts to the base URL, keeping a path prefix", () => {
  equal(alertsEndpoint("http://am:9093"), "http://am:9093/api/v2/alerts");
  equal(alertsEndpoint("http://am:9093/"), "http://am:9093/api/v2/alerts");
  equal(alertsEndpoint("https://proxy/alertmanager/"), "https://proxy/alertmanager/api/v2/alerts");
});

Deno.test("transitionAlerts(): medium → high resolves the medium alert at the transition and fires the high one", () => {
  const t = transition(1, { from: "medium", to: "high", signal: "*", windowSec: 86_400 });
  const [resolved, firing] = transitionAlerts(t, { pageUrl, firingEndsAtMs: Date.parse(t.at) + 240_000 });
  deepEqual(resolved.labels, { alertname: ALERT_NAME, signal: "*", window: "24h", severity: "medium" });
  equal(resolved.endsAt, t.at);
  deepEqual(firing.labels, { alertname: ALERT_NAME, signal: "*", window: "24h", severity: "high" });
  deepEqual(firing.annotations, {
    summary: "Coherence drift risk high for all signals (pooled) over 24h",
    description: t.rule,
    nearest_boundary: t.nearestBoundary!.text,
  });
  equal(firing.startsAt, t.at);
  equal(firing.endsAt, new Date(Date.parse(t.at) + 240_000).toISOString());
  equal(firing.generatorURL, pageUrl("*", 86_400));
  // A resolution is never dated in the future (Alertmanager would read a future endsAt as "firing until").
  const early = transitionAlerts(t, { pageUrl, firingEndsAtMs: null, nowMs: Date.parse(t.at) - 5000 });
  equal(early[0].endsAt, new Date(Date.parse(t.at) - 5000).toISOString());
  // low → unknown sends nothing; unknown → medium only fires; high → low only resolves.
  deepEqual(
    transitionAlerts(transition(0, { from: "low", to: "unknown" }), { pageUrl, firingEndsAtMs: null }),
    [],
  );
  deepEqual(
    transitionAlerts(transition(0, { from: "unknown", to: "medium" }), { pageUrl, firingEndsAtMs: null })
      .map((a) => [a.labels.severity, a.endsAt]),
    [["medium", undefined]],
  );
  deepEqual(
    transitionAlerts(transition(0, { from: "high", to: "low" }), { pageUrl, firingEndsAtMs: null })
      .map((a) => a.labels.severity),
    ["high"],
  );
});

Deno.test("createAlertmanagerTarget() re-sends every active state, at most 500 alerts per POST, with the last boundary sent", async () => {
  const rec = recordingFetch();
  const nowMs = Date.UTC(2026, 0, 1, 12);
  const states: AlertState[] = Array.from({ length: 1200 }, (_, i) => ({
    ...initialState({ signal: `s${i}`, windowSec: 3600 }),
    level: i % 4 === 0 ? "low" : i % 4 === 1 ? "medium" : i % 4 === 2 ? "high" : "unknown",
    sinceMs: nowMs - 600_000,
    why: "why",
  }));
  const target = createAlertmanagerTarget({
    url: "http://am.test:9093",
    pageUrl,
    active: () => states,
    resendMs: 60_000,
    fetch: rec.fetch,
    now: () => nowMs,
  });
  equal(target.resend?.intervalMs, 60_000);
  equal(target.batchSize, MAX_ALERTS_PER_POST / 2);
  // A transition sent first: its boundary goes with the re-sends of that key.
  const t = transition(0, { signal: "s1", from: "low", to: "medium" });
  deepEqual(await target.send([t], new AbortController().signal), { ok: true });
  rec.posts.length = 0;
  deepEqual(await target.resend!.run(new AbortController().signal), { ok: true });
  deepEqual(rec.posts.map((p) => p.alerts.length), [500, 100]);
  ok(rec.posts.every((p) => p.url === "http://am.test:9093/api/v2/alerts"));
  const alerts = rec.posts.flatMap((p) => p.alerts);
  ok(alerts.every((a) => a.labels.severity === "medium" || a.labels.severity === "high"));
  ok(alerts.every((a) => a.startsAt === new Date(nowMs - 600_000).toISOString()));
  ok(alerts.every((a) => a.endsAt === new Date(nowMs + 240_000).toISOString()));
  equal(alerts.find((a) => a.labels.signal === "s1")!.annotations.nearest_boundary, t.nearestBoundary!.text);
  equal(alerts.find((a) => a.labels.signal === "s2")!.annotations.nearest_boundary, "none (not enough data)");
});

Deno.test("createAlertmanagerTarget() sends one alert per label set per POST, the newest", async () => {
  const rec = recordingFetch();
  const target = createAlertmanagerTarget({ url: "http://am.test:9093", pageUrl, fetch: rec.fetch });
  const flap = [
    transition(0, { from: "low", to: "medium" }),
    transition(1, { from: "medium", to: "low" }),
    transition(2, { from: "low", to: "medium" }),
  ];
  await target.send(flap, new AbortController().signal);
  const [{ alerts }] = rec.posts;
  equal(alerts.length, 1);
  equal(alerts[0].startsAt, flap[2].at);
  ok(Date.parse(alerts[0].endsAt!) > Date.now());
});

/** A loopback port free a moment ago: Alertmanager cannot listen on port 0, so the test picks one for it. */
function freeLoopbackPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

interface Notification {
  status: "firing" | "resolved";
  alerts: { status: string; labels: Record<string, string>; endsAt: string }[];
}

interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

Deno.test({
  name:
    "createAlertmanagerTarget() against a real Alertmanager: the receiver sees firing, then resolved; the API shows labels, annotations and generatorURL",
  ignore: !haveAlertmanager && !CI,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "coherence-alertmanager-" });
    const notifications: Notification[] = [];
    const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
      notifications.push(await request.json());
      return new Response(null, { status: 200 });
    });
    const port = freeLoopbackPort();
    await Deno.writeTextFile(
      `${dir}/alertmanager.yml`,
      [
        "route:",
        "  receiver: test",
        "  group_by: [alertname, signal, window, severity]",
        "  group_wait: 100ms",
        "  group_interval: 500ms",
        "  repeat_interval: 1h",
        "receivers:",
        "  - name: test",
        "    webhook_configs:",
        `      - url: http://127.0.0.1:${receiver.addr.port}/alerts`,
        "        send_resolved: true",
        "",
      ].join("\n"),
    );
    const child = new Deno.Command(ALERTMANAGER, {
      args: [
        `--config.file=${dir}/alertmanager.yml`,
        `--storage.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--cluster.listen-address=",
        "--log.level=warn",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let output = "";
    const decoder = new TextDecoder();
    const drained = Promise.all([child.stdout, child.stderr].map(async (stream) => {
      for await (const chunk of stream) output += decoder.decode(chunk, { stream: true });
    }));
    const base = `http://127.0.0.1:${port}`;
    const log = createMemoryTransitionLog();
    const dispatcher = createDispatcher({
      log,
      targets: [createAlertmanagerTarget({ url: base, pageUrl, timeoutMs: 2000 })],
      baseMs: 100,
      capMs: 500,
      pollMs: 0,
    });
    try {
      await until(`Alertmanager ready\n${output}`, async () => {
        try {
          const response = await fetch(`${base}/-/ready`);
          await response.body?.cancel();
          return response.ok;
        } catch {
          return false;
        }
      });
      const atMs = Math.floor(Date.now() / 1000) * 1000;
      const fire = transition(0, { from: "low", to: "high", signal: "pump-3", windowSec: 3600 }, atMs);
      await log.append([fire]);
      dispatcher.start();
      await until("a firing notification", () => notifications.some((n) => n.status === "firing"));
      const firing = notifications.find((n) => n.status === "firing")!;
      deepEqual(firing.alerts.map((a) => a.labels), [
        { alertname: ALERT_NAME, signal: "pump-3", window: "1h", severity: "high" },
      ]);

      const api: ApiAlert[] = await (await fetch(`${base}/api/v2/alerts`)).json();
      equal(api.length, 1);
      deepEqual(api[0].labels, { alertname: ALERT_NAME, signal: "pump-3", window: "1h", severity: "high" });
      deepEqual(api[0].annotations, {
        summary: "Coherence drift risk high for signal pump-3 over 1h",
        description: fire.rule,
        nearest_boundary: fire.nearestBoundary!.text,
      });
      equal(api[0].generatorURL, pageUrl("pump-3", 3600));
      equal(Date.parse(api[0].startsAt), Date.parse(fire.at));
      equal(api[0].status.state, "active");

      // A second later at least (the log orders by time), and not in the future (endsAt then means "until").
      const recoverMs = Math.max(atMs + 1000, Math.floor(Date.now() / 1000) * 1000);
      const recover = transition(
        0,
        { from: "high", to: "low", signal: "pump-3", windowSec: 3600 },
        recoverMs,
      );
      await log.append([recover]);
      dispatcher.wake();
      await until("a resolved notification", () => notifications.some((n) => n.status === "resolved"));
      const resolved = notifications.find((n) => n.status === "resolved")!;
      equal(resolved.alerts.length, 1);
      equal(resolved.alerts[0].labels.severity, "high");
      equal(Date.parse(resolved.alerts[0].endsAt), Date.parse(recover.at));
      equal(dispatcher.status()[0].delivered, 2);
    } finally {
      await dispatcher.stop();
      try {
        child.kill("SIGTERM");
      } catch {
        // Already exited.
      }
      await child.status;
      await drained;
      await receiver.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
