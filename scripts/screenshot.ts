/**
 * `deno task screenshot`: starts the service on the bundled fixture (snapshots in a temporary CSV store, fast
 * ingest so the history table has rows), loads the page in headless Chromium at 1400×900 and saves
 * `docs/screenshot.png` once the chart has drawn.
 *
 * Options: `--out=path.png`, `--width=1400`, `--height=900`, `--signal=*`, `--window=1h`, `--full` (the whole
 * page, not just the viewport).
 */
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { startService } from "../src/main.ts";
import { launchChromium } from "../tests/page/chromium.ts";

const ROOT = join(import.meta.dirname ?? ".", "..");

function flag(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return Deno.args.find((arg) => arg.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

const out = flag("out", join(ROOT, "docs", "screenshot.png"));
const width = Number(flag("width", "1400"));
const height = Number(flag("height", "900"));
const fullPage = Deno.args.includes("--full");
const query = new URLSearchParams({ signal: flag("signal", "*"), window: flag("window", "1h") });

const dataDir = await Deno.makeTempDir({ prefix: "coherence-screenshot-" });
const service = await startService(loadConfig({
  PORT: "0",
  HOST: "127.0.0.1",
  PERSISTENCE: "csv",
  DATA_DIR: dataDir,
  INGEST_INTERVAL_S: "1",
  LOG_LEVEL: "fatal",
}));
const chromium = await launchChromium({ width, height });
try {
  // A few ingest cycles, so the history table has several snapshot rows.
  await new Promise((resolve) => setTimeout(resolve, 4500));
  const page = await chromium.browser.newPage();
  await page.goto(`${service.url}/?${query}`, { waitUntil: "networkidle0" });
  await page.waitForSelector(".chart[data-drawn='true'] canvas");
  await new Promise((resolve) => setTimeout(resolve, 300));
  await page.screenshot({ path: out as `${string}.png`, fullPage });
  console.log(`saved ${out} (${width}×${height})`);
} finally {
  await chromium.close();
  await service.shutdown();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
