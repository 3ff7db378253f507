/**
 * Formatting for the verification page: numbers, times, risk labels and empty-state texts. Pure (no DOM, no
 * I/O, no locale or time-zone dependence), so the server render and the hydrated islands print the same text.
 */
import { POOLED_SIGNAL, type RiskLevel } from "../core/vocabulary.ts";
import { formatWindow } from "../core/window.ts";
import type { HistoryView, MetricsResponse, Selection, StoreOption, WindowOption } from "./types.ts";

/** Shown for a value that does not exist (n = 0, n = 1 stdev, …). */
export const MISSING = "—";

/** Fixed-point text; null, NaN and ±Infinity print as {@linkcode MISSING}, and −0 as 0. */
export function formatNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A whole number with thin-space-free comma grouping: 1440 → "1,440", 1234567 → "1,234,567". */
export function formatInteger(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const rounded = Math.round(value);
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return rounded < 0 ? `-${digits}` : digits;
}

function parseIso(iso: string | null | undefined): Date | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

/** "2025-10-29 17:43:00" in UTC (whole seconds, 24-hour clock, no zone suffix); unparsable text as given. */
export function formatDateTime(iso: string | null | undefined): string {
  const date = parseIso(iso);
  if (date === null) return iso ?? MISSING;
  return date.toISOString().slice(0, 19).replace("T", " ");
}

/** "2025-10-29 17:43:00 UTC" (whole seconds); anything unparsable prints as given. */
export function formatUtc(iso: string | null | undefined): string {
  const date = parseIso(iso);
  if (date === null) return iso ?? MISSING;
  return `${formatDateTime(iso)} UTC`;
}

/**
 * A window `(start, end]` in 24-hour UTC with its dates: "2026-12-02 08:09:34 to 09:09:34 UTC" within a day,
 * "2026-12-01 09:00:00 to 2026-12-02 09:00:00 UTC" across days.
 */
export function formatInterval(startIso: string, endIso: string): string {
  const start = formatDateTime(startIso);
  const end = formatDateTime(endIso);
  const sameDay = /^\d{4}-\d\d-\d\d /.test(start) && start.slice(0, 10) === end.slice(0, 10);
  return `${start} to ${sameDay ? end.slice(11) : end} UTC`;
}

/** Epoch seconds (uPlot's time axis) as "2025-10-29 17:43:00 UTC"; null or non-finite as {@linkcode MISSING}. */
export function formatEpochUtc(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return MISSING;
  return formatUtc(new Date(Math.round(seconds) * 1000).toISOString());
}

const pad2 = (value: number) => String(value).padStart(2, "0");

/**
 * uPlot's `fmtDate` option: whatever template uPlot asks for, a 24-hour "2025-10-29 17:43:00". uPlot hands it
 * dates from its `tzDate` option (`Etc/UTC` here), whose local fields are the UTC wall clock, so this reads
 * the local fields and never shows a 12-hour clock or the browser's zone.
 */
export function fmtDate24(_template: string): (date: Date) => string {
  return (date) =>
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${
      pad2(date.getMinutes())
    }:${pad2(date.getSeconds())}`;
}

/** A short age: "45 s", "12 min", "3 h", "2 d". */
export function formatAge(ms: number): string {
  const sec = Math.max(0, Math.round(ms / 1000));
  if (sec < 90) return `${sec} s`;
  const min = Math.round(sec / 60);
  if (min < 90) return `${min} min`;
  const hours = Math.round(min / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** Window seconds as text: 3600 → "1h" (the API's own form). */
export function formatWindowSec(seconds: number): string {
  return formatWindow(seconds);
}

/** "all signals (*)" for the pooled signal, else the name. */
export function formatSignal(signal: string): string {
  return signal === POOLED_SIGNAL ? "all signals (*)" : signal;
}

const RISK_LABELS: Record<RiskLevel, string> = {
  low: "Low",
  medium: "Medium",
  high: "High",
  unknown: "Unknown",
};

/** "Low", "Medium", "High", "Unknown". */
export function riskLabel(level: RiskLevel): string {
  return RISK_LABELS[level] ?? RISK_LABELS.unknown;
}

/** The sentence next to the colour, so the level never depends on colour alone. */
export function riskHeadline(level: RiskLevel): string {
  return level === "unknown" ? "Drift risk unknown: not enough data" : `${riskLabel(level)} drift risk`;
}

/** CSS class for a risk level: `risk-low` … `risk-unknown`. */
export function riskClass(level: RiskLevel): string {
  return `risk-${level in RISK_LABELS ? level : "unknown"}`;
}

/**
 * Risk colours, shared by the chart markers and (by value) `static/page.css`. Each has at least 4.5:1
 * contrast on white, so it can colour text too.
 */
export const RISK_COLORS: Readonly<Record<RiskLevel, string>> = Object.freeze({
  low: "#15803d",
  medium: "#b45309",
  high: "#b91c1c",
  unknown: "#4b5563",
});

/** A window option as the select shows it: "1h (configured)". */
export function windowOptionLabel(option: WindowOption): string {
  return option.configured ? `${option.value} (configured)` : option.value;
}

/** A store option as the select shows it: "sqlite (active)". */
export function storeOptionLabel(option: StoreOption): string {
  return option.active ? `${option.mode} (active)` : option.mode;
}

/** What the history table says when it has no rows; null when it has some. */
export function historyEmptyMessage(view: HistoryView, selection: Selection): string | null {
  if (view.rows.length > 0) return null;
  if (!view.available) {
    return `No snapshots yet: the history could not be read (${view.problem ?? "no answer"}).`;
  }
  if (view.store === "none") {
    return "No snapshots: the none store keeps nothing (PERSISTENCE=none). Choose another store to read " +
      "what it holds.";
  }
  const what = `${formatSignal(selection.signal)} over ${selection.window}`;
  const note = view.note ? ` ${view.note}.` : "";
  return `No snapshots yet for ${what} in the ${view.store} store.${note} One row is written per ` +
    "configured window after each ingest cycle.";
}

/** A file name for the exported metrics: `coherence-metrics_alpha_1h_2025-10-29T17-43-00Z.json`. */
export function exportFileName(metrics: Pick<MetricsResponse, "signal" | "windowSec" | "timestamp">): string {
  const signal = metrics.signal === POOLED_SIGNAL ? "all" : metrics.signal.replace(/[^A-Za-z0-9._-]+/g, "_");
  const stamp = metrics.timestamp.replace(/\.\d+/, "").replace(/:/g, "-");
  return `coherence-metrics_${signal}_${formatWindow(metrics.windowSec)}_${stamp}.json`;
}
