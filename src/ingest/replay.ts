/**
 * Mock replay: a recorded series played back against the wall clock. Pure: no I/O.
 *
 * The file's newest record lands at `anchorMs` (start-up time); the file then repeats with period
 * P = (newest − oldest) + cadence, so as time passes each pull releases the records whose replayed time has
 * come, at the file's own cadence, for as long as the service runs. Loop k shifts every record by
 * (anchorMs − newest) + k·P, k ≥ 0.
 */
import { upperBound } from "../core/binary_search.ts";
import type { NormalizedPoint } from "./normalize.ts";

export interface Replay {
  /** Replayed records with fromMs < ts ≤ toMs, oldest first. */
  between(fromMs: number, toMs: number): NormalizedPoint[];
  /** Loop period in ms. */
  readonly periodMs: number;
  /** The file's typical spacing between timestamps, ms. */
  readonly cadenceMs: number;
}

export function createReplay(points: readonly NormalizedPoint[], anchorMs: number): Replay {
  const sorted = [...points].sort((a, b) => a.ts - b.ts);
  const ts = Float64Array.from(sorted, (p) => p.ts);
  const n = ts.length;
  const cadenceMs = medianGap(ts);
  const periodMs = n === 0 ? 1 : ts[n - 1] - ts[0] + cadenceMs;
  const offset = n === 0 ? 0 : anchorMs - ts[n - 1];
  return {
    periodMs,
    cadenceMs,
    between(fromMs: number, toMs: number): NormalizedPoint[] {
      if (n === 0 || toMs <= fromMs) return [];
      const out: NormalizedPoint[] = [];
      const firstLoop = Math.max(0, Math.floor((fromMs - offset - ts[n - 1]) / periodMs));
      for (let k = firstLoop;; k++) {
        const shift = offset + k * periodMs;
        if (ts[0] + shift > toMs) break;
        const a = upperBound(ts, n, fromMs - shift);
        const b = upperBound(ts, n, toMs - shift);
        for (let i = a; i < b; i++) out.push({ ...sorted[i], ts: sorted[i].ts + shift });
      }
      return out;
    },
  };
}

/** Median positive gap between distinct consecutive timestamps; 60 s when there is none. */
export function medianGap(ts: Float64Array): number {
  const gaps: number[] = [];
  for (let i = 1; i < ts.length; i++) {
    const gap = ts[i] - ts[i - 1];
    if (gap > 0) gaps.push(gap);
  }
  if (gaps.length === 0) return 60_000;
  gaps.sort((a, b) => a - b);
  return gaps[gaps.length >> 1];
}
