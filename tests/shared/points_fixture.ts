/** Deterministic points for the shared-points tests and the child writer they spawn. */
import type { PointInput } from "../../src/core/point_store.ts";

export const HOUR = 3_600_000;
export const BASE = Date.parse("2026-01-01T00:00:00Z");

/** A seeded generator (mulberry32): the same seed gives the same points in every process. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` points of `signal` spread over [fromMs, toMs), in random order, scores 0..100 at 1e-3. */
export function scatter(signal: string, n: number, fromMs: number, toMs: number, seed: number): PointInput[] {
  const next = random(seed);
  return Array.from({ length: n }, () => ({
    signal,
    ts: fromMs + Math.floor(next() * (toMs - fromMs)),
    score: Math.round(next() * 100_000) / 1000,
  }));
}

/** Per signal, [min, max] of the points' times: what a cycle touched. */
export function touched(points: readonly PointInput[]): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  for (const { signal, ts } of points) {
    const range = out.get(signal);
    if (!range) out.set(signal, [ts, ts]);
    else out.set(signal, [Math.min(range[0], ts), Math.max(range[1], ts)]);
  }
  return out;
}
