/**
 * Least-squares sums of a (time, score) series from prefix sums (issue 14, item 3): Σu, Σu² and Σu·d beside
 * the series' own per-point prefix sums of d and d² (`point_store.ts`), with a rounding-error bound per query.
 * The caller answers from the exact regression tree (`regression_tree.ts`) when the bound is too large. Pure:
 * no I/O.
 *
 * Coordinates. Times are u = (t − origin) / 1000 seconds, the origin being the series' mean time at the last
 * rebuild (rounded to the millisecond), so the sums grow from the middle of the series rather than from its
 * first point. Scores are d = x − K, K being the shift of the series' score prefix sums (its mean at their
 * last rebuild), so Σd and Σd² come from those sums (`p1`, `p2`) and Σu·d is consistent with them.
 *
 * Block-granular prefix columns. Three more float64 columns per point would cost 24 bytes a point, 36 at the
 * 1.5× growth headroom: 48 + 36 = 84 bytes a point, over the 64-byte budget. So the sums are kept per block of
 * {@linkcode PREFIX_BLOCK} (16) points: entry k holds the sums over points [0, 16k), 1.5 bytes a point (2.25 at
 * worst headroom). A window [a, b) is the prefix difference over its whole blocks plus its partial edge
 * blocks (at most 2·15 points) summed directly, in the same shifted coordinates, and added to the
 * differences: one formula and one bound for the whole window, at O(B) + O(1) after the binary searches.
 * Windows of at most {@linkcode DIRECT_MAX} (128) points skip all this: they are read directly by two-pass.
 *
 * Accumulation and upkeep. The sums are built by Neumaier-compensated summation, lazily at the first forecast
 * over the series (a series never forecast pays nothing); appends extend them, continuing the running
 * compensated state at the last whole block; anything else (an out-of-order merge, an eviction, a new score
 * shift K) rebuilds them from scratch, with a fresh time origin, at the next query — so every stored entry is
 * the rounding of one uninterrupted compensated sum.
 *
 * Error bound. Write S = (P[kb] − P[ka]) + E for each sum, P the stored prefix values and E the edge sum of
 * k points. Each stored P is within ε/2·|P| of the exact prefix (a compensated sum rounded once; Neumaier's
 * own error is O(ε²)), the subtraction and the final addition round by ε/2 of their results, and the naive
 * edge sum errs by at most k·ε·Σ|terms|, so
 *   e(S) ≤ 2ε(|P[ka]| + |P[kb]| + |S|) + k·ε·Σ_edge|terms|
 * (generous, like the score bound in `Series.moments()`). For Σd, Σd² (per-point prefix, no edge): 2ε(|P₁[a]|
 * + |P₁[b]|). With n points, Stt = Suu − Su²/n and Stx = Sud − Su·Sd/n, so to first order
 *   e(Stt) ≤ e(Suu) + (2|Su|·e(Su) + e(Su)² + 4ε·Su²) / n + 2ε·√(Suu·Stt),
 *   e(Stx) ≤ e(Sud) + (|Su|·e(Sd) + |Sd|·e(Su) + e(Su)·e(Sd) + 4ε·|Su·Sd|) / n + 2ε·√(Suu·Sdd),
 * where the 4ε terms are the rounding of the product, quotient and difference, and the square-root terms the
 * rounding of each uᵢ (the division by 1000) and dᵢ (x − K) as a perturbation of the data, by Cauchy–Schwarz.
 *
 * Tolerance. The fast answer stands when e(Stt) ≤ 1e-11·Stt, e(Stx) ≤ 1e-11·√(Stt·Sxx), and the mean time's
 * error e(Su)/n ≤ 1e-11·√(Stt/n) (its spread). Stx is held to √(Stt·Sxx), not to |Stx|: the slope's error is
 * e(Stx)/Stt, and √(Sxx/Stt) is the scale of the slope's own sampling noise (|Stx| ≤ √(Stt·Sxx) by
 * Cauchy–Schwarz), so this bounds the slope within 1e-11 of the larger of the slope and its noise; a tolerance
 * on |Stx| would send every flat signal (slope ≈ 0, the common case) to the fallback for digits that carry no
 * information. Sxx is taken as its lower bound (the window's M2 from p₁, p₂ minus that M2's own bound), so a
 * dubious variance only makes the test stricter. Otherwise the caller answers from the regression tree.
 *
 * When the bound fails: Stt's relative error grows like ε·(T / w)³ for a window w in a series spanning T
 * (the prefix values are sums of u² over the whole series), so a window shorter than about T / 25 falls back
 * (a 1 h window at the end of 30 days loses ~1e-7) while long windows — most forecasts over long-held series —
 * take the prefix path.
 */
