/**
 * The verification page in real headless Chromium (Debian's `/usr/bin/chromium`, driven by puppeteer-core), on
 * the real server with the bundled fixture and a CSV snapshot store in a temporary directory.
 *
 * Without Chromium the test is skipped with a loud warning, except under CI=true, where that is a failure.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import type { HTTPRequest, Page } from "puppeteer-core";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { MetricsResponseSchema, type StatusSchema } from "../../src/schemas.ts";
import { CHROMIUM_PATH, launchChromium } from "./chromium.ts";
import type { z } from "zod";

const CI = Deno.env.get("CI") === "true";

function chromiumPresent(): boolean {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
}

const present = chromiumPresent();
if (!present && !CI) {
  console.warn(
    `\n!!! ${CHROMIUM_PATH} not found: SKIPPING the real-browser test of the verification page.\n` +
      "!!! Install it with: apt-get update && apt-get install -y chromium   (CI=true makes this a failure)\n",
  );
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

async function waitForSnapshots(url: string): Promise<void> {
  await waitFor("a snapshot write", async () => {
    const status: z.infer<typeof StatusSchema> = await (await fetch(`${url}/status`)).json();
    return status.persistence.rowsWritten > 0 ? true : undefined;
  });
}

/** Non-transparent pixels on the chart's canvas, and how many are the mean line's blue. */
function chartInk(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(".chart canvas");
    if (!canvas) return { ink: 0, blue: 0, pixels: 0 };
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    let blue = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] === 0) continue;
      ink++;
      // #1d4ed8, the mean line (drawn opaque)
      if (
        Math.abs(data[i] - 0x1d) < 24 && Math.abs(data[i + 1] - 0x4e) < 24 &&
        Math.abs(data[i + 2] - 0xd8) < 24
      ) {
        blue++;
      }
    }
    return { ink, blue, pixels: data.length / 4 };
  });
}

/** True when a request stays on this machine (blob: and data: URLs never leave the page). */
function isLocal(request: HTTPRequest): boolean {
  const url = new URL(request.url());
  if (url.protocol === "data:") return true;
  if (url.protocol === "blob:") return new URL(url.pathname).hostname === "127.0.0.1";
  return url.hostname === "127.0.0.1";
}

