/**
 * Exact least-squares sums of any index range of a (time, score) series in O(B + log(n / B)): a segment tree
 * over blocks of {@linkcode REGRESSION_BLOCK} points, the regression counterpart of `moment_tree.ts`. Pure:
 * no I/O.
 *
 * Each leaf holds the co-moments of one block — count, mean time, mean score, Stt = Σ (tᵢ − t̄)² and
 * Stx = Σ (tᵢ − t̄)(xᵢ − x̄) — by the corrected two-pass algorithm; inner nodes combine their children with the
 * pairwise update of Chan, Golub & LeVeque extended to co-moments:
 *   Stt = Stt₁ + Stt₂ + δt² · n₁n₂ / n,  Stx = Stx₁ + Stx₂ + δt · δx · n₁n₂ / n,
 * where δt, δx are the differences of the two parts' means. A range [a, b) is its two partial edge blocks,
 * read directly, plus the whole blocks between them from at most 2·log₂(n / B) nodes.
 *
 * Role: the exact fallback of the regression prefix sums (`regression_prefix.ts`, issue 14 item 3). Those
 * answer most long windows in O(PREFIX_BLOCK) with a rounding-error bound; a window whose bound exceeds the
 * tolerance — typically a short window late in a long series, whose Stt from prefix sums loses about
 * ε·(T / w)³ of its value (a 1 h window at the end of 30 days: ~1e-7) — is answered here, exactly, at the cost
 * the score tree's fallback pays. Built lazily at the first such window (1.75–3.5 bytes a point).
 *
 * Times are held as u = (t − origin) / 1000 seconds, with the origin fixed at the first timestamp the tree
 * saw, and means are split in two (μ = hi + lo, as in `moment_tree.ts`), so that scores near 100 with slopes of
 * 1e-9 per second keep their digits.
 */

/** Points per leaf block. */
export const REGRESSION_BLOCK = 64;

/** Co-moments of a set of (u, x) pairs, u in seconds from the tree's origin; means split as hi + lo. */
export interface CoMoments {
  n: number;
  uHi: number;
  uLo: number;
  xHi: number;
  xLo: number;
  stt: number;
  stx: number;
}

export function emptyCoMoments(): CoMoments {
  return { n: 0, uHi: 0, uLo: 0, xHi: 0, xLo: 0, stt: 0, stx: 0 };
}

/** Adds `b` into `a` in place (pairwise update on split means); returns `a`. `b` must share `a`'s origin. */
export function addCoMoments(a: CoMoments, b: CoMoments): CoMoments {
  if (b.n === 0) return a;
  if (a.n === 0) return Object.assign(a, b);
  const n = a.n + b.n;
  const du = (b.uHi - a.uHi) + (b.uLo - a.uLo);
  const dx = (b.xHi - a.xHi) + (b.xLo - a.xLo);
  const w = (a.n * b.n) / n;
  a.uLo += (du * b.n) / n;
  a.xLo += (dx * b.n) / n;
  a.stt += b.stt + du * du * w;
  a.stx += b.stx + du * dx * w;
  a.n = n;
  return a;
}

/**
 * Co-moments of points [from, to) by the corrected two-pass algorithm: compensated (Neumaier) means first,
 * then the deviations' sums. Point i's time is u = (ts[i] − origin) / 1000 seconds, its score x[i].
 */
export function coMomentsOf(
  ts: ArrayLike<number>,
  origin: number,
  x: ArrayLike<number>,
  from: number,
  to: number,
): CoMoments {
  const n = to - from;
  if (n <= 0) return emptyCoMoments();
  let us = 0, uc = 0, xs = 0, xc = 0;
  for (let i = from; i < to; i++) {
    const u = (ts[i] - origin) / 1000;
    let t = us + u;
    uc += Math.abs(us) >= Math.abs(u) ? (us - t) + u : (u - t) + us;
    us = t;
    const v = x[i];
    t = xs + v;
    xc += Math.abs(xs) >= Math.abs(v) ? (xs - t) + v : (v - t) + xs;
    xs = t;
  }
  const uHi = (us + uc) / n;
  const xHi = (xs + xc) / n;
  let su = 0, sx = 0, suu = 0, sux = 0;
  for (let i = from; i < to; i++) {
    const du = (ts[i] - origin) / 1000 - uHi;
    const dx = x[i] - xHi;
    su += du;
    sx += dx;
    suu += du * du;
    sux += du * dx;
  }
  return {
    n,
    uHi,
    uLo: su / n,
    xHi,
    xLo: sx / n,
    stt: Math.max(0, suu - (su * su) / n),
    stx: sux - (su * sx) / n,
  };
}

const NONE = new Float64Array(0);
const MIN_LEAVES = 4;

/**
 * The regression tree of one series. Built lazily: the owner calls {@linkcode RegressionTree.invalidateFrom}
 * when points change and the tree brings itself up to date at the next query, so a series nobody forecasts
 * costs nothing.
 */
