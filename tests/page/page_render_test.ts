/** `GET /` rendered on the server (through `app.request`, no live server) and `GET /static/*`. */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import { isIslandName, ISLANDS } from "../../islands/registry.ts";
import type { AppEnv } from "../../src/http/env.ts";
import { IMMUTABLE, REVALIDATE } from "../../src/http/static_assets.ts";
import { jsonForScript } from "../../src/http/page_document.tsx";
import { createPageAssets, pageRoutes } from "../../src/http/page_routes.ts";
import type { PageConfig } from "../../src/page/types.ts";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import {
  BacktestResponseSchema,
  MetricsResponseSchema,
  PredictResponseSchema,
  ProblemSchema,
} from "../../src/schemas.ts";
import { backtestLine, forecastHeadline, forecastSentence } from "../../src/page/format.ts";
import { series, T0, testAlerts, testApp, testConfig } from "../helpers.ts";

const points = [
  ...series("alpha", T0, 120, (i) => 85 + (i % 5)),
  ...series("gamma", T0, 120, (i) => (i % 2 === 0 ? 30 : 70)),
];

function decodeAttribute(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** Each island wrapper's name and parsed props, in page order. */
function islandsOf(html: string): { name: string; props: Record<string, unknown> }[] {
  return [...html.matchAll(/<div [^>]*data-island="([^"]+)" data-props="([^"]*)"/g)].map((m) => ({
    name: m[1],
    props: JSON.parse(decodeAttribute(m[2])),
  }));
}

function pageConfigOf(html: string): PageConfig {
  const match = /<script type="application\/json" id="page-config">(.*?)<\/script>/s.exec(html);
  ok(match, "the page config block is present");
  return JSON.parse(match[1]);
}

/** The history table's body rows. */
function tableRows(html: string): string[] {
  const body = /<tbody>(.*?)<\/tbody>/s.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => m[1]);
}

async function pageWithHistory(path = "/", env: Record<string, string> = {}) {
  const snapshots = openSqliteStore(":memory:");
  // Alert states from evaluations a minute apart up to T0: with ALERT_FOR=2m each key fires at T0 − 1m.
  const ends = [3, 2, 1, 0].map((m) => T0 - m * 60_000);
  const alerts = await testAlerts(points, testConfig({ PERSISTENCE: "sqlite", ...env }), ends);
  const built = testApp({ points, env: { PERSISTENCE: "sqlite", ...env }, snapshots, alerts });
  await built.snapshotter.afterCycle();
  const response = await built.app.request(path);
  return { ...built, response, html: await response.text(), close: () => snapshots.close() };
}

Deno.test("GET / renders the page on the server with the risk panel and the history table", async () => {
  const { app, response, html, close } = await pageWithHistory();
  try {
    equal(response.status, 200);
    match(response.headers.get("content-type") ?? "", /^text\/html; charset=utf-8$/i);
    equal(response.headers.get("cache-control"), "no-cache");
    const csp = response.headers.get("content-security-policy") ?? "";
    match(csp, /script-src 'self'/, "a strict CSP (from the app's middleware)");
    ok(!csp.includes("unsafe-inline"));
    ok(response.headers.get("x-request-id"));

    const metrics = MetricsResponseSchema.parse(
      await (await app.request("/coherence/metrics?window=1h")).json(),
    );
    match(html, /<p class="risk-level risk-(low|medium|high|unknown)" data-risk="\w+">/);
    ok(html.includes(`data-risk="${metrics.predictedDriftRisk}"`), "the risk of the pooled 1h window");
    const textOf = (testId: string) =>
      decodeAttribute(new RegExp(`data-testid="${testId}">(.*?)</p>`).exec(html)?.[1] ?? "");
    equal(textOf("rule"), metrics.explain.rule.text);
    equal(textOf("boundary"), metrics.explain.nearestBoundary?.text);
    ok(html.includes('id="export-json"'), "the export link");
    match(
      html,
      /href="\/coherence\/metrics\?signal=\*&amp;window=1h"/,
      "export works without JavaScript too",
    );

    const rows = tableRows(html);
    equal(rows.length, 1, "one pooled 1h snapshot was written");
    match(rows[0], /<time dateTime="2025-10-29T17:00:00(\.000)?Z">2025-10-29 17:00:00 UTC<\/time>/i);
    ok(!html.includes('data-testid="history-empty"'));
    match(html, /from the sqlite store \(active\)/);
  } finally {
    await close();
  }
});

