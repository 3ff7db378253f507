/**
 * `/docs` in real headless Chromium: Swagger UI, served by the service itself, renders every operation of
 * /openapi.json under the service's strict CSP (no inline script, no eval, no third-party request), and "Try
 * it out" runs a real request.
 *
 * Without Chromium the test is skipped with a loud warning, except under CI=true, where that is a failure.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from "../page/chromium.ts";

const CI = Deno.env.get("CI") === "true";
const present = await chromiumInstalled();
if (!present && !CI) {
  console.warn(
    `\n!!! ${CHROMIUM_PATH} not found: SKIPPING the real-browser test of /docs.\n` +
      "!!! Install it with: apt-get update && apt-get install -y chromium   (CI=true makes this a failure)\n",
  );
}

Deno.test({
  name: "/docs renders Swagger UI from local assets under the CSP, lists every operation and runs one",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const service = await startService(loadConfig({ PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "none" }));
    const browser = await launchChromium();
    try {
      const page = await browser.browser.newPage();
      const problems: string[] = [];
      const origin = new URL(service.url).origin;
      page.on("console", (message) => {
        if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error}`));
      page.on("response", (answer) => {
        if (answer.status() >= 400) problems.push(`${answer.status()} for ${answer.url()}`);
      });
      page.on("request", (request) => {
        const url = request.url();
        if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) {
          problems.push(`request left the service: ${url}`);
        }
      });
      const response = await page.goto(`${service.url}/docs`, { waitUntil: "networkidle0" });
      equal(response?.status(), 200);
      ok(response?.headers()["content-security-policy"]?.includes("script-src 'self'"));
      await page.waitForSelector(".opblock-summary-path", { timeout: 15_000 });

      const documented = await (await fetch(`${service.url}/openapi.json`)).json();
      const expected = Object.entries(documented.paths as Record<string, Record<string, unknown>>)
        .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
        .sort();
      const shown = (await page.$$eval(".opblock-summary", (blocks) =>
        blocks.map((block) => {
          const method = block.querySelector(".opblock-summary-method")?.textContent ?? "";
          const path = block.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
          return `${method.trim()} ${path}`;
        }))).sort();
      deepEqual(shown, expected);

      // Try it out on /health: a real request from the page, through the CSP's connect-src 'self'.
      await page.click("#operations-system-getHealth .opblock-summary-control");
      await page.waitForSelector("#operations-system-getHealth .try-out__btn");
      await page.click("#operations-system-getHealth .try-out__btn");
      await page.click("#operations-system-getHealth .execute");
      await page.waitForSelector("#operations-system-getHealth .live-responses-table .response-col_status");
      const status = await page.$eval(
        "#operations-system-getHealth .live-responses-table .response .response-col_status",
        (cell) => cell.textContent?.trim(),
      );
      equal(status, "200");
      deepEqual(problems, []);
    } finally {
      await browser.close();
      await service.shutdown();
    }
  },
});
