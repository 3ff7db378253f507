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
import {
  BacktestResponseSchema,
  MetricsResponseSchema,
  PredictResponseSchema,
  type StatusSchema,
} from "../../src/schemas.ts";
import { backtestLine, forecastHeadline, forecastSentence } from "../../src/page/format.ts";
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

/**
 * Non-transparent pixels on a chart pane's canvas, and how many are near `color` (`#rrggbb`, drawn opaque):
 * the mean line's blue by default.
 */
function chartInk(page: Page, selector = ".chart-mean canvas", color = "#1d4ed8") {
  return page.evaluate(
    (selector: string, color: string) => {
      const canvas = document.querySelector<HTMLCanvasElement>(selector);
      if (!canvas) return { ink: 0, blue: 0, pixels: 0 };
      const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
      const [r, g, b] = [1, 3, 5].map((at) => parseInt(color.slice(at, at + 2), 16));
      let ink = 0;
      let blue = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        ink++;
        if (Math.abs(data[i] - r) < 24 && Math.abs(data[i + 1] - g) < 24 && Math.abs(data[i + 2] - b) < 24) {
          blue++;
        }
      }
      return { ink, blue, pixels: data.length / 4 };
    },
    selector,
    color,
  );
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
      await page.waitForSelector(".chart-mean[data-drawn='true'] canvas");
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
      match(table[0][1], /^(Low|Medium|High|Unknown)$/);
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
      const backtestResponse = page.waitForResponse((r) =>
        r.url().includes("/coherence/predict/backtest?") && r.url().includes("window=24h")
      );
      await page.select("#select-window", "24h");
      const [series, metrics] = await Promise.all([seriesResponse, metricsResponse]);
      equal((await backtestResponse).status(), 200, "a new window fetches its backtest");
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
      equal(await page.$$eval(".chart canvas", (c) => c.length), 2, "two panes, updated in place");

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
      await page.click("#refresh-button");
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
        document.querySelector(".chart-mean canvas")!.getBoundingClientRect().width < 390
      );
      const phone = await layout();
      ok(phone.sidebar.bottom <= phone.main.top, "the (compact) sidebar stacked above the main panel");
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
      // The range works without JavaScript too: Apply sends it, and the server renders that span.
      await page.select("#select-range", "1h");
      await Promise.all([page.waitForNavigation(), page.click("form.controls button")]);
      equal(new URL(page.url()).searchParams.get("range"), "1h");
      const span = await summarySpan(page);
      ok(span > 0.9 * 3_600_000 && span <= 3_600_000, `the last hour of window ends (${span} ms)`);
    } finally {
      await chromium?.close();
      await service.shutdown();
    }
  },
});

/** Collects console errors, page errors, failed requests and requests leaving 127.0.0.1; and every URL. */
function watch(page: Page): { problems: string[]; requests: string[] } {
  const problems: string[] = [];
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
  return { problems, requests };
}

/**
 * Where the forecast is drawn: pixels of the dashed forecast line (#a21caf, opaque) and of its band (the same
 * colour at 14 % alpha on the transparent canvas) to the right of the measured mean line's last blue pixel (#1d4ed8), by canvas column.
 */
function forecastInk(page: Page) {
  return page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>(".chart-mean canvas")!;
    const { data, width, height } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    const near = (i: number, [r, g, b]: number[], tolerance: number, [minAlpha, maxAlpha] = [200, 256]) =>
      Math.abs(data[i] - r) < tolerance && Math.abs(data[i + 1] - g) < tolerance &&
      Math.abs(data[i + 2] - b) < tolerance && data[i + 3] > minAlpha && data[i + 3] < maxAlpha;
    let lastMeasured = -1;
    const line: number[] = [];
    const band: number[] = [];
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 4;
        if (near(i, [0x1d, 0x4e, 0xd8], 24)) lastMeasured = Math.max(lastMeasured, x);
        if (near(i, [0xa2, 0x1c, 0xaf], 24)) line.push(x);
        if (near(i, [0xa2, 0x1c, 0xaf], 24, [20, 60])) band.push(x);
      }
    }
    return {
      lastMeasured,
      width,
      lineRight: line.filter((x) => x > lastMeasured + 4).length,
      lineLeft: line.filter((x) => x < lastMeasured - 4).length,
      bandRight: band.filter((x) => x > lastMeasured + 4).length,
    };
  });
}