Deno.test("GET / wraps each island with its name and plain-JSON props, and they render the same markup", async () => {
  const { html, close } = await pageWithHistory();
  try {
    const islands = islandsOf(html);
    deepEqual(
      islands.map((i) => i.name),
      ["Controls", "RiskPanel", "TrendChart", "AlertList", "HistoryTable"],
      "verdict before the chart in reading order",
    );
    for (const { name, props } of islands) {
      ok(isIslandName(name));
      // What the client's hydrate() renders from the same props must equal the server's markup.
      // deno-lint-ignore no-explicit-any
      const markup = renderToString(h(ISLANDS[name] as any, props));
      ok(html.includes(markup), `${name} re-renders identically from its data-props`);
    }
    const config = pageConfigOf(html);
    deepEqual(config.selection, { signal: "*", window: "1h", store: "sqlite", range: "24h" });
    equal(config.pollMs, 10_000);
  } finally {
    await close();
  }
});

Deno.test("GET / lists the active alerts (worst first, with since and why) and marks the selection's transitions", async () => {
  const { html, close } = await pageWithHistory("/?signal=gamma&window=1h");
  try {
    const active = /data-testid="active-alerts">(.*?)<\/ul>/s.exec(html)?.[1] ?? "";
    const rows = [...active.matchAll(/data-signal="([^"]*)" data-window="([^"]*)"/g)].map((m) =>
      `${m[1]}/${m[2]}`
    );
    deepEqual(
      rows,
      ["*/1h", "*/24h", "gamma/1h", "gamma/24h"],
      "the pooled keys and gamma are high; alpha is low",
    );
    match(active, /alert risk-high alert-selected/);
    match(active, /since <time datetime="2025-10-29T16:59:00Z">2025-10-29 16:59:00 UTC/);
    match(active, /mean 50 &lt; 60/);
    const list = /data-testid="transition-list"[^>]*>(.*?)<\/ul>/s.exec(html)?.[1] ?? "";
    match(list, /class="transition transition-high">2025-10-29 16:59(:00)? UTC: Unknown → High/);
    ok(html.includes('data-testid="legend-transitions"'));
    ok(!html.includes('data-testid="pending-alerts"'), "nothing pending");
  } finally {
    await close();
  }
});

Deno.test("GET / lists pending alerts with the level they wait on", async () => {
  const { html, close } = await pageWithHistory("/", { ALERT_FOR: "10m" });
  try {
    const pending = /data-testid="pending-alerts">(.*?)<\/ul>/s.exec(html)?.[1] ?? "";
    match(pending, /pending High.*gamma/s);
    match(html, /data-testid="alerts-empty">No active alert/);
    match(html, /a new level must hold for 10m before it fires/);
  } finally {
    await close();
  }
});

Deno.test("GET / puts nothing inline that a strict CSP would block", async () => {
  const { html, close } = await pageWithHistory();
  try {
    const scripts = [...html.matchAll(/<script([^>]*)>(.*?)<\/script>/gs)];
    equal(scripts.length, 2);
    for (const [, attributes, body] of scripts) {
      const external = /\bsrc="\/static\/islands\.js\?v=[0-9a-f]{16}"/.test(attributes) && body === "";
      const data = /type="application\/json"/.test(attributes);
      ok(external || data, `script ${attributes} is external or JSON data`);
    }
    ok(!/\son[a-z]+=/i.test(html), "no inline event handlers");
    ok(!/\sstyle=/i.test(html), "no style attributes");
    ok(!/<style/i.test(html), "no style elements");
    match(html, /<link rel="stylesheet" href="\/static\/uPlot\.min\.css\?v=[0-9a-f]{16}"\/>/);
    match(html, /<link rel="stylesheet" href="\/static\/page\.css\?v=[0-9a-f]{16}"\/>/);
    ok(
      !/https?:\/\//.test(html.replace(/https:\/\/coherence-engine\.dev\/problems\/[\w-]+/g, "")),
      "no URLs",
    );
  } finally {
    await close();
  }
});