export class RegressionTree {
  /** Epoch ms that u = 0 stands for; fixed at the first build. */
  origin: number | null = null;
  #leaves = 0;
  #blocks = 0;
  /** First index whose block must be recomputed before the next query (Infinity: up to date). */
  #dirtyFrom = 0;
  #n = NONE;
  #uHi = NONE;
  #uLo = NONE;
  #xHi = NONE;
  #xLo = NONE;
  #stt = NONE;
  #stx = NONE;

  /** Bytes held by the tree's columns. */
  get byteLength(): number {
    return 7 * this.#n.byteLength;
  }

  /** Marks the points from index `from` on as changed. */
  invalidateFrom(from: number): void {
    this.#dirtyFrom = Math.min(this.#dirtyFrom, from);
  }

  /** Exact co-moments of points [a, b) of the columns (`ts` epoch ms, `score`) of length `length`. */
  query(ts: Float64Array, score: Float64Array, length: number, a: number, b: number): CoMoments {
    if (b <= a) return emptyCoMoments();
    if (this.origin === null) this.origin = ts[0];
    const origin = this.origin;
    // A series of at most two blocks is read directly: no tree to build or keep.
    if (length <= 2 * REGRESSION_BLOCK) return coMomentsOf(ts, origin, score, a, b);
    this.#sync(ts, origin, score, length);
    const B = REGRESSION_BLOCK;
    const firstWhole = Math.ceil(a / B);
    const endWhole = Math.floor(b / B);
    if (endWhole <= firstWhole) return coMomentsOf(ts, origin, score, a, b);
    const acc = coMomentsOf(ts, origin, score, a, firstWhole * B);
    const node = emptyCoMoments();
    let l = firstWhole + this.#leaves, r = endWhole + this.#leaves;
    while (l < r) {
      if (l & 1) addCoMoments(acc, this.#read(l++, node));
      if (r & 1) addCoMoments(acc, this.#read(--r, node));
      l >>= 1;
      r >>= 1;
    }
    return addCoMoments(acc, coMomentsOf(ts, origin, score, endWhole * B, b));
  }

  #read(i: number, out: CoMoments): CoMoments {
    out.n = this.#n[i];
    out.uHi = this.#uHi[i];
    out.uLo = this.#uLo[i];
    out.xHi = this.#xHi[i];
    out.xLo = this.#xLo[i];
    out.stt = this.#stt[i];
    out.stx = this.#stx[i];
    return out;
  }

  #sync(ts: Float64Array, origin: number, score: Float64Array, length: number): void {
    if (this.#dirtyFrom === Infinity) return;
    const blocks = Math.ceil(length / REGRESSION_BLOCK);
    let oldBlocks = this.#blocks;
    let first = Math.min(Math.floor(this.#dirtyFrom / REGRESSION_BLOCK), oldBlocks, blocks);
    let needed = MIN_LEAVES;
    while (needed < blocks) needed *= 2;
    if (needed !== this.#leaves && (needed > this.#leaves || needed < this.#leaves / 4)) {
      this.#allocate(needed);
      first = 0;
      oldBlocks = 0;
    }
    for (let j = first; j < blocks; j++) {
      const from = j * REGRESSION_BLOCK;
      const m = coMomentsOf(ts, origin, score, from, Math.min(from + REGRESSION_BLOCK, length));
      this.#write(this.#leaves + j, m);
    }
    for (let j = blocks; j < oldBlocks; j++) this.#write(this.#leaves + j, emptyCoMoments());
    this.#blocks = blocks;
    const end = Math.max(blocks, oldBlocks);
    if (end > first) {
      let l = (first + this.#leaves) >> 1;
      let r = (end - 1 + this.#leaves) >> 1;
      const left = emptyCoMoments(), right = emptyCoMoments();
      while (l >= 1) {
        for (let i = l; i <= r; i++) {
          this.#write(i, addCoMoments(this.#read(2 * i, left), this.#read(2 * i + 1, right)));
        }
        l >>= 1;
        r >>= 1;
      }
    }
    this.#dirtyFrom = Infinity;
  }

  #write(i: number, m: CoMoments): void {
    this.#n[i] = m.n;
    this.#uHi[i] = m.uHi;
    this.#uLo[i] = m.uLo;
    this.#xHi[i] = m.xHi;
    this.#xLo[i] = m.xLo;
    this.#stt[i] = m.stt;
    this.#stx[i] = m.stx;
  }

  /** Fresh (zeroed) columns for `leaves` leaf slots; every block is then recomputed. */
  #allocate(leaves: number): void {
    this.#n = new Float64Array(2 * leaves);
    this.#uHi = new Float64Array(2 * leaves);
    this.#uLo = new Float64Array(2 * leaves);
    this.#xHi = new Float64Array(2 * leaves);
    this.#xLo = new Float64Array(2 * leaves);
    this.#stt = new Float64Array(2 * leaves);
    this.#stx = new Float64Array(2 * leaves);
    this.#leaves = leaves;
    this.#blocks = 0;
  }
}
