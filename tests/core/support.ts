/** Shared by the point store and moment tree tests: a seeded PRNG and a relative-error assertion. */
import { equal, ok } from "node:assert/strict";
import type { Moments } from "../../src/core/stats.ts";

export { mulberry32 } from "../../src/mock/darshan_server.ts";

export const T0 = Date.parse("2025-10-29T00:00:00Z");
export const SEC = 1000;

export function relativeError(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** Asserts that window moments match the reference to a relative error below `tolerance`. */
export function assertMomentsClose(
  actual: Moments,
  expected: Moments,
  tolerance: number,
  label: string,
): void {
  equal(actual.n, expected.n, `${label}: n`);
  const meanError = relativeError(actual.mean, expected.mean);
  ok(
    meanError < tolerance,
    `${label}: mean ${actual.mean} vs ${expected.mean} (relative error ${meanError})`,
  );
  const m2Error = relativeError(actual.m2, expected.m2);
  ok(m2Error < tolerance, `${label}: M2 ${actual.m2} vs ${expected.m2} (relative error ${m2Error})`);
  if (expected.n >= 2 && expected.m2 > 0) {
    const sdError = relativeError(
      Math.sqrt(actual.m2 / (actual.n - 1)),
      Math.sqrt(expected.m2 / (expected.n - 1)),
    );
    ok(sdError < tolerance, `${label}: stdev relative error ${sdError}`);
  }
}
