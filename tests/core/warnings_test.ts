import { deepEqual, equal, match, ok } from "node:assert/strict";
import { dataWarnings, type WarningInput } from "../../src/core/warnings.ts";

const END_MS = Date.parse("2025-10-29T18:00:00Z");

/** A healthy window: 30 fresh points on the 0..100 scale. */
function input(overrides: Partial<WarningInput> = {}): WarningInput {
  return {
    n: 30,
    mean: 85,
    newestMs: END_MS - 30_000,
    endMs: END_MS,
    allWithinUnitScale: false,
    minSamples: 5,
    staleAfterSec: 900,
    ...overrides,
  };
}

function codes(overrides: Partial<WarningInput>): string[] {
  return dataWarnings(input(overrides)).map((w) => w.code);
}

Deno.test("dataWarnings() is empty when the window is healthy", () => {
  deepEqual(dataWarnings(input()), []);
});

Deno.test("dataWarnings() gives only no_data for an empty window", () => {
  const warnings = dataWarnings(input({ n: 0, mean: null, newestMs: null }));
  deepEqual(warnings, [{
    code: "no_data",
    message: "No points in the window: mean, stdev and volatilityIndex are null and the risk is unknown",
  }]);
});

Deno.test("dataWarnings() gives no_data alone even if other flags are set", () => {
  deepEqual(codes({ n: 0, mean: null, newestMs: END_MS - 86_400_000, allWithinUnitScale: true }), [
    "no_data",
  ]);
});

Deno.test("dataWarnings() gives too_few_samples for one point and says stdev is null", () => {
  const warnings = dataWarnings(input({ n: 1, mean: 85 }));
  deepEqual(warnings.map((w) => w.code), ["too_few_samples"]);
  equal(
    warnings[0].message,
    "Only 1 point in the window (at least 5 expected); with one point stdev and volatilityIndex are null",
  );
});

Deno.test("dataWarnings() gives too_few_samples below minSamples, in the plural, without the n = 1 note", () => {
  const warnings = dataWarnings(input({ n: 4 }));
  deepEqual(warnings, [{
    code: "too_few_samples",
    message: "Only 4 points in the window (at least 5 expected)",
  }]);
});

Deno.test("dataWarnings() gives no too_few_samples at exactly minSamples", () => {
  deepEqual(codes({ n: 5 }), []);
});

Deno.test("dataWarnings() warns about a single point at the smallest allowed minSamples, 2", () => {
  // minSamples is documented as at least 2 (config enforces it), which keeps the promise of a warning for n < 2.
  const warnings = dataWarnings(input({ n: 1, minSamples: 2 }));
  deepEqual(warnings.map((w) => w.code), ["too_few_samples"]);
  match(warnings[0].message, /^Only 1 point in the window \(at least 2 expected\); with one point stdev/);
  deepEqual(codes({ n: 2, minSamples: 2 }), []);
});

Deno.test("dataWarnings() gives stale_data when the newest point is older than staleAfterSec", () => {
  const warnings = dataWarnings(input({ newestMs: END_MS - 20 * 60_000 }));
  deepEqual(warnings, [{
    code: "stale_data",
    message: "Newest point is 20m old at the window end (stale after 15m)",
  }]);
});

Deno.test("dataWarnings() gives no stale_data at exactly staleAfterSec and gives it 1 ms later", () => {
  deepEqual(codes({ newestMs: END_MS - 900_000 }), []);
  deepEqual(codes({ newestMs: END_MS - 900_001 }), ["stale_data"]);
});

Deno.test("dataWarnings() writes the stale age in s, m, h or d", () => {
  const messageAt = (ageSec: number, staleAfterSec: number) =>
    dataWarnings(input({ newestMs: END_MS - ageSec * 1000, staleAfterSec }))[0].message;
  equal(messageAt(90, 60), "Newest point is 90s old at the window end (stale after 1m)");
  equal(messageAt(45 * 60, 60), "Newest point is 45m old at the window end (stale after 1m)");
  equal(messageAt(5 * 3600, 3600), "Newest point is 5h old at the window end (stale after 1h)");
  equal(messageAt(3 * 86_400, 86_400), "Newest point is 3d old at the window end (stale after 24h)");
  equal(messageAt(61, 30), "Newest point is 61s old at the window end (stale after 30s)");
});

