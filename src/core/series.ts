/**
 * A rolling series: the window metrics evaluated at evenly spaced end times, for charts. Each point is exactly
 * what `/coherence/metrics?end=<timestamp>` answers for that end. Pure: no I/O; each point costs O(log n).
 */
import type { PointStore } from "./point_store.ts";
import { classifyRisk, type Thresholds } from "./risk.ts";
import type { RiskLevel } from "./vocabulary.ts";
import { summarize } from "./stats.ts";
import { type DataWarning, dataWarnings } from "./warnings.ts";

export interface SeriesPoint {
  /** Window end, epoch ms. */
  endMs: number;
  n: number;
  mean: number | null;
  stdev: number | null;
  volatilityIndex: number | null;
  risk: RiskLevel;
  /** The same data warnings `/coherence/metrics?end=<endMs>` gives for this window. */
  warnings: DataWarning[];
}

export interface SeriesOptions {
  signal?: string;
  windowSec: number;
  fromMs: number;
  toMs: number;
  stepMs: number;
  thresholds: Thresholds;
  /** Fewer points than this gives `too_few_samples` (as for metrics). */
  minSamples: number;
  /** Newest point older than this before a window end gives `stale_data` (as for metrics). */
  staleAfterSec: number;
  /** Oldest instant the held data covers, when bounded (gives `window_exceeds_history`). */
  coverageStartMs?: number | null;
}

/** The window ends of a series: `points` whole-second ends, evenly spaced, the newest at `toMs`. */
export interface SeriesGrid {
  /** Oldest end, epoch ms (whole seconds). */
  fromMs: number;
  /** Newest end, epoch ms: the requested `to` truncated to the whole second. */
  toMs: number;
  /** Spacing, ms: a whole number of seconds, at least 1 s. */
  stepMs: number;
  points: number;
}

/**
 * Exactly `points` (≥ 2) window ends between `fromMs` and `toMs`, in whole seconds and evenly spaced:
 * the newest end is `toMs` truncated to the second, the step is ⌊(to − from) / (points − 1)⌋ whole seconds
 * (from rounded up to the second) and at least 1 s, and the oldest end is `to − (points − 1) · step`. When the
 * span is not a multiple of `points − 1` seconds, the series starts less than `points − 1` seconds after
 * `from`; when it is shorter than `points − 1` seconds, the 1 s step makes the series start before `from`.
 */
export function seriesGrid(fromMs: number, toMs: number, points: number): SeriesGrid {
  const to = Math.floor(toMs / 1000);
  const from = Math.ceil(fromMs / 1000);
  const stepSec = Math.max(1, Math.floor(Math.max(0, to - from) / (points - 1)));
  return { fromMs: (to - (points - 1) * stepSec) * 1000, toMs: to * 1000, stepMs: stepSec * 1000, points };
}

/** Metrics at end times toMs, toMs − step, … down to fromMs (returned oldest first). */
export function rollingSeries(store: PointStore, options: SeriesOptions): SeriesPoint[] {
  const { signal, windowSec, fromMs, toMs, stepMs, thresholds, minSamples, staleAfterSec } = options;
  const out: SeriesPoint[] = [];
  for (let end = toMs; end >= fromMs; end -= stepMs) {
    const startMs = end - windowSec * 1000;
    const stats = store.window(signal, startMs, end);
    const summary = summarize(stats);
    out.push({
      endMs: end,
      n: summary.n,
      mean: summary.mean,
      stdev: summary.stdev,
      volatilityIndex: summary.volatilityIndex,
      risk: classifyRisk(summary, thresholds).level,
      warnings: dataWarnings({
        n: summary.n,
        mean: summary.mean,
        newestMs: stats.newestMs,
        endMs: end,
        allWithinUnitScale: stats.allWithinUnitScale,
        minSamples,
        staleAfterSec,
        startMs,
        coverageStartMs: options.coverageStartMs,
      }),
    });
  }
  return out.reverse();
}