const DATE_TIME = String.raw`\d{4}-\d\d-\d\d (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d`;

/** The series' first and last window ends as the chart summary states them, epoch ms. */
async function summarySpan(page: Page): Promise<number> {
  const text = await page.$eval(".chart-summary", (p) => p.textContent ?? "");
  const found = new RegExp(`window ends from (${DATE_TIME}) to (${DATE_TIME}) UTC`).exec(text);
  ok(found, `the summary names both ends with their dates: ${text}`);
  return Date.parse(`${found[2].replace(" ", "T")}Z`) - Date.parse(`${found[1].replace(" ", "T")}Z`);
}

Deno.test({
  name:
    "the page at a glance in headless Chromium: two synced panes, partial windows, 24-hour readout, pause, range in the URL, phone layout",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!present) throw new Error(`CI=true but ${CHROMIUM_PATH} is missing`);
    const dataDir = await Deno.makeTempDir({ prefix: "coherence-browser-glance-" });
    const service = await startService(loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "csv",
      DATA_DIR: dataDir,
      LOG_LEVEL: "fatal",
    }));
    let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
    let problems: string[] = [];
    try {
      await waitForSnapshots(service.url);
      chromium = await launchChromium({ width: 1400, height: 900 });
      const page = await chromium.browser.newPage();
      const watched = watch(page);
      problems = watched.problems;
      const drawn = async () => {
        await page.waitForSelector(".chart-mean[data-drawn='true'] canvas");
        await page.waitForSelector(".chart-volatility[data-drawn='true'] canvas");
      };
      await page.goto(`${service.url}/?signal=*&window=1h`, { waitUntil: "networkidle0" });
      await drawn();

      // The forecast: a dashed line and its 95 % band past the last measured window end, explained in the legend.
      const projected = await forecastInk(page);
      ok(projected.lastMeasured > 0, `the measured mean is drawn (${JSON.stringify(projected)})`);
      ok(
        projected.lineRight > 20,
        `the dashed forecast has ink right of the last end (${JSON.stringify(projected)})`,
      );
      equal(projected.lineLeft, 0, "the forecast starts at the last window end, not before");
      ok(
        projected.bandRight > 20,
        `the forecast band has ink right of the last end (${JSON.stringify(projected)})`,
      );
      match(
        await page.$eval("[data-testid=legend-forecast]", (li) => li.textContent ?? ""),
        /forecast: (least-squares trend|flat \(no significant trend: the current mean\)), dashed; band: 95 % interval/,
      );

      // The verdict and the backtest say exactly what the API says for the same window end.
      const shownForecast = await page.evaluate(() => {
        const text = (testid: string) => document.querySelector(`[data-testid=${testid}]`)?.textContent ?? "";
        return {
          end: document.querySelector<HTMLElement>("[data-testid=forecast]")!.dataset.end!,
          headline: text("forecast-headline"),
          sentence: text("forecast-sentence"),
          backtest: text("backtest"),
        };
      });
      const apiPredict = PredictResponseSchema.parse(
        await (await fetch(`${service.url}/coherence/predict?signal=*&window=1h&end=${shownForecast.end}`))
          .json(),
      );
      const apiBacktest = BacktestResponseSchema.parse(
        await (await fetch(`${service.url}/coherence/predict/backtest?signal=*&window=1h`)).json(),
      );
      equal(shownForecast.headline, forecastHeadline(apiPredict.forecast));
      equal(shownForecast.sentence, forecastSentence(apiPredict.forecast));
      match(shownForecast.sentence, /^(at [−+]\d|no significant trend|too few points|no trend)/);
      equal(shownForecast.backtest, `Backtest: ${backtestLine(apiBacktest)}`);
      match(
        shownForecast.backtest,
        /^Backtest: trend \d+ % vs naive \d+ % over [\d,]+ past window ends; mean/,
      );

      // Both panes have ink: the mean line, and below it the volatility index with its high cut-off line.
      const mean = await chartInk(page);
      ok(mean.ink > mean.pixels * 0.02 && mean.blue > 50, `the mean pane has ink (${JSON.stringify(mean)})`);
      const volatility = await chartInk(page, ".chart-volatility canvas", "#7c3aed");
      ok(volatility.blue > 50, `the volatility index is drawn (${volatility.blue} purple pixels)`);
      const highCut = await chartInk(page, ".chart-volatility canvas", "#b91c1c");
      ok(highCut.blue > 20, `the 0.25 cut-off is drawn in the volatility pane (${highCut.blue} red pixels)`);

      // Partial windows (the first hour of held data) are hollow grey rings, and the legend says what they are.
      const rings = await chartInk(page, ".chart-mean canvas", "#6b7280");
      ok(rings.blue > 10, `partial-window rings are drawn (${rings.blue} grey pixels)`);
      match(
        await page.$eval("[data-testid=legend-partial]", (li) => li.textContent ?? ""),
        /partial window: n below 50 % of a full window/,
      );

      // The readout: date and 24-hour UTC time; at the left edge, a partial window and why.
      const over = await page.$eval(".chart-mean .u-over", (e) => e.getBoundingClientRect().toJSON());
      await page.mouse.move(over.left + 1, over.top + over.height / 2);
      await page.waitForFunction(() =>
        !document.querySelector("[data-testid=readout]")?.textContent?.startsWith("Latest")
      );
      const edge = await page.$eval("[data-testid=readout]", (p) => p.textContent ?? "");
      match(edge, new RegExp(`^${DATE_TIME} UTC · .* · partial window \\(`));

      // The cursor is synced: hovering the mean pane moves the volatility pane's cursor to the same x.
      await page.mouse.move(over.left + over.width * 0.6, over.top + over.height / 2);
      const cursors = await page.$$eval(
        ".u-cursor-x",
        (lines) =>
          lines.map((l) => ({
            transform: (l as HTMLElement).style.transform,
            off: l.classList.contains("u-off"),
          })),
      );
      equal(cursors.length, 2);
      deepEqual(cursors[0], cursors[1], "both panes' cursors at the same place");
      equal(cursors[1].off, false, "the volatility pane's cursor is shown");
      const middle = await page.$eval("[data-testid=readout]", (p) => p.textContent ?? "");
      match(
        middle,
        new RegExp(`^${DATE_TIME} UTC · mean \\d+\\.\\d\\d ± \\d+\\.\\d\\d · volatility \\d\\.\\d{3} · n`),
      );
      ok(!/\b(AM|PM|am|pm)\b/.test(middle), "no 12-hour clock");
      await page.mouse.move(5, 5);

      // The risk panel's window and the live status use the same clock, with dates.
      match(
        await page.$eval("[data-testid=risk-scope]", (p) => p.textContent ?? ""),
        new RegExp(`, 1h window: ${DATE_TIME} to (?:${DATE_TIME}|\\d\\d:\\d\\d:\\d\\d) UTC$`),
      );
      match(
        await page.$eval(".status", (p) => p.textContent ?? ""),
        new RegExp(`^Live: updated ${DATE_TIME} UTC`),
      );

      // The summary names the dates; the default range is the last 24 h.
      const fullSpan = await summarySpan(page);
      ok(fullSpan > 20 * 3_600_000 && fullSpan <= 24 * 3_600_000, `24 h of window ends (${fullSpan} ms)`);

      // Range: 6 h asks for the last 6 h, shows it, and the address keeps it; a reload (server render) reads it.
      const ranged = page.waitForResponse((r) => r.url().includes("/coherence/series?"));
      await page.select("#select-range", "6h");
      const seriesUrl = new URL((await ranged).url());
      equal(
        Date.parse(seriesUrl.searchParams.get("to")!) - Date.parse(seriesUrl.searchParams.get("from")!),
        6 * 3_600_000,
      );
      equal(new URL(page.url()).searchParams.get("range"), "6h");
      await page.waitForFunction(() =>
        document.querySelector(".chart-summary")?.textContent?.includes(" 120 window ends")
      );
      await page.waitForFunction(() =>
        document.querySelector(".chart-legend summary")?.textContent?.includes("last 6 h")
      );
      ok(await summarySpan(page) <= 6 * 3_600_000, "the chart shows at most 6 h");
      await page.reload({ waitUntil: "networkidle0" });
      await drawn();
      equal(await page.$eval("#select-range", (s) => (s as HTMLSelectElement).value), "6h");
      const span = await summarySpan(page);
      ok(span > 5.9 * 3_600_000 && span <= 6 * 3_600_000, `after a reload, still 6 h (${span} ms)`);

      // Pause stops the live refresh (nothing fetched for more than a poll period) and is in the address.
      await page.waitForFunction(() => document.querySelector("#live-toggle")?.textContent === "Pause live");
      await page.click("#live-toggle");
      await page.waitForFunction(() =>
        document.querySelector("#live-toggle")?.getAttribute("aria-pressed") === "true"
      );
      equal(new URL(page.url()).searchParams.get("live"), "0");
      match(
        await page.$eval(".status", (p) => p.textContent ?? ""),
        new RegExp(`^Paused: showing data from ${DATE_TIME} UTC`),
      );
      const before = watched.requests.filter((url) => url.includes("/coherence/")).length;
      await new Promise((resolve) => setTimeout(resolve, 11_500));
      equal(
        watched.requests.filter((url) => url.includes("/coherence/")).length,
        before,
        "no requests while paused",
      );

      // Resume fetches at once, drops live=0 from the address, and the timer runs again.
      const resumed = page.waitForResponse((r) => r.url().includes("/coherence/series?"), { timeout: 2_000 });
      await page.click("#live-toggle");
      equal((await resumed).status(), 200);
      equal(new URL(page.url()).searchParams.get("live"), null);
      const polled = page.waitForResponse((r) => r.url().includes("/coherence/series?"), { timeout: 12_000 });
      const polledForecast = page.waitForResponse((r) => r.url().includes("/coherence/predict?"), {
        timeout: 12_000,
      });
      equal((await polled).status(), 200, "the next poll comes on its own");
      equal((await polledForecast).status(), 200, "each poll refreshes the forecast");
      equal(
        watched.requests.filter((url) => url.includes("/coherence/predict/backtest")).length,
        0,
        "the backtest is not fetched by polls or range changes (only when the signal or window changes)",
      );

      // A shared paused address opens paused.
      await page.goto(`${service.url}/?signal=*&window=1h&range=6h&live=0`, { waitUntil: "networkidle0" });
      await page.waitForFunction(() => document.querySelector("#live-toggle")?.textContent === "Resume live");

      // Phone, 390 × 844: the verdict in the first screen, no sideways page scrolling, the legend collapsed, the
      // y title fitting its pane, the table's risk column in view.
      await page.setViewport({ width: 390, height: 844 });
      await page.goto(`${service.url}/?signal=*&window=1h`, { waitUntil: "networkidle0" });
      await drawn();
      const phone = await page.evaluate(() => {
        const box = (selector: string) => document.querySelector(selector)!.getBoundingClientRect().toJSON();
        const context = document.createElement("canvas").getContext("2d")!;
        context.font = "bold 12px system-ui, sans-serif";
        const wrap = document.querySelector<HTMLElement>(".table-wrap")!;
        return {
          verdict: box(".risk-level"),
          forecastVerdict: box("[data-testid=forecast-sentence]"),
          scrollWidth: document.documentElement.scrollWidth,
          legendOpen: document.querySelector<HTMLDetailsElement>(".chart-legend")!.open,
          legend: box(".chart-legend"),
          plot: box(".chart-mean .u-over"),
          meanTitle: context.measureText("mean (0–100)").width,
          volatilityPlot: box(".chart-volatility .u-over"),
          volatilityTitle: context.measureText("volatility").width,
          canvas: box(".chart-mean canvas"),
          riskCell: box("table.history tbody tr td:nth-child(2)"),
          wrap: box(".table-wrap"),
          scrolls: wrap.scrollWidth > wrap.clientWidth,
          hintShown:
            getComputedStyle(document.querySelector("[data-testid=scroll-hint]")!).display !== "none",
        };
      });
      ok(
        phone.verdict.bottom < 844,
        `the verdict is in the first screen (bottom ${phone.verdict.bottom} px)`,
      );
      ok(
        phone.forecastVerdict.bottom < 844,
        `the forecast verdict is in the first screen too (bottom ${phone.forecastVerdict.bottom} px)`,
      );
      ok(phone.scrollWidth <= 390, `no sideways page scrolling (${phone.scrollWidth} px)`);
      equal(phone.legendOpen, false, "the legend is collapsed");
      ok(phone.legend.height < 30, `the collapsed legend is one line (${phone.legend.height} px)`);
      ok(phone.canvas.right <= 390, "the chart fits the screen");
      ok(
        phone.meanTitle < phone.plot.height,
        `the mean pane's y title fits (${phone.meanTitle} < ${phone.plot.height})`,
      );
      ok(
        phone.volatilityTitle < phone.volatilityPlot.height,
        `the volatility pane's y title fits (${phone.volatilityTitle} < ${phone.volatilityPlot.height})`,
      );
      ok(phone.plot.left >= 30, `room for the y title and values left of the plot (${phone.plot.left} px)`);
      ok(
        phone.riskCell.right <= phone.wrap.right && phone.riskCell.right <= 390,
        "the risk column is visible without scrolling",
      );
      equal(phone.hintShown, phone.scrolls, "the scroll hint shows exactly when the table scrolls");

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
    }
  },
});

