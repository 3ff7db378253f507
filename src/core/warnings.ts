/**
 * Data-quality warnings: reasons a number may not mean what it seems. Pure: no I/O.
 * A response with n < 2 always carries at least one warning.
 */
import { formatWindow } from "./window.ts";
import type { WarningCode } from "./vocabulary.ts";

export interface DataWarning {
  code: WarningCode;
  message: string;
}

export interface WarningInput {
  n: number;
  mean: number | null;
  /** Newest point in the window (epoch ms), null when empty. */
  newestMs: number | null;
  /** Window end (epoch ms). */
  endMs: number;
  /** True when every score in the window is within 0..1. */
  allWithinUnitScale: boolean;
  /** Fewer points than this gives `too_few_samples` (at least 2). */
  minSamples: number;
  /** Newest point older than this many seconds before the end gives `stale_data`. */
  staleAfterSec: number;
  /** Window start (epoch ms, exclusive); with `coverageStartMs`, detects windows reaching before held data. */
  startMs?: number;
  /** Oldest instant the held data covers (earlier points were never pulled or were evicted), if bounded. */
  coverageStartMs?: number | null;
}

export function dataWarnings(input: WarningInput): DataWarning[] {
  const { n, mean, newestMs, endMs, minSamples, staleAfterSec, startMs, coverageStartMs } = input;
  const warnings: DataWarning[] = [];
  const warn = (code: WarningCode, message: string) => warnings.push({ code, message });
  if (startMs !== undefined && coverageStartMs != null && startMs < coverageStartMs) {
    const from = new Date(coverageStartMs).toISOString();
    warn(
      "window_exceeds_history",
      `The window starts before the held history (points are held from ${from}): earlier points were never ` +
        "pulled or were evicted, so n covers only part of the window",
    );
  }
  if (n === 0) {
    warn(
      "no_data",
      "No points in the window: mean, stdev and volatilityIndex are null and the risk is unknown",
    );
    return warnings;
  }
  if (n < minSamples) {
    const consequence = n === 1 ? "; with one point stdev and volatilityIndex are null" : "";
    const points = `${n} point${n === 1 ? "" : "s"}`;
    warn("too_few_samples", `Only ${points} in the window (at least ${minSamples} expected)${consequence}`);
  }
  if (newestMs !== null && endMs - newestMs > staleAfterSec * 1000) {
    const age = formatAge(Math.round((endMs - newestMs) / 1000));
    warn(
      "stale_data",
      `Newest point is ${age} old at the window end (stale after ${formatWindow(staleAfterSec)})`,
    );
  }
  if (input.allWithinUnitScale) {
    warn(
      "unit_scale_suspected",
      "Every score in the window is between 0 and 1: the upstream may be sending a 0..1 scale instead of 0..100",
    );
  }
  if (n >= 2 && mean === 0) {
    warn("volatility_undefined", "Mean is 0, so volatilityIndex (σ / μ) is undefined");
  }
  return warnings;
}

function formatAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}