Deno.test("GET / has a label for every select and native controls", async () => {
  const { html, close } = await pageWithHistory();
  try {
    for (const id of ["select-signal", "select-window", "select-store"]) {
      match(html, new RegExp(`<label for="${id}">[^<]+</label>`));
      match(html, new RegExp(`<select id="${id}"`));
    }
    match(html, /<option selected value="\*">all signals \(\*\)<\/option>/);
    match(html, /<option value="alpha">alpha \(120 points\)<\/option>/);
    match(html, /<option selected value="1h">1h \(configured\)<\/option>/);
    match(html, /<option value="5m">5m<\/option>/);
    match(html, /<option selected value="sqlite">sqlite \(active\)<\/option>/);
    match(html, /<option value="none">none<\/option>/);
    match(html, /<form class="controls" method="get" action="\/"/);
    match(html, /<button type="submit" class="button" id="refresh-button">Apply<\/button>/);
  } finally {
    await close();
  }
});

Deno.test("GET /?signal=&window=&store= renders that selection", async () => {
  const { html, close } = await pageWithHistory("/?signal=gamma&window=5m&store=none");
  try {
    deepEqual(pageConfigOf(html).selection, { signal: "gamma", window: "5m", store: "none", range: "24h" });
    match(html, /data-risk="high"/);
    match(html, /<option selected value="gamma">/);
    match(html, /<option selected value="5m">/);
    match(html, /<p class="empty" data-testid="history-empty">No snapshots: the none store keeps nothing/);
    equal(tableRows(html).length, 0);
  } finally {
    await close();
  }
});

Deno.test("GET /?range=6h&live=0 renders that range (series, select, legend) and starts paused", async () => {
  const { html, close } = await pageWithHistory("/?signal=alpha&window=1h&range=6h&live=0");
  try {
    const config = pageConfigOf(html);
    equal(config.selection.range, "6h");
    equal(config.live, false);
    match(html, /<option selected value="6h">last 6 h<\/option>/);
    match(html, /<input type="hidden" name="live" value="0"\/>/, "Apply keeps the pause");
    const { series } = islandsOf(html).find((i) => i.name === "TrendChart")!.props as {
      series: { from: string; to: string; stepSec: number };
    };
    // Whole-second steps: the ends span the last 6 h less what the rounding of the step leaves out (< 1 step).
    const spanMs = Date.parse(series.to) - Date.parse(series.from);
    ok(
      spanMs <= 6 * 3_600_000 && spanMs > 6 * 3_600_000 - series.stepSec * 1000,
      `the series spans the last 6 h`,
    );
    equal(series.to, "2025-10-29T17:00:00Z", "the range ends at the service's clock");
    match(html, /Legend · last 6 h of window ends/);
    const plain = await pageWithHistory("/");
    plain.close();
    const live = pageConfigOf(plain.html);
    equal(live.live, true);
    equal(live.selection.range, "24h");
  } finally {
    await close();
  }
});

Deno.test("GET / with an unknown signal or a bad window falls back to the defaults and says so", async () => {
  const { response, html, close } = await pageWithHistory("/?signal=zeta&window=5x");
  try {
    equal(response.status, 200);
    deepEqual(pageConfigOf(html).selection, { signal: "*", window: "1h", store: "sqlite", range: "24h" });
    match(
      html,
      /<ul class="problems" aria-label="Problems"><li>Unknown signal &quot;zeta&quot;: showing all/,
    );
    match(html, /Cannot parse window &quot;5x&quot;/);
  } finally {
    await close();
  }
});

