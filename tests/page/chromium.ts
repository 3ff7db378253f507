/**
 * Headless Chromium for the browser test and `deno task screenshot`: Debian's `/usr/bin/chromium` driven by
 * puppeteer-core (which never downloads a browser), with a fresh profile directory.
 */
import puppeteer, { type Browser } from "puppeteer-core";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

export async function chromiumInstalled(path = CHROMIUM_PATH): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

export interface LaunchedBrowser {
  browser: Browser;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

export async function launchChromium(
  { width = 1400, height = 900 }: { width?: number; height?: number } = {},
): Promise<LaunchedBrowser> {
  const userDataDir = await Deno.makeTempDir({ prefix: "coherence-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, `--user-data-dir=${userDataDir}`, `--window-size=${width},${height}`],
    defaultViewport: { width, height },
  });
  return {
    browser,
    async close() {
      try {
        await browser.close();
      } finally {
        await Deno.remove(userDataDir, { recursive: true }).catch(() => {});
      }
    },
  };
}
