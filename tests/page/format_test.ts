import { equal, match } from "node:assert/strict";
import {
  backtestLine,
  exportFileName,
  forecastHeadline,
  forecastSentence,
  formatAge,
  formatDateTime,
  formatDuration,
  formatEpochUtc,
  formatInteger,
  formatInterval,
  formatNumber,
  formatRate,
  formatSignal,
  formatUtc,
  formatWindowSec,
  historyEmptyMessage,
  MISSING,
  RISK_COLORS,
  riskClass,
  riskHeadline,
  riskLabel,
  storeOptionLabel,
  windowOptionLabel,
} from "../../src/page/format.ts";
import type { RiskLevel } from "../../src/core/vocabulary.ts";
import type { HistoryView, Selection } from "../../src/page/types.ts";

Deno.test("formatNumber() prints fixed digits, a dash for missing values and never -0", () => {
  equal(formatNumber(86.2), "86.20");
  equal(formatNumber(0.123456, 3), "0.123");
  equal(formatNumber(100, 0), "100");
  equal(formatNumber(null), MISSING);
  equal(formatNumber(undefined), MISSING);
  equal(formatNumber(Number.NaN), MISSING);
  equal(formatNumber(Number.POSITIVE_INFINITY), MISSING);
  equal(formatNumber(-0.001), "0.00");
  equal(formatNumber(-0), "0.00");
  equal(formatNumber(-1.5), "-1.50");
});

Deno.test("formatInteger() groups thousands with commas, independent of the locale", () => {
  equal(formatInteger(0), "0");
  equal(formatInteger(999), "999");
  equal(formatInteger(1440), "1,440");
  equal(formatInteger(1234567), "1,234,567");
  equal(formatInteger(-12345), "-12,345");
  equal(formatInteger(null), MISSING);
});

Deno.test("formatUtc() prints UTC whole seconds and pass unparsable text through", () => {
  equal(formatUtc("2025-10-29T17:43:00.912Z"), "2025-10-29 17:43:00 UTC");
  equal(formatUtc("2025-10-29T19:43:00+02:00"), "2025-10-29 17:43:00 UTC");
  equal(formatUtc("not a date"), "not a date");
  equal(formatUtc(null), MISSING);
  equal(formatUtc(undefined), MISSING);
});

Deno.test("formatAge() picks seconds, minutes, hours or days", () => {
  equal(formatAge(0), "0 s");
  equal(formatAge(45_000), "45 s");
  equal(formatAge(12 * 60_000), "12 min");
  equal(formatAge(3 * 3_600_000), "3 h");
  equal(formatAge(3 * 86_400_000), "3 d");
  equal(formatAge(-5), "0 s");
});

Deno.test("formatWindowSec() and formatSignal() use the API's words", () => {
  equal(formatWindowSec(3600), "1h");
  equal(formatWindowSec(86400), "24h");
  equal(formatWindowSec(300), "5m");
  equal(formatSignal("*"), "all signals (*)");
  equal(formatSignal("alpha"), "alpha");
});