Deno.test("GET / with no data at all still renders, with unknown risk and the reason", async () => {
  const { app } = testApp({ env: { PERSISTENCE: "none" } });
  const response = await app.request("/");
  const html = await response.text();
  equal(response.status, 200);
  match(html, /data-risk="unknown"/);
  match(html, /Drift risk unknown: not enough data/);
  match(html, /<code>no_data<\/code>/);
  match(html, /No snapshots: the none store keeps nothing/);
});

/** The page alone on an API fake, to see how it copes when parts of the API are missing or failing. */
function pageOnFakeApi(answer: (path: string) => Response | null) {
  const { app: real, config } = testApp({ points });
  const page = new Hono<AppEnv>();
  page.use(requestId({ headerName: "X-Request-ID" }));
  const seen: { path: string; requestId: string | null }[] = [];
  page.route(
    "/",
    pageRoutes({ config, source: { kind: "mock_file" } }, {
      api: {
        request(path, init) {
          seen.push({ path, requestId: new Headers(init?.headers).get("X-Request-ID") });
          return answer(path) ?? real.request(path, init);
        },
      },
    }),
  );
  return { page, seen };
}

Deno.test("GET / says there are no snapshots yet when the service has no history route", async () => {
  const { page } = pageOnFakeApi((path) =>
    path.startsWith("/coherence/history") ? Response.json({ title: "Not found" }, { status: 404 }) : null
  );
  const html = await (await page.request("/")).text();
  match(
    html,
    /No snapshots yet: the history could not be read \(this service has no \/coherence\/history route\)/,
  );
  match(html, /data-risk="\w+"/, "the risk panel still renders");
});

Deno.test("GET / shows the API's problem detail when the metrics fail, and still renders the rest", async () => {
  const { page } = pageOnFakeApi((path) =>
    path.startsWith("/coherence/metrics")
      ? Response.json({ detail: "The service failed to answer; the error is logged" }, { status: 500 })
      : null
  );
  const response = await page.request("/");
  const html = await response.text();
  equal(response.status, 200);
  match(html, /The metrics for all signals \(\*\) over 1h could not be loaded/);
  match(html, /<li>metrics: The service failed to answer; the error is logged<\/li>/);
  match(html, /data-island="TrendChart"/);
});

Deno.test("GET / fetches its data in-process with the page request's id", async () => {
  const { page, seen } = pageOnFakeApi(() => null);
  const response = await page.request("/", { headers: { "X-Request-ID": "page-1" } });
  await response.body?.cancel();
  deepEqual(seen.map((s) => s.path.split("?")[0]).sort(), [
    "/coherence/alerts",
    "/coherence/alerts",
    "/coherence/history",
    "/coherence/metrics",
    "/coherence/predict",
    "/coherence/predict/backtest",
    "/coherence/series",
    "/coherence/signals",
    "/coherence/transitions",
  ]);
  ok(seen.every((s) => s.requestId === "page-1"));
});

Deno.test("jsonForScript() cannot close the script element or open a comment", () => {
  const text = jsonForScript({ a: "</script><!-- \u2028" });
  ok(!text.includes("<"));
  deepEqual(JSON.parse(text), { a: "</script><!-- \u2028" });
});

Deno.test("GET /static/* serves the bundle and styles with content types and cache headers", async () => {
  const { app } = testApp();
  const types: Record<string, RegExp> = {
    "islands.js": /^text\/javascript; charset=utf-8$/,
    "uPlot.min.css": /^text\/css; charset=utf-8$/,
    "page.css": /^text\/css; charset=utf-8$/,
    "favicon.svg": /^image\/svg\+xml$/,
  };
  const html = await (await app.request("/")).text();
  for (const [name, type] of Object.entries(types)) {
    const linked = new RegExp(`/static/${name.replace(".", "\\.")}\\?v=([0-9a-f]{16})`).exec(html);
    ok(linked, `the page links ${name} with its hash`);
    const versioned = await app.request(linked[0]);
    equal(versioned.status, 200, name);
    match(versioned.headers.get("content-type") ?? "", type);
    equal(versioned.headers.get("cache-control"), IMMUTABLE);
    equal(versioned.headers.get("etag"), `"${linked[1]}"`);
    equal(versioned.headers.get("x-content-type-options"), "nosniff");
    const body = new Uint8Array(await versioned.arrayBuffer());
    equal(Number(versioned.headers.get("content-length")), body.byteLength);
    deepEqual(body, await Deno.readFile(new URL(`../../static/${name}`, import.meta.url)));

    const plain = await app.request(`/static/${name}`);
    equal(plain.headers.get("cache-control"), REVALIDATE, "an unversioned URL revalidates");
    await plain.body?.cancel();
    const stale = await app.request(`/static/${name}?v=0000000000000000`);
    equal(stale.headers.get("cache-control"), REVALIDATE, "an old version revalidates");
    await stale.body?.cancel();

    const notModified = await app.request(`/static/${name}`, {
      headers: { "If-None-Match": `"${linked[1]}"` },
    });
    equal(notModified.status, 304);
    equal(notModified.headers.get("etag"), `"${linked[1]}"`);
    equal(await notModified.text(), "");
  }
});

