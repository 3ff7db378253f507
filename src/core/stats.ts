/**
 * Descriptive statistics for a window of scores. Pure: no I/O.
 *
 * Everything is expressed through {@linkcode Moments} — the count, the mean and M2 = Σ (xᵢ − μ)² — because
 * moments of disjoint parts combine exactly (Chan et al.), which is how the point store answers windows and
 * pools signals without touching every point. The direct path is the corrected two-pass algorithm
 * (Björck; Chan, Golub & LeVeque 1983), which stays accurate for values around 1e9 where the textbook
 * Σx² − (Σx)²/n formula loses every digit.
 */

/** Count, mean and sum of squared deviations of a set of values. Empty sets have `n = 0, mean = 0, m2 = 0`. */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

/** What a window reports: null wherever the value is undefined for this `n` (never NaN or Infinity). */
export interface Summary {
  n: number;
  mean: number | null;
  stdev: number | null;
  volatilityIndex: number | null;
}

export const EMPTY_MOMENTS: Readonly<Moments> = Object.freeze({ n: 0, mean: 0, m2: 0 });

/** Count, split mean (μ = hi + lo) and M2 of a set of values. */
export interface SplitMoments {
  n: number;
  hi: number;
  lo: number;
  m2: number;
}

/**
 * Moments of `values[from..to)` by the corrected two-pass algorithm, with the mean split into its rounded
 * value `hi` (a compensated sum over n) and the residual `lo` = Σ (xᵢ − hi) / n.
 */
export function splitMomentsOf(values: ArrayLike<number>, from: number, to: number): SplitMoments {
  const n = to - from;
  if (n <= 0) return { n: 0, hi: 0, lo: 0, m2: 0 };
  let sum = 0;
  let compensation = 0;
  for (let i = from; i < to; i++) {
    const x = values[i];
    const t = sum + x;
    compensation += Math.abs(sum) >= Math.abs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  const hi = (sum + compensation) / n;
  let squares = 0;
  let deviations = 0;
  for (let i = from; i < to; i++) {
    const d = values[i] - hi;
    squares += d * d;
    deviations += d;
  }
  return { n, hi, lo: deviations / n, m2: Math.max(0, squares - (deviations * deviations) / n) };
}

/**
 * Moments of `values[from..to)` by the corrected two-pass algorithm: a compensated sum for the mean, then
 * M2 = Σ dᵢ² − (Σ dᵢ)² / n with dᵢ = xᵢ − μ, whose second term removes the rounding left in μ.
 */
export function momentsOf(values: ArrayLike<number>, from = 0, to = values.length): Moments {
  const { n, hi, lo, m2 } = splitMomentsOf(values, from, to);
  return n === 0 ? { ...EMPTY_MOMENTS } : { n, mean: hi + lo, m2 };
}

/** Moments of the union of two disjoint sets (Chan, Golub & LeVeque's pairwise update). */
export function combineMoments(a: Moments, b: Moments): Moments {
  if (a.n === 0) return { ...b };
  if (b.n === 0) return { ...a };
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return {
    n,
    mean: a.mean + (delta * b.n) / n,
    m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n,
  };
}

/**
 * Mean, sample standard deviation σ = √(M2 / (n − 1)) and volatility index σ / μ.
 * n = 0: all null. n = 1: stdev and volatilityIndex null. μ = 0: volatilityIndex null (σ / 0 is undefined).
 */
export function summarize(moments: Moments): Summary {
  const { n, mean, m2 } = moments;
  if (n === 0) return { n, mean: null, stdev: null, volatilityIndex: null };
  if (n === 1) return { n, mean, stdev: null, volatilityIndex: null };
  const stdev = Math.sqrt(m2 / (n - 1));
  const volatilityIndex = mean === 0 ? null : stdev / mean;
  return {
    n,
    mean,
    stdev,
    volatilityIndex: volatilityIndex !== null && Number.isFinite(volatilityIndex) ? volatilityIndex : null,
  };
}
