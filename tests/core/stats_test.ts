import { deepEqual, equal, notStrictEqual, ok } from "node:assert/strict";
import { combineMoments, EMPTY_MOMENTS, type Moments, momentsOf, summarize } from "../../src/core/stats.ts";
import { mulberry32, relativeError } from "./support.ts";

function assertClose(actual: number | null, expected: number, tolerance: number, label = "value"): void {
  ok(actual !== null, `${label} is null, expected ${expected}`);
  const error = relativeError(actual, expected);
  ok(error <= tolerance, `${label}: ${actual} vs ${expected} (relative error ${error} > ${tolerance})`);
}

/** Every number in the object is finite (null is allowed). */
function assertNoNonFinite(value: object, label: string): void {
  for (const [key, v] of Object.entries(value)) {
    if (v === null) continue;
    ok(typeof v === "number" && Number.isFinite(v), `${label}.${key} = ${v}`);
  }
}

/** Reference: the textbook two-pass mean and M2 (accurate for small, well-scaled sets). */
function referenceMoments(values: readonly number[]): Moments {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, m2: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const m2 = values.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { n, mean, m2 };
}

Deno.test("momentsOf() of no values is n 0, mean 0, M2 0", () => {
  deepEqual(momentsOf([]), { n: 0, mean: 0, m2: 0 });
  deepEqual(momentsOf(new Float64Array(0)), EMPTY_MOMENTS);
});

Deno.test("momentsOf() returns a fresh object for the empty set, not the frozen constant", () => {
  const m = momentsOf([]);
  notStrictEqual(m, EMPTY_MOMENTS);
  m.n = 5;
  equal(EMPTY_MOMENTS.n, 0);
});

Deno.test("momentsOf() of one value is that value with M2 0", () => {
  deepEqual(momentsOf([86.2]), { n: 1, mean: 86.2, m2: 0 });
});

Deno.test("momentsOf() of identical values has M2 exactly 0 and the value as mean", () => {
  for (const x of [0, 0.1, 1 / 3, 33.3, 86.2, 99.99, 100, 1e9 + 0.1]) {
    for (const n of [2, 3, 7, 1000, 100_001]) {
      const m = momentsOf(new Float64Array(n).fill(x));
      equal(m.mean, x, `mean of ${n} × ${x}`);
      equal(m.m2, 0, `M2 of ${n} × ${x}`);
    }
  }
});

Deno.test("summarize() of identical values has stdev and volatilityIndex exactly 0", () => {
  const s = summarize(momentsOf([70, 70, 70, 70]));
  deepEqual(s, { n: 4, mean: 70, stdev: 0, volatilityIndex: 0 });
});

Deno.test("momentsOf() matches hand-computed values for 2, 4, 4, 4, 5, 5, 7, 9", () => {
  // μ = 40 / 8 = 5; Σ(x − μ)² = 9 + 1 + 1 + 1 + 0 + 0 + 4 + 16 = 32.
  deepEqual(momentsOf([2, 4, 4, 4, 5, 5, 7, 9]), { n: 8, mean: 5, m2: 32 });
  const s = summarize(momentsOf([2, 4, 4, 4, 5, 5, 7, 9]));
  assertClose(s.stdev, Math.sqrt(32 / 7), 1e-15, "stdev");
  assertClose(s.stdev, 2.138089935299395, 1e-15, "stdev");
  assertClose(s.volatilityIndex, Math.sqrt(32 / 7) / 5, 1e-15, "volatilityIndex");
});

Deno.test("momentsOf() matches hand-computed values for 1, 2, 3, 4", () => {
  // μ = 2.5; Σ(x − μ)² = 2.25 + 0.25 + 0.25 + 2.25 = 5; s² = 5 / 3.
  deepEqual(momentsOf([1, 2, 3, 4]), { n: 4, mean: 2.5, m2: 5 });
  assertClose(summarize(momentsOf([1, 2, 3, 4])).stdev, Math.sqrt(5 / 3), 1e-15, "stdev");
});

Deno.test("summarize() of 80 and 90 gives mean 85, stdev √50 and volatilityIndex √50 / 85", () => {
  const s = summarize(momentsOf([80, 90]));
  equal(s.n, 2);
  equal(s.mean, 85);
  assertClose(s.stdev, 7.0710678118654755, 1e-15, "stdev");
  assertClose(s.volatilityIndex, 0.08318903308077029, 1e-15, "volatilityIndex");
});

