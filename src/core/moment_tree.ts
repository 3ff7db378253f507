/**
 * Exact moments of any index range of a score column in O(B + log(n / B)): a segment tree over blocks of
 * {@linkcode BLOCK} points. Pure: no I/O.
 *
 * Each leaf holds the exact moments of one block — count, mean and M2 = Σ (xᵢ − μ)² — computed by the corrected
 * two-pass algorithm; each inner node combines its two children with Chan, Golub & LeVeque's pairwise formula.
 * A range [a, b) is the two partial blocks at its edges, again by two-pass, plus the whole blocks between them,
 * taken from at most 2·log₂(n / B) nodes. Every term of a combined M2 is non-negative (no cancellation), so the
 * result keeps the two-pass algorithm's accuracy at a bounded cost.
 *
 * Means are held split in two, μ = hi + lo, where hi is the rounded mean and lo the residual Σ (xᵢ − hi) / n.
 * The difference of two block means, which the combination squares, is then (hi₂ − hi₁) + (lo₂ − lo₁): the
 * first term is exact for nearby means (Sterbenz) and the second carries what rounding hi dropped. Without the
 * split, a window of scores like 97.5 ± 1e-9 would lose about six digits of its variance to the rounding of
 * each block mean (an error of 1e-14 next to differences of 1e-11).
 *
 * The tree also keeps each node's largest score, so "every score in the range is within 0..1" costs the same.
 *
 * A column of at most {@linkcode DIRECT_MAX} points has no tree at all: its ranges are read directly, which
 * costs no more than the two partial edge blocks of a larger range, and keeps small series small (most signals
 * of a high-cardinality upstream hold a handful of points).
 */

import { type SplitMoments, splitMomentsOf } from "./stats.ts";

/** Points per leaf block. Partial blocks at a range's edges (fewer than 2·BLOCK points) are read directly. */
export const BLOCK = 64;

/** Adds `b` into `a` in place (Chan et al.'s pairwise update on split means); returns `a`. */
export function addSplitMoments(a: SplitMoments, b: SplitMoments): SplitMoments {
  if (b.n === 0) return a;
  if (a.n === 0) {
    a.n = b.n;
    a.hi = b.hi;
    a.lo = b.lo;
    a.m2 = b.m2;
    return a;
  }
  const n = a.n + b.n;
  const delta = (b.hi - a.hi) + (b.lo - a.lo);
  a.lo += (delta * b.n) / n;
  a.m2 += b.m2 + delta * delta * ((a.n * b.n) / n);
  a.n = n;
  return a;
}

const MIN_LEAVES = 4;

/** Columns of up to this many points are read directly, without a tree (two partial blocks' worth). */
export const DIRECT_MAX = 2 * BLOCK;

/** The columns of a tree not built (yet): shared, never written. */
const NONE = new Float64Array(0);

/** The block tree of one score column. The owner calls {@linkcode MomentTree.update} whenever scores change. */
export class MomentTree {
  /**
   * Leaf slots (a power of two); node i has children 2i and 2i + 1, leaf j is node leaves + j. 0 while the
   * column is short enough to be read directly (no tree built).
   */
  #leaves = 0;
  /** Blocks in use: ceil(length / BLOCK). */
  #blocks = 0;
  #n = NONE;
  #hi = NONE;
  #lo = NONE;
  #m2 = NONE;
  #max = NONE;

  /** Bytes held by the tree's columns. */
  get byteLength(): number {
    return 5 * this.#n.byteLength;
  }

  /**
   * Recomputes the blocks that hold `values[from..length)` (everything from the block containing `from` on);
   * `length` is the column's new length, which may be shorter than before (eviction).
   */
  update(values: Float64Array, from: number, length: number): void {
    if (length <= DIRECT_MAX) {
      this.#release();
      return;
    }
    const blocks = Math.ceil(length / BLOCK);
    const oldBlocks = this.#blocks;
    const first = Math.min(Math.floor(from / BLOCK), oldBlocks, blocks);
    let needed = MIN_LEAVES;
    while (needed < blocks) needed *= 2;
    if (needed > this.#leaves || needed < this.#leaves / 4) {
      // Grow (or shrink after a large eviction): keep the unchanged leaves, then recompute every inner node.
      this.#reallocate(needed, first);
      this.#recomputeLeaves(values, first, blocks, length);
      this.#blocks = blocks;
      this.#pullRange(0, blocks);
      return;
    }
    this.#recomputeLeaves(values, first, blocks, length);
    for (let j = blocks; j < oldBlocks; j++) this.#clearNode(this.#leaves + j);
    this.#blocks = blocks;
    this.#pullRange(first, Math.max(blocks, oldBlocks));
  }

  /** Exact moments of values[a..b); `values` must be the column the tree was last updated with. */
  moments(values: Float64Array, a: number, b: number): { n: number; mean: number; m2: number } {
    const firstWhole = Math.ceil(a / BLOCK);
    const endWhole = Math.floor(b / BLOCK);
    let acc: SplitMoments;
    if (this.#leaves === 0 || endWhole <= firstWhole) {
      acc = splitMomentsOf(values, a, b);
    } else {
      acc = splitMomentsOf(values, a, firstWhole * BLOCK);
      this.#query(firstWhole, endWhole, acc);
      addSplitMoments(acc, splitMomentsOf(values, endWhole * BLOCK, b));
    }
    return acc.n === 0 ? { n: 0, mean: 0, m2: 0 } : { n: acc.n, mean: acc.hi + acc.lo, m2: acc.m2 };
  }

