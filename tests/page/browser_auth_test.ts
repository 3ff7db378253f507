/**
 * With API_TOKEN set, a person who has the token signs in through the form and then uses the page as usual,
 * in real headless Chromium. Skipped loudly without Chromium, except under CI=true (then a failure).
 */
import { equal, match, ok } from "node:assert/strict";
import { loadConfig } from "../../src/config.ts";
import { startService } from "../../src/main.ts";
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from "./chromium.ts";

const CI = Deno.env.get("CI") === "true";
const present = await chromiumInstalled();
if (!present && !CI) console.warn(`\n!!! ${CHROMIUM_PATH} not found: SKIPPING the browser sign-in test.\n`);

Deno.test({
  name: "with API_TOKEN the page signs a person in with the token and then shows the live page",
  ignore: !present && !CI,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (!present) throw new Error(`CI=true but ${CHROMIUM_PATH} is missing: .ci/run must install chromium`);
    const token = "browser-token-5e6f";
    const service = await startService(
      loadConfig({ PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "none", LOG_LEVEL: "fatal", API_TOKEN: token }),
    );
    const { browser, close } = await launchChromium();
    const problems: string[] = [];
    try {
      const page = await browser.newPage();
      page.on("console", (m) => {
        // The sign-in page itself answers 401 by design; anything else logged as an error is a problem.
        if (m.type() === "error" && !/401/.test(m.text())) problems.push(m.text());
      });
      page.on("pageerror", (e) => problems.push(String(e)));
      const first = await page.goto(`${service.url}/?window=1h`);
      equal(first?.status(), 401);
      await page.type("#token", token);
      await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
      equal(new URL(page.url()).search, "?window=1h", "back to the page asked for");
      await page.waitForFunction(() => {
        const canvas = document.querySelector<HTMLCanvasElement>(".chart canvas");
        if (!canvas) return false;
        const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      }, { timeout: 15_000 });
      const cookies = await page.cookies();
      ok(cookies.some((c) => c.name === "ce_session" && c.httpOnly && c.sameSite === "Strict"));
      ok(cookies.every((c) => !c.value.includes(token)), "the cookie does not hold the token");
      match(await page.$eval("body", (b) => b.textContent ?? ""), /drift risk/i);
      equal(problems.length, 0, problems.join("\n"));
    } finally {
      await close();
      await service.shutdown();
    }
  },
});