Deno.test("momentsOf() of decimal scores matches the textbook two-pass result", () => {
  const values = [86.2, 91.4, 78.9, 88.1, 84.7, 90.3, 79.5];
  const m = momentsOf(values);
  const ref = referenceMoments(values);
  equal(m.n, 7);
  assertClose(m.mean, ref.mean, 1e-15, "mean");
  assertClose(m.m2, ref.m2, 1e-13, "m2");
});

Deno.test("momentsOf() honours the from/to range", () => {
  const values = [100, 2, 4, 4, 4, 5, 5, 7, 9, -100];
  deepEqual(momentsOf(values, 1, 9), { n: 8, mean: 5, m2: 32 });
  deepEqual(momentsOf(values, 3, 3), { n: 0, mean: 0, m2: 0 });
  deepEqual(momentsOf(values, 5, 2), { n: 0, mean: 0, m2: 0 });
  deepEqual(momentsOf(values, 9), { n: 1, mean: -100, m2: 0 });
});

Deno.test("momentsOf() of a million values around 1e9 has the exact mean and a stdev within 1e-9", () => {
  // 1e9 + (−2, −1, 0, 1, 2) repeated: μ = 1e9 exactly, M2 = 200 000 × (4 + 1 + 0 + 1 + 4) = 2e6.
  const n = 1_000_000;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = 1e9 + ((i % 5) - 2);
  const m = momentsOf(values);
  equal(m.n, n);
  equal(m.mean, 1e9);
  assertClose(m.m2, 2e6, 1e-9, "m2");
  const exactStdev = Math.sqrt(2e6 / (n - 1));
  const s = summarize(m);
  assertClose(s.stdev, exactStdev, 1e-9, "stdev");
  assertClose(s.volatilityIndex, exactStdev / 1e9, 1e-9, "volatilityIndex");

  // The textbook one-pass formula Σx² − (Σx)²/n is useless here: Σx² ≈ 1e24 has an ulp of about 1.3e8.
  let sum = 0;
  let squares = 0;
  for (const x of values) {
    sum += x;
    squares += x * x;
  }
  const naiveM2 = squares - (sum * sum) / n;
  const naiveError = relativeError(naiveM2, 2e6);
  ok(naiveError > 1, `naive M2 ${naiveM2} was expected to be far off (relative error ${naiveError})`);
});

Deno.test("momentsOf() of a large offset plus small noise equals the moments of the noise", () => {
  const random = mulberry32(7);
  const n = 10_000;
  // Multiples of 2⁻¹⁰ within ±0.5: 1e9 + x is exact (the ulp at 1e9 is 2⁻²³), so both sets have the same M2
  // and means that differ by exactly 1e9.
  const noise = Array.from({ length: n }, () => Math.round((random() - 0.5) * 1024) / 1024);
  const centred = momentsOf(noise);
  const shifted = momentsOf(noise.map((x) => x + 1e9));
  equal(shifted.n, n);
  ok(
    Math.abs(shifted.mean - (1e9 + centred.mean)) <= 2.4e-7,
    `mean ${shifted.mean} vs 1e9 + ${centred.mean}`,
  );
  assertClose(shifted.m2, centred.m2, 1e-9, "m2");
});

Deno.test("combineMoments() of two parts equals momentsOf() of their concatenation", () => {
  const random = mulberry32(42);
  for (let trial = 0; trial < 200; trial++) {
    const a = Array.from({ length: 1 + Math.floor(random() * 50) }, () => random() * 100);
    const b = Array.from({ length: 1 + Math.floor(random() * 50) }, () => 40 + random() * 60);
    const combined = combineMoments(momentsOf(a), momentsOf(b));
    const direct = momentsOf([...a, ...b]);
    equal(combined.n, direct.n);
    assertClose(combined.mean, direct.mean, 1e-13, `mean, trial ${trial}`);
    assertClose(combined.m2, direct.m2, 1e-12, `m2, trial ${trial}`);
  }
});