Deno.test("dataWarnings() gives no stale_data for a newest point after the window end", () => {
  deepEqual(codes({ newestMs: END_MS + 5000 }), []);
});

Deno.test("dataWarnings() gives unit_scale_suspected when every score is within 0..1", () => {
  const warnings = dataWarnings(input({ mean: 0.86, allWithinUnitScale: true }));
  equal(warnings.length, 1);
  equal(warnings[0].code, "unit_scale_suspected");
  match(warnings[0].message, /between 0 and 1/);
  match(warnings[0].message, /0\.\.100/);
});

Deno.test("dataWarnings() gives volatility_undefined when the mean of two or more points is 0", () => {
  const warnings = dataWarnings(input({ n: 10, mean: 0 }));
  deepEqual(warnings, [{
    code: "volatility_undefined",
    message: "Mean is 0, so volatilityIndex (σ / μ) is undefined",
  }]);
});

Deno.test("dataWarnings() leaves volatility_undefined out for one point at mean 0 (too_few_samples covers it)", () => {
  deepEqual(codes({ n: 1, mean: 0 }), ["too_few_samples"]);
});

Deno.test("dataWarnings() lists every warning that applies, in a stable order", () => {
  deepEqual(
    codes({ n: 2, mean: 0, newestMs: END_MS - 7 * 86_400_000, allWithinUnitScale: true }),
    ["too_few_samples", "stale_data", "unit_scale_suspected", "volatility_undefined"],
  );
});

Deno.test("dataWarnings() messages are non-empty sentences without NaN or Infinity", () => {
  const all = [
    ...dataWarnings(input({ n: 0, mean: null, newestMs: null })),
    ...dataWarnings(input({ n: 1, mean: 0, newestMs: END_MS - 1e9, allWithinUnitScale: true })),
    ...dataWarnings(input({ n: 3, mean: 0 })),
  ];
  for (const w of all) {
    ok(w.message.length > 10);
    ok(!/NaN|Infinity|undefined s/.test(w.message), w.message);
  }
});

Deno.test("dataWarnings() gives window_exceeds_history when the window starts before the held data", () => {
  const coverageStartMs = END_MS - 3600_000;
  const warnings = dataWarnings(input({ startMs: END_MS - 86_400_000, coverageStartMs }));
  deepEqual(warnings.map((w) => w.code), ["window_exceeds_history"]);
  equal(
    warnings[0].message,
    "The window starts before the held history (points are held from 2025-10-29T17:00:00.000Z): " +
      "earlier points were never pulled or were evicted, so n covers only part of the window",
  );
});

Deno.test("dataWarnings() gives no window_exceeds_history when the window starts at or after the coverage", () => {
  const coverageStartMs = END_MS - 3600_000;
  deepEqual(codes({ startMs: coverageStartMs, coverageStartMs }), []);
  deepEqual(codes({ startMs: coverageStartMs + 1, coverageStartMs }), []);
  deepEqual(codes({ startMs: coverageStartMs - 1, coverageStartMs }), ["window_exceeds_history"]);
});

Deno.test("dataWarnings() gives no window_exceeds_history without a start or with unbounded coverage", () => {
  deepEqual(codes({ coverageStartMs: END_MS }), []);
  deepEqual(codes({ startMs: 0, coverageStartMs: null }), []);
  deepEqual(codes({ startMs: 0 }), []);
});

Deno.test("dataWarnings() gives window_exceeds_history before no_data for an empty window", () => {
  deepEqual(
    codes({
      n: 0,
      mean: null,
      newestMs: null,
      startMs: END_MS - 7_200_000,
      coverageStartMs: END_MS - 3_600_000,
    }),
    ["window_exceeds_history", "no_data"],
  );
});
