/**
 * Assembles a metrics response from a window's statistics: the numbers, the risk, the explanation and the
 * warnings. Pure: no I/O; the caller measures latency.
 */
import type { WindowStats } from "./point_store.ts";
import { explain, type Thresholds } from "./risk.ts";
import { summarize } from "./stats.ts";
import { dataWarnings } from "./warnings.ts";

export const METHOD = "mean/stdev rule-based";

/** RFC 3339 in UTC; milliseconds only when non-zero (`2025-10-29T17:43:00Z`). */
export function toRfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

export interface ReportInput {
  /** Signal name, or "*" for all signals pooled. */
  signal: string;
  windowSec: number;
  endMs: number;
  stats: WindowStats;
  source: string;
  thresholds: Thresholds;
  engineVersion: string;
  staleAfterSec: number;
  minSamples: number;
  method?: string;
  latencyMs?: number;
  /** Oldest instant the held data covers, when bounded (see `dataWarnings`). */
  coverageStartMs?: number | null;
}

/** The metrics answer; `MetricsResponseSchema` in `schemas.ts` publishes this shape (checked where it is sent). */
export function buildReport(input: ReportInput) {
  const { signal, windowSec, endMs, stats, thresholds } = input;
  const startMs = endMs - windowSec * 1000;
  const summary = summarize(stats);
  const explanation = explain(summary, thresholds);
  const start = toRfc3339(startMs);
  const end = toRfc3339(endMs);
  return {
    signal,
    coherenceMean: summary.mean,
    stdev: summary.stdev,
    volatilityIndex: summary.volatilityIndex,
    predictedDriftRisk: explanation.rule.level,
    timestamp: end,
    windowSec,
    n: summary.n,
    inputs: { start_ts: start, end_ts: end, source: input.source },
    meta: {
      method: input.method ?? METHOD,
      engine_version: input.engineVersion,
      latency_ms: input.latencyMs ?? 0,
    },
    explain: {
      ...explanation,
      window: {
        interval: `(${start}, ${end}]`,
        oldestPoint: stats.oldestMs === null ? null : toRfc3339(stats.oldestMs),
        newestPoint: stats.newestMs === null ? null : toRfc3339(stats.newestMs),
      },
    },
    warnings: dataWarnings({
      n: summary.n,
      mean: summary.mean,
      newestMs: stats.newestMs,
      endMs,
      allWithinUnitScale: stats.allWithinUnitScale,
      minSamples: input.minSamples,
      staleAfterSec: input.staleAfterSec,
      startMs,
      coverageStartMs: input.coverageStartMs,
    }),
  };
}