Deno.test("combineMoments() folds many parts into the moments of the whole", () => {
  const random = mulberry32(3);
  const all: number[] = [];
  let acc: Moments = { ...EMPTY_MOMENTS };
  for (let part = 0; part < 100; part++) {
    const values = Array.from({ length: Math.floor(random() * 20) }, () => 1e9 + random() * 10);
    all.push(...values);
    acc = combineMoments(acc, momentsOf(values));
  }
  const direct = momentsOf(all);
  equal(acc.n, direct.n);
  assertClose(acc.mean, direct.mean, 1e-15, "mean");
  assertClose(acc.m2, direct.m2, 1e-9, "m2");
});

Deno.test("combineMoments() of disjoint sets with different means adds the between-group term", () => {
  // {0, 2} and {10, 12}: M2 = 2 + 2 + (10² · 2 · 2) / 4 = 104; the whole set also gives 104.
  deepEqual(combineMoments(momentsOf([0, 2]), momentsOf([10, 12])), { n: 4, mean: 6, m2: 104 });
  deepEqual(momentsOf([0, 2, 10, 12]), { n: 4, mean: 6, m2: 104 });
});

Deno.test("combineMoments() with an empty side returns a copy of the other side", () => {
  const m = momentsOf([1, 2, 3]);
  const left = combineMoments(EMPTY_MOMENTS, m);
  const right = combineMoments(m, EMPTY_MOMENTS);
  deepEqual(left, m);
  deepEqual(right, m);
  notStrictEqual(left, m);
  notStrictEqual(right, m);
  deepEqual(combineMoments(EMPTY_MOMENTS, EMPTY_MOMENTS), { n: 0, mean: 0, m2: 0 });
});

Deno.test("combineMoments() is symmetric up to rounding", () => {
  const a = momentsOf([81.5, 90.25, 77]);
  const b = momentsOf([60, 99.5]);
  const ab = combineMoments(a, b);
  const ba = combineMoments(b, a);
  equal(ab.n, ba.n);
  assertClose(ab.mean, ba.mean, 1e-15, "mean");
  assertClose(ab.m2, ba.m2, 1e-14, "m2");
});

Deno.test("summarize() of no points has every statistic null", () => {
  deepEqual(summarize(momentsOf([])), { n: 0, mean: null, stdev: null, volatilityIndex: null });
});

Deno.test("summarize() of one point has a mean but a null stdev and volatilityIndex", () => {
  deepEqual(summarize(momentsOf([42.5])), { n: 1, mean: 42.5, stdev: null, volatilityIndex: null });
});

Deno.test("summarize() gives a null volatilityIndex when the mean is 0", () => {
  deepEqual(summarize(momentsOf([0, 0, 0])), { n: 3, mean: 0, stdev: 0, volatilityIndex: null });
  // Moments with mean 0 and spread (not possible for 0..100 scores, but combineMoments can be fed anything).
  const s = summarize({ n: 2, mean: 0, m2: 2 });
  equal(s.stdev, Math.sqrt(2));
  equal(s.volatilityIndex, null);
});

Deno.test("summarize() uses the sample (n − 1) denominator", () => {
  equal(summarize({ n: 5, mean: 10, m2: 16 }).stdev, 2);
  equal(summarize({ n: 5, mean: 10, m2: 16 }).volatilityIndex, 0.2);
});

Deno.test("summarize() and momentsOf() never produce NaN or Infinity for 0..100 scores", () => {
  const random = mulberry32(11);
  const sets: number[][] = [[], [0], [100], [0, 0], [100, 100], [0, 100], [0, 0, 0, 1e-300], [
    5e-324,
    5e-324,
  ]];
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(random() * 8);
    const pick = random();
    sets.push(Array.from({ length: n }, () => pick < 0.3 ? Math.round(random()) * 100 : random() * 100));
  }
  for (const values of sets) {
    const m = momentsOf(values);
    assertNoNonFinite(m, `momentsOf(${values})`);
    ok(m.m2 >= 0, `M2 of ${values} is negative`);
    assertNoNonFinite(summarize(m), `summarize(${values})`);
  }
});

Deno.test("momentsOf() never returns a negative M2 for nearly identical values", () => {
  const random = mulberry32(5);
  for (let trial = 0; trial < 200; trial++) {
    const base = random() * 100;
    const values = Array.from(
      { length: 2 + Math.floor(random() * 30) },
      () => base + (random() < 0.5 ? 0 : 1e-13),
    );
    ok(momentsOf(values).m2 >= 0);
  }
});