Deno.test("risk labels give every level words, a class and a colour", () => {
  const levels: RiskLevel[] = ["low", "medium", "high", "unknown"];
  for (const level of levels) {
    match(riskLabel(level), /^[A-Z][a-z]+$/);
    equal(riskClass(level), `risk-${level}`);
    match(RISK_COLORS[level], /^#[0-9a-f]{6}$/);
  }
  equal(riskHeadline("high"), "High drift risk");
  equal(riskHeadline("unknown"), "Drift risk unknown: not enough data");
  equal(riskClass("bogus" as RiskLevel), "risk-unknown");
});

Deno.test("RISK_COLORS have at least 4.5:1 contrast on white (usable as text)", () => {
  const luminance = (hex: string) => {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  for (const [level, color] of Object.entries(RISK_COLORS)) {
    const ratio = 1.05 / (luminance(color) + 0.05);
    equal(ratio >= 4.5, true, `${level} ${color} has contrast ${ratio.toFixed(2)}`);
  }
});

Deno.test("static/page.css uses the same risk colours as the chart", async () => {
  const css = await Deno.readTextFile(new URL("../../static/page.css", import.meta.url));
  for (const [level, color] of Object.entries(RISK_COLORS)) {
    match(css, new RegExp(`--risk-${level}: ${color};`));
  }
});

Deno.test("select option labels mark configured windows and the active store", () => {
  equal(windowOptionLabel({ value: "1h", seconds: 3600, configured: true }), "1h (configured)");
  equal(windowOptionLabel({ value: "5m", seconds: 300, configured: false }), "5m");
  equal(storeOptionLabel({ mode: "sqlite", active: true }), "sqlite (active)");
  equal(storeOptionLabel({ mode: "csv", active: false }), "csv");
});

const selection: Selection = { signal: "*", window: "1h", store: "sqlite", range: "24h" };
const view = (over: Partial<HistoryView>): HistoryView => ({
  available: true,
  store: "sqlite",
  active: true,
  note: null,
  rows: [],
  problem: null,
  ...over,
});

Deno.test("historyEmptyMessage() says why there are no rows, and nothing when there are", () => {
  match(historyEmptyMessage(view({}), selection)!, /^No snapshots yet for all signals \(\*\) over 1h/);
  match(
    historyEmptyMessage(view({ available: false, problem: "no /coherence/history route" }), selection)!,
    /^No snapshots yet: .*no \/coherence\/history route/,
  );
  match(historyEmptyMessage(view({ store: "none" }), selection)!, /keeps nothing \(PERSISTENCE=none\)/);
  match(
    historyEmptyMessage(
      view({ store: "csv", active: false, note: "No csv snapshot store exists" }),
      selection,
    )!,
    /in the csv store\. No csv snapshot store exists\./,
  );
  const row = {
    timestamp: "2025-10-29T17:43:00Z",
    signal: "*",
    windowSec: 3600,
    n: 60,
    coherenceMean: 85,
    stdev: 2,
    volatilityIndex: 0.02,
    predictedDriftRisk: "low" as const,
    inputs: { start_ts: "2025-10-29T16:43:00Z", end_ts: "2025-10-29T17:43:00Z", source: "mock_file" },
    meta: { engine_version: "0.1.0" },
  };
  equal(historyEmptyMessage(view({ rows: [row] }), selection), null);
});

Deno.test("exportFileName() names the signal, window and time, safe for any file system", () => {
  equal(
    exportFileName({ signal: "*", windowSec: 3600, timestamp: "2025-10-29T17:43:00.123Z" }),
    "coherence-metrics_all_1h_2025-10-29T17-43-00Z.json",
  );
  equal(
    exportFileName({ signal: "a/b c", windowSec: 86400, timestamp: "2025-10-29T17:43:00Z" }),
    "coherence-metrics_a_b_c_24h_2025-10-29T17-43-00Z.json",
  );
});

Deno.test("formatInterval() prints a window in 24-hour UTC with its dates, the end's date only when it differs", () => {
  equal(
    formatInterval("2026-12-02T08:09:34Z", "2026-12-02T21:09:34Z"),
    "2026-12-02 08:09:34 to 21:09:34 UTC",
  );
  equal(
    formatInterval("2026-12-01T09:00:00Z", "2026-12-02T09:00:00.500Z"),
    "2026-12-01 09:00:00 to 2026-12-02 09:00:00 UTC",
  );
});

Deno.test("formatDateTime() and formatEpochUtc() print 24-hour UTC with the date", () => {
  equal(formatDateTime("2026-12-01T20:05:09.900Z"), "2026-12-01 20:05:09");
  equal(formatEpochUtc(Date.parse("2026-12-01T20:05:09Z") / 1000), "2026-12-01 20:05:09 UTC");
  equal(formatEpochUtc(null), MISSING);
  equal(formatEpochUtc(Number.NaN), MISSING);
});

Deno.test("formatDuration() reads as seconds, minutes, hours and minutes, days and hours", () => {
  equal(formatDuration(0), "0 s");
  equal(formatDuration(45.4), "45 s");
  equal(formatDuration(12 * 60 + 20), "12 m");
  equal(formatDuration(3600), "1 h");
  equal(formatDuration(3 * 3600 + 12 * 60 + 10), "3 h 12 m");
  equal(formatDuration(2 * 86400 + 5 * 3600 + 59), "2 d 5 h");
  equal(formatDuration(86400), "1 d");
  equal(formatDuration(-1), MISSING);
});

Deno.test("formatRate() signs the rate per hour with a true minus", () => {
  equal(formatRate(-2.93), "−2.9/h");
  equal(formatRate(0.354), "+0.35/h");
  equal(formatRate(-0.00123), "−0.0012/h");
  equal(formatRate(0), "0/h");
});

const boundaries = {
  high: { value: 60, definedBy: "mean" as const, text: "" },
  medium: { value: 80, definedBy: "mean" as const, text: "" },
};
const falling = {
  n: 120,
  slopePerHour: -2.9,
  t: -6.1,
  significant: true,
  projectedMean: 66,
  boundaries,
  eta: {
    low: null,
    medium: { seconds: 0, at: "2026-12-02T08:00:00Z" },
    high: { seconds: 3 * 3600 + 12 * 60, at: "2026-12-02T11:12:00Z" },
  },
};

Deno.test("forecastSentence() gives the rate and when the mean reaches each boundary, 24-hour UTC", () => {
  equal(
    forecastSentence(falling),
    "at −2.9/h the mean reaches the high boundary 60 in 3 h 12 m (2026-12-02 11:12 UTC)",
  );
  equal(
    forecastSentence({
      ...falling,
      eta: {
        low: { seconds: 0, at: "2026-12-02T08:00:00Z" },
        medium: { seconds: 1800, at: "2026-12-02T08:30:00Z" },
        high: { seconds: 7200, at: "2026-12-02T10:00:00Z" },
      },
    }),
    "at −2.9/h the mean reaches the medium boundary 80 in 30 m (2026-12-02 08:30 UTC) and the high " +
      "boundary 60 in 2 h (2026-12-02 10:00 UTC)",
  );
  equal(
    forecastSentence({
      ...falling,
      slopePerHour: 1.5,
      boundaries: { ...boundaries, medium: { ...boundaries.medium, value: 81.234 } },
      eta: {
        low: { seconds: 5400, at: "2026-12-02T09:30:00Z" },
        medium: { seconds: 0, at: "x" },
        high: null,
      },
    }),
    "at +1.5/h the mean reaches the medium boundary 81.23 in 1 h 30 m (2026-12-02 09:30 UTC)",
    "rising: the medium boundary (a volatility-defined one to 2 decimals) leads to low risk",
  );
  equal(
    forecastSentence({ ...falling, eta: { low: null, medium: null, high: { seconds: 0, at: "x" } } }),
    "at −2.9/h the mean stays below the high boundary 60",
  );
  match(
    forecastSentence({ ...falling, eta: { low: null, medium: { seconds: 0, at: "x" }, high: null } }),
    /reaches no other risk level within the longest window \(MAX_WINDOW\)$/,
  );
});

Deno.test("forecastSentence() says why the forecast is flat", () => {
  equal(
    forecastSentence({ ...falling, significant: false, t: -0.84 }),
    "no significant trend (|t| = 0.8 < 2): the forecast is flat",
  );
  equal(
    forecastSentence({ ...falling, significant: false, n: 5 }),
    "too few points for a trend (n = 5 < 10): the forecast is flat",
  );
  equal(
    forecastSentence({ ...falling, significant: false, slopePerHour: 0, t: null }),
    "no trend (the slope is 0): the forecast is flat",
  );
  equal(
    forecastSentence({ ...falling, projectedMean: null }),
    "no forecast: there are no points in the window",
  );
});

Deno.test("forecastHeadline() names the horizon, its end in UTC, the risk and the interval", () => {
  equal(
    forecastHeadline({
      horizonSec: 3600,
      at: "2026-12-02T09:00:00Z",
      predictedDriftRisk: "medium",
      projectedMean: 71.3,
      projectedMeanInterval: { level: 0.95, quantile: 2, low: 68, high: 74.6 },
    }),
    "In 1 h (2026-12-02 09:00 UTC): medium risk, mean 71.30 (95 % interval 68.00 to 74.60)",
  );
  equal(
    forecastHeadline({
      horizonSec: 300,
      at: "2026-12-02T09:00:00Z",
      predictedDriftRisk: "unknown",
      projectedMean: null,
      projectedMeanInterval: null,
    }),
    "In 5 m (2026-12-02 09:00 UTC): risk unknown, nothing to project",
  );
});

const score = (accuracy: number | null, meanAbsoluteError: number | null) => ({
  confusion: {} as never,
  accuracy,
  meanAbsoluteError,
  errorsCounted: 100,
});

Deno.test("backtestLine() compares the trend with the naive forecast, or says why there is no backtest", () => {
  equal(
    backtestLine({ points: 100, trend: score(0.714, 0.4649), naive: score(0.6351, 0.4), note: null }),
    "trend 71 % vs naive 64 % over 100 past window ends; mean absolute error 0.46 vs 0.40",
  );
  equal(
    backtestLine({ points: 1, trend: score(1, 0), naive: score(0, null), note: null }),
    "trend 100 % vs naive 0 % over 1 past window end; mean absolute error 0.00 vs —",
  );
  equal(
    backtestLine({ points: 0, trend: score(null, null), naive: score(null, null), note: "too little held" }),
    "No backtest yet: too little held",
  );
});
