/**
 * `deno task screenshot`: starts the service on the bundled fixture (snapshots in a temporary CSV store, fast
 * ingest so the history table has rows; ALERT_FOR=0 so alerts and their chart markers show), loads the page in headless Chromium and, once both chart panes have
 * drawn, saves `docs/screenshot.png` (desk, 1400×900) and `docs/screenshot-phone.png` (phone, 390×844).
 *
 * Options: `--out=path.png` with `--width=…` and `--height=…` saves one size instead; `--signal=*`,
 * `--window=1h`, `--range=24h`, `--full` (the whole page, not just the viewport).
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

const shots = Deno.args.some((arg) => arg.startsWith("--out="))
  ? [{ out: flag("out", ""), width: Number(flag("width", "1400")), height: Number(flag("height", "900")) }]
  : [
    { out: join(ROOT, "docs", "screenshot.png"), width: 1400, height: 900 },
    { out: join(ROOT, "docs", "screenshot-phone.png"), width: 390, height: 844 },
  ];
const fullPage = Deno.args.includes("--full");
const query = new URLSearchParams({
  signal: flag("signal", "*"),
  window: flag("window", "1h"),
  range: flag("range", "24h"),
});

const dataDir = await Deno.makeTempDir({ prefix: "coherence-screenshot-" });
const service = await startService(loadConfig({
  PORT: "0",
  HOST: "127.0.0.1",
  PERSISTENCE: "csv",
  DATA_DIR: dataDir,
  INGEST_INTERVAL_S: "1",
  // Alerts confirmed at the first evaluation, so the alert list and the chart's transition markers show.
  ALERT_FOR: "0",
  LOG_LEVEL: "fatal",
}));
const chromium = await launchChromium();
try {
  // A few ingest cycles, so the history table has several snapshot rows.
  await new Promise((resolve) => setTimeout(resolve, 4500));
  for (const { out, width, height } of shots) {
    const page = await chromium.browser.newPage();
    await page.setViewport({ width, height });
    await page.goto(`${service.url}/?${query}`, { waitUntil: "networkidle0" });
    await page.waitForSelector(".chart-mean[data-drawn='true'] canvas");
    await page.waitForSelector(".chart-volatility[data-drawn='true'] canvas");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.screenshot({ path: out as `${string}.png`, fullPage });
    await page.close();
    console.log(`saved ${out} (${width}×${height})`);
  }
} finally {
  await chromium.close();
  await service.shutdown();
  await Deno.remove(dataDir, { recursive: true }).catch(() => {});
}
