/**
 * Binary search over the sorted prefix `ts[0..n)` of a timestamp column: the one implementation the point
 * store, the replay and the mock upstream share. Pure: no I/O.
 */

/** First index i in ts[0..n) with ts[i] > x. */
export function upperBound(ts: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i in ts[0..n) with ts[i] >= x. */
export function lowerBound(ts: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
