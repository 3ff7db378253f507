/**
 * A rolling series: the window metrics evaluated at evenly spaced end times, for charts. Each point is exactly
 * what `/coherence/metrics?end=<timestamp>` answers for that end. Pure: no I/O; each point costs O(log n).
 */
import type { PointStore } from "./point_store.ts";
import { classifyRisk, type Thresholds } from "./risk.ts";
import type { RiskLevel } from "./vocabulary.ts";
import { summarize } from "./stats.ts";

export interface SeriesPoint {
  /** Window end, epoch ms. */
  endMs: number;
  n: number;
  mean: number | null;
  stdev: number | null;
  volatilityIndex: number | null;
  risk: RiskLevel;
}

export interface SeriesOptions {
  signal?: string;
  windowSec: number;
  fromMs: number;
  toMs: number;
  stepMs: number;
  thresholds: Thresholds;
}

/** Metrics at end times toMs, toMs − step, … down to fromMs (returned oldest first). */
export function rollingSeries(store: PointStore, options: SeriesOptions): SeriesPoint[] {
  const { signal, windowSec, fromMs, toMs, stepMs, thresholds } = options;
  const out: SeriesPoint[] = [];
  for (let end = toMs; end >= fromMs; end -= stepMs) {
    const stats = store.window(signal, end - windowSec * 1000, end);
    const summary = summarize(stats);
    out.push({
      endMs: end,
      n: summary.n,
      mean: summary.mean,
      stdev: summary.stdev,
      volatilityIndex: summary.volatilityIndex,
      risk: classifyRisk(summary, thresholds).level,
    });
  }
  return out.reverse();
}