import type { CoMoments } from "./regression_tree.ts";

/** Points per prefix block: entry k of each prefix column holds the sums over points [0, k·PREFIX_BLOCK). */
export const PREFIX_BLOCK = 16;
/** Relative tolerance of the error bound (see the module comment). */
export const PREFIX_TOLERANCE = 1e-11;
const EPS = Number.EPSILON;
const NONE = new Float64Array(0);

/** What the prefix sums read from their series. */
export interface PrefixSource {
  /** Epoch ms, sorted; scores; valid up to `length`; `capacity` (columns' length, with headroom). */
  ts: Float64Array;
  score: Float64Array;
  length: number;
  capacity: number;
  /** Per-point prefix sums of d = score − shift and d² (index i: points [0, i)). */
  p1: Float64Array;
  p2: Float64Array;
  shift: number;
}

/** The block-granular prefix sums of Σu, Σu², Σu·d of one series. Built lazily by {@linkcode query}. */
export class RegressionPrefix {
  /** Epoch ms that u = 0 stands for: the series' mean time at the last rebuild, rounded to the millisecond. */
  origin = 0;
  /** The score shift K the u·d sums were built with (NaN: not built). */
  #shift = NaN;
  /** Points summed into the columns (a multiple of PREFIX_BLOCK). */
  #done = 0;
  #stale = true;
  #pu = NONE;
  #puu = NONE;
  #pud = NONE;
  /** Neumaier state [sum, compensation] of Σu, Σu², Σu·d at point #done. */
  #running = new Float64Array(6);

  /** Bytes held by the prefix columns. */
  get byteLength(): number {
    return this.#pu.byteLength + this.#puu.byteLength + this.#pud.byteLength;
  }

  /** Points at or before the held ones changed (not a pure append): rebuild at the next query. */
  reset(): void {
    this.#stale = true;
  }

  /** Drops the columns (the series became too short to use them). */
  release(): void {
    this.#pu = this.#puu = this.#pud = NONE;
    this.#stale = true;
  }

  /**
   * Co-moments of points [a, b) (times in seconds from {@linkcode origin}), or null when the error bound
   * exceeds the tolerance. Needs at least one whole block inside [a, b) (b − a > 2·PREFIX_BLOCK suffices)
   * and the source's p₁/p₂ built.
   */
  query(s: PrefixSource, a: number, b: number): CoMoments | null {
    this.#sync(s);
    const B = PREFIX_BLOCK;
    const ka = Math.ceil(a / B), kb = Math.floor(b / B);
    const { ts, score, shift, p1, p2 } = s;
    const origin = this.origin;
    let eu = 0, euu = 0, eud = 0, au = 0, aud = 0;
    for (let i = a; i < ka * B; i++) {
      const u = (ts[i] - origin) / 1000, ud = u * (score[i] - shift);
      eu += u;
      euu += u * u;
      eud += ud;
      au += Math.abs(u);
      aud += Math.abs(ud);
    }
    for (let i = kb * B; i < b; i++) {
      const u = (ts[i] - origin) / 1000, ud = u * (score[i] - shift);
      eu += u;
      euu += u * u;
      eud += ud;
      au += Math.abs(u);
      aud += Math.abs(ud);
    }
    const k = ka * B - a + (b - kb * B);
    const n = b - a;
    const pua = this.#pu[ka], pub = this.#pu[kb];
    const puua = this.#puu[ka], puub = this.#puu[kb];
    const puda = this.#pud[ka], pudb = this.#pud[kb];
    const su = (pub - pua) + eu, suu = (puub - puua) + euu, sud = (pudb - puda) + eud;
    const eSu = 2 * EPS * (Math.abs(pua) + Math.abs(pub) + Math.abs(su)) + k * EPS * au;
    const eSuu = 2 * EPS * (puua + puub + suu) + k * EPS * euu;
    const eSud = 2 * EPS * (Math.abs(puda) + Math.abs(pudb) + Math.abs(sud)) + k * EPS * aud;
    const p1a = p1[a], p1b = p1[b], p2a = p2[a], p2b = p2[b];
    const sd = p1b - p1a, sdd = p2b - p2a;
    const eSd = 2 * EPS * (Math.abs(p1a) + Math.abs(p1b));
    const eSdd = 2 * EPS * (Math.abs(p2a) + Math.abs(p2b));
    const stt = suu - (su * su) / n;
    const stx = sud - (su * sd) / n;
    const sxx = sdd - (sd * sd) / n;
    const sxxLow = Math.max(0, sxx - eSdd - (2 * Math.abs(sd) * eSd + eSd * eSd + 4 * EPS * sd * sd) / n);
    const bStt = eSuu + (2 * Math.abs(su) * eSu + eSu * eSu + 4 * EPS * su * su) / n +
      2 * EPS * Math.sqrt(suu * Math.max(0, stt));
    const bStx = eSud +
      (Math.abs(su) * eSd + Math.abs(sd) * eSu + eSu * eSd + 4 * EPS * Math.abs(su * sd)) / n +
      2 * EPS * Math.sqrt(suu * (Math.abs(sdd) + eSdd));
    const tol = PREFIX_TOLERANCE;
    if (
      !(stt > 0) || bStt > tol * stt || bStx > tol * Math.sqrt(stt * sxxLow) ||
      eSu / n > tol * Math.sqrt(stt / n)
    ) return null;
    return { n, uHi: su / n, uLo: 0, xHi: shift, xLo: sd / n, stt, stx };
  }