Deno.test("GET /static/* serves only the listed assets", async () => {
  const { app } = testApp();
  for (
    const path of ["/static/nope.js", "/static/..%2Fdeno.json", "/static/%2e%2e%2fdeno.json", "/static/"]
  ) {
    const response = await app.request(path);
    equal(response.status, 404, path);
    if (path !== "/static/") {
      equal(response.headers.get("content-type"), "application/problem+json");
      ProblemSchema.parse(await response.json());
    } else await response.body?.cancel();
  }
});

Deno.test("createPageAssets() reads each file once and retries a missing one", async () => {
  const reads: string[] = [];
  let present = false;
  const assets = createPageAssets({
    dir: "/assets",
    readFile: (path) => {
      reads.push(path);
      if (!present) return Promise.reject(new Deno.errors.NotFound(path));
      return Promise.resolve(new TextEncoder().encode("body{}"));
    },
  });
  equal(await assets.url("page.css"), "/static/page.css");
  present = true;
  match(await assets.url("page.css"), /^\/static\/page\.css\?v=[0-9a-f]{16}$/);
  await assets.get("page.css");
  equal(reads.length, 2);
  equal(await assets.get("secret.txt"), null);
  equal(reads.length, 2, "unlisted names are never read");
});

Deno.test("GET / renders the forecast verdict and the backtest line in the HTML (no JavaScript needed)", async () => {
  const { app, html, close } = await pageWithHistory("/?signal=alpha&window=1h");
  try {
    const end = /data-testid="forecast" data-end="([^"]+)"/.exec(html)?.[1];
    ok(end, "the forecast block names the window end it is for");
    const predict = PredictResponseSchema.parse(
      await (await app.request(`/coherence/predict?signal=alpha&window=1h&end=${end}`)).json(),
    );
    const backtest = BacktestResponseSchema.parse(
      await (await app.request("/coherence/predict/backtest?signal=alpha&window=1h")).json(),
    );
    const text = (testid: string) =>
      decodeAttribute(new RegExp(`data-testid="${testid}"[^>]*>(.*?)</p>`, "s").exec(html)?.[1] ?? "")
        .replace(/<[^>]+>/g, "");
    equal(text("forecast-headline"), forecastHeadline(predict.forecast));
    equal(text("forecast-sentence"), forecastSentence(predict.forecast));
    equal(text("backtest"), `Backtest: ${backtestLine(backtest)}`);
    const islands = islandsOf(html);
    const risk = islands.find((island) => island.name === "RiskPanel")!;
    const chart = islands.find((island) => island.name === "TrendChart")!;
    const forecastOf = (props: Record<string, unknown>) =>
      PredictResponseSchema.parse(props.predict).forecast;
    deepEqual(forecastOf(risk.props), predict.forecast, "the islands start from the same forecast");
    deepEqual(forecastOf(chart.props), predict.forecast);
    const shownBacktest = BacktestResponseSchema.parse(risk.props.backtest);
    deepEqual(shownBacktest.trend, backtest.trend);
    deepEqual(shownBacktest.naive, backtest.naive);
  } finally {
    close();
  }
});