  /** Largest of values[a..b) (−Infinity when empty). */
  max(values: Float64Array, a: number, b: number): number {
    const firstWhole = Math.ceil(a / BLOCK);
    const endWhole = Math.floor(b / BLOCK);
    let best = -Infinity;
    if (this.#leaves === 0 || endWhole <= firstWhole) {
      for (let i = a; i < b; i++) if (values[i] > best) best = values[i];
      return best;
    }
    for (let i = a; i < firstWhole * BLOCK; i++) if (values[i] > best) best = values[i];
    for (let i = endWhole * BLOCK; i < b; i++) if (values[i] > best) best = values[i];
    let l = firstWhole + this.#leaves, r = endWhole + this.#leaves;
    const max = this.#max;
    while (l < r) {
      if (l & 1) best = Math.max(best, max[l++]);
      if (r & 1) best = Math.max(best, max[--r]);
      l >>= 1;
      r >>= 1;
    }
    return best;
  }

  /** Adds whole blocks [first, end) into acc, from at most 2·log₂(leaves) nodes. */
  #query(first: number, end: number, acc: SplitMoments): void {
    const node: SplitMoments = { n: 0, hi: 0, lo: 0, m2: 0 };
    let l = first + this.#leaves, r = end + this.#leaves;
    while (l < r) {
      if (l & 1) addSplitMoments(acc, this.#read(l++, node));
      if (r & 1) addSplitMoments(acc, this.#read(--r, node));
      l >>= 1;
      r >>= 1;
    }
  }

  #read(i: number, out: SplitMoments): SplitMoments {
    out.n = this.#n[i];
    out.hi = this.#hi[i];
    out.lo = this.#lo[i];
    out.m2 = this.#m2[i];
    return out;
  }

  #recomputeLeaves(values: Float64Array, first: number, blocks: number, length: number): void {
    for (let j = first; j < blocks; j++) {
      const from = j * BLOCK;
      const to = Math.min(from + BLOCK, length);
      const m = splitMomentsOf(values, from, to);
      let max = -Infinity;
      for (let i = from; i < to; i++) if (values[i] > max) max = values[i];
      const k = this.#leaves + j;
      this.#n[k] = m.n;
      this.#hi[k] = m.hi;
      this.#lo[k] = m.lo;
      this.#m2[k] = m.m2;
      this.#max[k] = max;
    }
  }

  /** Recomputes every ancestor of leaves [first, end). */
  #pullRange(first: number, end: number): void {
    if (end <= first) return;
    let l = (first + this.#leaves) >> 1;
    let r = (end - 1 + this.#leaves) >> 1;
    while (l >= 1) {
      for (let i = l; i <= r; i++) this.#pull(i);
      l >>= 1;
      r >>= 1;
    }
  }

  #pull(i: number): void {
    const left = 2 * i, right = left + 1;
    const n = this.#n, hi = this.#hi, lo = this.#lo, m2 = this.#m2, max = this.#max;
    const nl = n[left], nr = n[right];
    const from = nr === 0 ? left : nl === 0 ? right : -1;
    if (from >= 0) {
      n[i] = n[from];
      hi[i] = hi[from];
      lo[i] = lo[from];
      m2[i] = m2[from];
      max[i] = max[from];
      return;
    }
    const total = nl + nr;
    const delta = (hi[right] - hi[left]) + (lo[right] - lo[left]);
    n[i] = total;
    hi[i] = hi[left];
    lo[i] = lo[left] + (delta * nr) / total;
    m2[i] = m2[left] + m2[right] + delta * delta * ((nl * nr) / total);
    max[i] = Math.max(max[left], max[right]);
  }

  #clearNode(i: number): void {
    this.#n[i] = 0;
    this.#hi[i] = 0;
    this.#lo[i] = 0;
    this.#m2[i] = 0;
    this.#max[i] = -Infinity;
  }

  /** Drops the tree (the column is short enough to read directly). */
  #release(): void {
    this.#n =
      this.#hi =
      this.#lo =
      this.#m2 =
      this.#max =
        NONE;
    this.#leaves = 0;
    this.#blocks = 0;
  }

  /** New columns for `leaves` leaf slots, keeping leaves [0, keep); inner nodes must be recomputed after. */
  #reallocate(leaves: number, keep: number): void {
    const move = (old: Float64Array, fill: number) => {
      const next = new Float64Array(2 * leaves);
      if (fill !== 0) next.fill(fill);
      next.set(old.subarray(this.#leaves, this.#leaves + keep), leaves);
      return next;
    };
    this.#n = move(this.#n, 0);
    this.#hi = move(this.#hi, 0);
    this.#lo = move(this.#lo, 0);
    this.#m2 = move(this.#m2, 0);
    this.#max = move(this.#max, -Infinity);
    this.#leaves = leaves;
    this.#blocks = keep;
  }
}