  /** Brings the columns up to the source: extends them after appends, rebuilds them after anything else. */
  #sync(s: PrefixSource): void {
    const B = PREFIX_BLOCK;
    const blocks = Math.floor(s.length / B);
    const slots = Math.floor(s.capacity / B) + 1;
    if (this.#stale || !Object.is(this.#shift, s.shift) || this.#done > blocks * B) {
      let sum = 0;
      for (let i = 0; i < s.length; i++) sum += s.ts[i];
      this.origin = s.length > 0 ? Math.round(sum / s.length) : 0;
      this.#shift = s.shift;
      this.#done = 0;
      this.#running.fill(0);
      this.#stale = false;
      if (this.#pu.length < blocks + 1 || this.#pu.length > slots) this.#allocate(slots, 0);
      this.#pu[0] = this.#puu[0] = this.#pud[0] = 0;
    } else if (this.#pu.length < blocks + 1) this.#allocate(slots, this.#done / B + 1);
    if (this.#done < blocks * B) this.#extend(s, blocks * B);
  }

  /** Fresh columns of `size` entries, keeping the first `keep`. */
  #allocate(size: number, keep: number): void {
    const grow = (old: Float64Array) => {
      const next = new Float64Array(size);
      next.set(old.subarray(0, keep));
      return next;
    };
    this.#pu = grow(this.#pu);
    this.#puu = grow(this.#puu);
    this.#pud = grow(this.#pud);
  }

  /** Sums points [#done, to) (to a multiple of PREFIX_BLOCK) into the columns, continuing the running state. */
  #extend(s: PrefixSource, to: number): void {
    const B = PREFIX_BLOCK;
    const { ts, score, shift } = s;
    const origin = this.origin;
    const pu = this.#pu, puu = this.#puu, pud = this.#pud;
    const r = this.#running;
    let s1 = r[0], c1 = r[1], s2 = r[2], c2 = r[3], s3 = r[4], c3 = r[5];
    for (let i = this.#done; i < to; i++) {
      const u = (ts[i] - origin) / 1000;
      const q = u * u;
      const v = u * (score[i] - shift);
      let t = s1 + u;
      c1 += Math.abs(s1) >= Math.abs(u) ? (s1 - t) + u : (u - t) + s1;
      s1 = t;
      t = s2 + q;
      c2 += s2 >= q ? (s2 - t) + q : (q - t) + s2;
      s2 = t;
      t = s3 + v;
      c3 += Math.abs(s3) >= Math.abs(v) ? (s3 - t) + v : (v - t) + s3;
      s3 = t;
      if ((i + 1) % B === 0) {
        const k = (i + 1) / B;
        pu[k] = s1 + c1;
        puu[k] = s2 + c2;
        pud[k] = s3 + c3;
      }
    }
    r.set([s1, c1, s2, c2, s3, c3]);
    this.#done = to;
  }
}
