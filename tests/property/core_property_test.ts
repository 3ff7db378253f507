/** Property tests (fast-check) for the pure core: window parser, risk rules and statistics. */
import { equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { PointStore } from "../../src/core/point_store.ts";
import { classifyRisk, DEFAULT_THRESHOLDS } from "../../src/core/risk.ts";
import type { RiskLevel } from "../../src/core/vocabulary.ts";
import { combineMoments, momentsOf, summarize } from "../../src/core/stats.ts";
import { formatWindow, parseWindow, WindowError } from "../../src/core/window.ts";

const UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

Deno.test("parseWindow() accepts every <n><unit> within the maximum and formatWindow() round-trips it", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom("s", "m", "h", "d", ""), (n, unit) => {
      const seconds = n * UNITS[(unit || "s") as keyof typeof UNITS];
      const max = 30 * 86400;
      if (seconds > max) {
        throws(() => parseWindow(`${n}${unit}`, { maxSec: max }), WindowError);
      } else {
        equal(parseWindow(`${n}${unit}`, { maxSec: max }), seconds);
        equal(parseWindow(formatWindow(seconds), { maxSec: max }), seconds);
      }
    }),
  );
});

Deno.test("parseWindow() either returns a positive whole number of seconds or throws a WindowError, for any text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (text) => {
      try {
        const seconds = parseWindow(text, { maxSec: 30 * 86400 });
        ok(Number.isSafeInteger(seconds) && seconds > 0 && seconds <= 30 * 86400);
      } catch (error) {
        ok(error instanceof WindowError, String(error));
        ok((error as Error).message.length > 0);
      }
    }),
    { numRuns: 3000 },
  );
});

const RANK: Record<RiskLevel, number> = { unknown: -1, low: 0, medium: 1, high: 2 };

Deno.test("classifyRisk() never lowers the risk when the mean falls (volatility fixed)", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (a, b, vi) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const at = (mean: number) =>
          classifyRisk({ n: 10, mean, stdev: vi * mean, volatilityIndex: vi }).level;
        ok(RANK[at(lo)] >= RANK[at(hi)], `mean ${lo} → ${at(lo)}, mean ${hi} → ${at(hi)}`);
      },
    ),
    { numRuns: 5000 },
  );
});

Deno.test("classifyRisk() never lowers the risk when the volatility rises (mean fixed)", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 100, noNaN: true }),
      fc.double({ min: 0, max: 2, noNaN: true }),
      fc.double({ min: 0, max: 2, noNaN: true }),
      (mean, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const at = (vi: number) => classifyRisk({ n: 10, mean, stdev: vi * mean, volatilityIndex: vi }).level;
        ok(RANK[at(hi)] >= RANK[at(lo)]);
      },
    ),
    { numRuns: 5000 },
  );
});

Deno.test("classifyRisk() matches the rules written out, first match wins, at and around every boundary", () => {
  const t = DEFAULT_THRESHOLDS;
  const near = (x: number) => fc.constantFrom(x, x + 1e-9, x - 1e-9, x + 0.5, x - 0.5);
  fc.assert(
    fc.property(
      fc.oneof(near(60), near(80), fc.double({ min: 0, max: 100, noNaN: true })),
      fc.oneof(near(0.1), near(0.25), fc.double({ min: 0, max: 1, noNaN: true })),
      (mean, vi) => {
        const expected = vi > t.highVolatilityAbove || mean < t.highMeanBelow
          ? "high"
          : vi > t.mediumVolatilityAbove || mean < t.mediumMeanBelow
          ? "medium"
          : "low";
        equal(classifyRisk({ n: 5, mean, stdev: vi * mean, volatilityIndex: vi }).level, expected);
      },
    ),
    { numRuns: 5000 },
  );
});

/** The textbook two-pass reference, in plain floating point. */
function naive(values: number[]) {
  const n = values.length;
  const mean = values.reduce((s, x) => s + x, 0) / n;
  const m2 = values.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { n, mean, stdev: n > 1 ? Math.sqrt(m2 / (n - 1)) : null };
}

const score = fc.double({ min: 0, max: 100, noNaN: true });

Deno.test("summarize(momentsOf()) agrees with a naive two-pass reference on any scores", () => {
  fc.assert(
    fc.property(fc.array(score, { minLength: 1, maxLength: 300 }), (values) => {
      const got = summarize(momentsOf(values));
      const want = naive(values);
      equal(got.n, want.n);
      ok(Math.abs(got.mean! - want.mean) <= 1e-12 * Math.max(1, want.mean));
      if (want.stdev === null) equal(got.stdev, null);
      else {ok(
          Math.abs(got.stdev! - want.stdev) <= 1e-9 * Math.max(1e-3, want.stdev),
          `${got.stdev} vs ${want.stdev}`,
        );}
      for (const v of Object.values(got)) ok(v === null || Number.isFinite(v));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("combineMoments() of any split equals momentsOf() of the whole", () => {
  fc.assert(
    fc.property(fc.array(score, { minLength: 2, maxLength: 200 }), fc.nat(), (values, cut) => {
      const k = cut % values.length;
      const parts = combineMoments(momentsOf(values.slice(0, k)), momentsOf(values.slice(k)));
      const whole = momentsOf(values);
      equal(parts.n, whole.n);
      ok(Math.abs(parts.mean - whole.mean) <= 1e-12 * Math.max(1, whole.mean));
      ok(Math.abs(parts.m2 - whole.m2) <= 1e-9 * Math.max(1, whole.m2));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("PointStore window answers equal the naive reference over the same points, for any batches and window", () => {
  const point = fc.record({ t: fc.integer({ min: 0, max: 500 }), score });
  fc.assert(
    fc.property(
      fc.array(fc.array(point, { maxLength: 60 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: 1, max: 500 }),
      (batches, end, width) => {
        const store = new PointStore();
        const held = new Map<number, number>();
        for (const batch of batches) {
          store.apply(batch.map((p) => ({ signal: "s", ts: p.t * 1000, score: p.score })));
          for (const p of batch) held.set(p.t * 1000, p.score);
        }
        const endMs = end * 1000;
        const startMs = endMs - width * 1000;
        const inWindow = [...held].filter(([ts]) => ts > startMs && ts <= endMs).map(([, s]) => s);
        const got = summarize(store.window("s", startMs, endMs));
        equal(got.n, inWindow.length);
        if (inWindow.length === 0) return;
        const want = naive(inWindow);
        ok(Math.abs(got.mean! - want.mean) <= 1e-9 * Math.max(1, want.mean));
        if (want.stdev !== null) ok(Math.abs(got.stdev! - want.stdev) <= 1e-7 * Math.max(1e-3, want.stdev));
      },
    ),
    { numRuns: 1500 },
  );
});