Deno.test({
  name:
    "the verification page in headless Chromium lists the active alerts and marks the selection's transitions",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!present) {
      throw new Error(`CI=true but ${CHROMIUM_PATH} is missing: .ci/run must install chromium`);
    }
    // ALERT_FOR=0: every key is confirmed at the first evaluation, so the fixture's signals fire at once.
    const service = await startService(loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      PERSISTENCE: "none",
      ALERT_FOR: "0",
      LOG_LEVEL: "fatal",
    }));
    let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
    try {
      const alerts = await waitFor("an active alert", async () => {
        const body = await (await fetch(`${service.url}/coherence/alerts?state=active`)).json();
        return body.total > 0 ? body : undefined;
      });
      const [first] = alerts.alerts as { signal: string; window: string; level: string }[];
      chromium = await launchChromium({ width: 1400, height: 900 });
      const page = await chromium.browser.newPage();
      const { problems } = watch(page);
      const query = new URLSearchParams({ signal: first.signal, window: first.window });
      await page.goto(`${service.url}/?${query}`, { waitUntil: "networkidle0" });
      await page.waitForSelector(".chart-mean[data-drawn='true'] canvas");

      // The list: every active alert, worst first, the selected one highlighted, with since and why.
      const rows = await page.$$eval("[data-testid=active-alert]", (items) =>
        items.map((item) => ({
          signal: item.getAttribute("data-signal"),
          window: item.getAttribute("data-window"),
          selected: item.classList.contains("alert-selected"),
          text: item.textContent ?? "",
          visible: item.getBoundingClientRect().height > 0,
        })));
      equal(rows.length, Math.min(alerts.total, 20));
      deepEqual([rows[0].signal, rows[0].window], [first.signal, first.window]);
      ok(rows[0].selected, "the selected key is highlighted");
      ok(rows.every((r) => r.visible), "the list is shown");
      match(
        rows[0].text,
        new RegExp(`${first.level === "high" ? "High" : "Medium"}.*since \\d{4}-\\d\\d-\\d\\d`, "s"),
      );

      // The chart: a marker line drawn on the canvas for the selected key's transition, and listed under it.
      const drawnMarkers = await waitFor(
        "a transition marker drawn",
        () =>
          page.$eval(
            "[data-testid=transition-list]",
            (list) => Number(list.getAttribute("data-markers-drawn")),
          )
            .then((n) => (n > 0 ? n : undefined)),
      );
      ok(drawnMarkers >= 1, `${drawnMarkers} marker(s) drawn`);
      const listed = await page.$eval("[data-testid=transition-list]", (list) => list.textContent ?? "");
      match(listed, new RegExp(`Unknown → ${first.level === "high" ? "High" : "Medium"}`));

      // Clicking another alert selects it (the chart and the list follow, no page load).
      if (rows.length > 1) {
        const second = rows[1];
        const answered = page.waitForResponse((r) => r.url().includes("/coherence/transitions?"));
        await page.click(
          `[data-testid=active-alert][data-signal="${second.signal}"][data-window="${second.window}"] a`,
        );
        equal((await answered).status(), 200);
        await page.waitForFunction(
          (signal: string, window: string) => {
            const url = new URL(location.href);
            return url.searchParams.get("signal") === signal && url.searchParams.get("window") === window;
          },
          {},
          second.signal ?? "",
          second.window ?? "",
        );
      }
      equal(problems.length, 0, `no console errors or failed requests:\n${problems.join("\n")}`);
    } finally {
      await chromium?.close();
      await service.shutdown();
    }
  },
});