Deno.test({
  name: "the verification page in headless Chromium: chart, risk panel, table, live selection and export",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!present) {
      throw new Error(`CI=true but ${CHROMIUM_PATH} is missing: .ci/run must install chromium`);
    }
    const dataDir = await Deno.makeTempDir({ prefix: "coherence-browser-data-" });
    const downloads = await Deno.makeTempDir({ prefix: "coherence-browser-downloads-" });
    const service = await startService(loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "csv",
      DATA_DIR: dataDir,
      LOG_LEVEL: "fatal",
    }));
    let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
    const problems: string[] = [];
    try {
      await waitForSnapshots(service.url);
      chromium = await launchChromium({ width: 1400, height: 900 });
      const page = await chromium.browser.newPage();

      const requests: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error}`));
      page.on("request", (request) => {
        requests.push(request.url());
        if (!isLocal(request)) problems.push(`request left 127.0.0.1: ${request.url()}`);
      });
      page.on("response", (response) => {
        if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
      });
      const cdp = await page.createCDPSession();
      await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: downloads });

      // Load: everything from the service itself, the chart drawn with ink, the islands hydrated.
      const response = await page.goto(`${service.url}/`, { waitUntil: "networkidle0" });
      equal(response?.status(), 200);
      await page.waitForSelector(".chart[data-drawn='true'] canvas");
      await page.waitForFunction(() =>
        document.querySelector("form.controls button")?.textContent === "Refresh now"
      );
      const ink = await chartInk(page);
      ok(ink.ink > ink.pixels * 0.02, `the chart has ink (${ink.ink} of ${ink.pixels} pixels)`);
      ok(ink.blue > 50, `the mean line is drawn (${ink.blue} blue pixels)`);
      for (const asset of ["islands.js", "page.css", "uPlot.min.css"]) {
        ok(requests.some((url) => url.includes(`/static/${asset}?v=`)), `${asset} loaded from the service`);
      }

      // Risk panel: the level in colour and words, the rule and nearest boundary exactly as the API gave them.
      const risk = await page.evaluate(() => {
        const props = JSON.parse(
          document.querySelector<HTMLElement>("[data-island=RiskPanel]")!.dataset.props!,
        );
        const level = document.querySelector<HTMLElement>(".risk-level")!;
        return {
          props,
          level: level.dataset.risk,
          words: level.textContent,
          color: getComputedStyle(level).color,
          rule: document.querySelector("[data-testid=rule]")?.textContent,
          boundary: document.querySelector("[data-testid=boundary]")?.textContent,
        };
      });
      const shown = MetricsResponseSchema.parse(risk.props.metrics);
      equal(risk.level, shown.predictedDriftRisk);
      match(risk.words ?? "", new RegExp(`${shown.predictedDriftRisk}`, "i"));
      ok(risk.color !== "rgb(17, 24, 39)", `the level is coloured (${risk.color})`);
      equal(risk.rule, shown.explain.rule.text);
      equal(risk.boundary, shown.explain.nearestBoundary?.text);

      // Table: snapshot rows from the active CSV store, newest first.
      const table = await page.$$eval(
        "table.history tbody tr",
        (rows) => rows.map((row) => Array.from(row.querySelectorAll("td"), (cell) => cell.textContent ?? "")),
      );
      ok(table.length >= 1, "the history table has rows");
      match(table[0][0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      match(table[0][5], /^(Low|Medium|High|Unknown)$/);
      match(
        await page.$eval(
          "#select-store",
          (s) => (s as HTMLSelectElement).selectedOptions[0].textContent ?? "",
        ),
        /^csv \(active\)$/,
      );

      // Changing the window fetches the new selection at once (no reload) and redraws.
      const title = await page.$eval("#chart-title", (h) => h.textContent);
      equal(title, "coherenceMean over rolling 1h windows");
      const seriesResponse = page.waitForResponse((r) =>
        r.url().includes("/coherence/series?") && r.url().includes("window=24h")
      );
      const metricsResponse = page.waitForResponse((r) =>
        r.url().includes("/coherence/metrics?") && r.url().includes("window=24h")
      );
      await page.select("#select-window", "24h");
      const [series, metrics] = await Promise.all([seriesResponse, metricsResponse]);
      equal(series.status(), 200);
      const metrics24h = MetricsResponseSchema.parse(await metrics.json());
      equal(metrics24h.windowSec, 86400);
      await page.waitForFunction(() =>
        document.querySelector("#chart-title")?.textContent === "coherenceMean over rolling 24h windows"
      );
      await page.waitForFunction(
        (rule: string) => document.querySelector("[data-testid=rule]")?.textContent === rule,
        {},
        metrics24h.explain.rule.text,
      );
      equal(new URL(page.url()).searchParams.get("window"), "24h", "the address keeps the selection");
      ok((await chartInk(page)).ink > ink.pixels * 0.02, "the chart still has ink after setData");
      equal(await page.$$eval(".chart canvas", (c) => c.length), 1, "one chart, updated in place");

      // Export downloads the metrics shown, valid against the API schema.
      await page.click("#export-json");
      const file = await waitFor("the exported file", async () => {
        for await (const entry of Deno.readDir(downloads)) {
          if (entry.name.endsWith(".json")) return join(downloads, entry.name);
        }
      });
      match(file, /coherence-metrics_all_24h_.*\.json$/);
      const exported = MetricsResponseSchema.parse(JSON.parse(await Deno.readTextFile(file)));
      equal(exported.windowSec, 86400);
      equal(exported.signal, "*");
      equal(exported.explain.rule.text, metrics24h.explain.rule.text);

      // Another store: the none store keeps nothing, and the table says so.
      const history = page.waitForResponse((r) =>
        r.url().includes("/coherence/history?") && r.url().includes("store=none")
      );
      await page.select("#select-store", "none");
      equal((await history).status(), 200);
      await page.waitForSelector("[data-testid=history-empty]");
      match(await page.$eval("[data-testid=history-empty]", (p) => p.textContent ?? ""), /keeps nothing/);

      // "Refresh now" (the live refresh, which also runs every 10 s) fetches again without a reload.
      const again = page.waitForResponse((r) => r.url().includes("/coherence/series?"));
      await page.click("form.controls button");
      equal((await again).status(), 200);

      // One signal: the select lists the fixture's signals.
      const signals = await page.$$eval("#select-signal option", (options) => options.map((o) => o.value));
      deepEqual(signals, ["*", "alpha", "beta", "delta", "gamma"]);

      // Keyboard: the controls are reachable with Tab and show a focus ring.
      await page.focus("#select-signal");
      await page.keyboard.press("Tab");
      equal(await page.evaluate(() => document.activeElement?.id), "select-window");
      const outline = await page.$eval("#select-window", (s) => getComputedStyle(s).outlineStyle);
      equal(outline, "solid", "visible focus");

      // Layout: sidebar beside the main panel at 1400 px; stacked on top, without sideways scrolling, on a phone.
      const layout = () =>
        page.evaluate(() => {
          const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect();
          return {
            sidebar: box(".sidebar").toJSON(),
            main: box(".main").toJSON(),
            scrollWidth: document.documentElement.scrollWidth,
          };
        });
      const wide = await layout();
      ok(wide.sidebar.right <= wide.main.left, "sidebar left of the main panel");
      equal(wide.scrollWidth, 1400);
      await page.setViewport({ width: 390, height: 844 });
      await page.waitForFunction(() =>
        document.querySelector(".chart canvas")!.getBoundingClientRect().width < 390
      );
      const phone = await layout();
      ok(phone.sidebar.bottom <= phone.main.top, "sidebar stacked above the main panel");
      ok(phone.scrollWidth <= 390, `no sideways scrolling on a phone (${phone.scrollWidth} px)`);

      equal(
        problems.length,
        0,
        `no console errors, failed requests or requests leaving 127.0.0.1:\n${problems.join("\n")}`,
      );
    } finally {
      if (problems.length > 0) console.error(`browser problems seen:\n${problems.join("\n")}`);
      await chromium?.close();
      await service.shutdown();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
      await Deno.remove(downloads, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "the verification page without JavaScript still shows the risk panel and the table",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!present) throw new Error(`CI=true but ${CHROMIUM_PATH} is missing`);
    const service = await startService(loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "none",
      LOG_LEVEL: "fatal",
    }));
    let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      chromium = await launchChromium();
      const page = await chromium.browser.newPage();
      await page.setJavaScriptEnabled(false);
      await page.goto(`${service.url}/?signal=gamma&window=24h`, { waitUntil: "load" });
      equal(await page.$eval(".risk-level", (p) => (p as HTMLElement).dataset.risk), "high");
      match(await page.$eval("[data-testid=rule]", (p) => p.textContent ?? ""), /^high because/);
      match(await page.$eval("[data-testid=history-empty]", (p) => p.textContent ?? ""), /keeps nothing/);
      match(await page.$eval(".chart-summary", (p) => p.textContent ?? ""), /draws with JavaScript/);
      equal(await page.$eval("form.controls button", (b) => b.textContent), "Apply");
      // The form works without JavaScript: Apply reloads with the chosen selection.
      await page.select("#select-signal", "alpha");
      await Promise.all([page.waitForNavigation(), page.click("form.controls button")]);
      equal(new URL(page.url()).searchParams.get("signal"), "alpha");
      equal(await page.$eval(".risk-level", (p) => (p as HTMLElement).dataset.risk), "low");
    } finally {
      await chromium?.close();
      await service.shutdown();
    }
  },
});
