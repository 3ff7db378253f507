/**
 * In-memory point store: per signal, points sorted by time in typed-array columns, with prefix sums of
 * shifted scores so that any window is answered in O(log n). Pure: no I/O.
 *
 * Method (docs/METRICS.md, "How windows are computed"):
 * - Columns per signal: `ts` (epoch ms) and `score`, sorted by `ts`, unique per timestamp.
 * - Prefix sums of dᵢ = xᵢ − K and dᵢ², where the shift K is the series mean at the last rebuild, kept with
 *   Neumaier-compensated accumulation. A window [a, b) then has n = b − a, Σd = P₁[b] − P₁[a],
 *   Σd² = P₂[b] − P₂[a], μ = K + Σd / n and M2 = Σd² − (Σd)² / n.
 * - Each answer carries a rounding-error bound for M2; when the bound exceeds 1e-11 · M2 (tiny variance next
 *   to large prefix sums) the window is answered exactly from a block tree of two-pass moments
 *   (`moment_tree.ts`): the partial blocks at its edges by two-pass, the whole blocks between them from
 *   O(log n) nodes combined by Chan's formula — O(BLOCK + log n), never a pass over the window.
 * - Least-squares sums for the forecast (issue 14): block-granular prefix sums of time, time² and
 *   time·d (`regression_prefix.ts`) beside p₁/p₂, with their own error bound, and the exact regression tree
 *   (`regression_tree.ts`) as fallback; both built at a series' first forecast, so series never forecast pay
 *   nothing. Per-point columns for them would not fit the 64-byte budget (48 + 36 at worst headroom); per
 *   block of 16 points they cost 1.5 bytes a point.
 * - Memory: four float64 columns, 32 bytes a point, with 1.5× growth headroom, plus the block tree (under
 *   3 bytes a point). Small series are kept small (issue 12: 50,000 one-point signals once took 14 KB each,
 *   in preallocated columns): capacity grows on demand from nothing (a first batch gets exactly its size),
 *   and a series of at most `DIRECT_MAX` (128) points has neither prefix sums nor a block tree — its windows
 *   are read directly by two-pass, which costs no more than the edge blocks of a larger window.
 */
import { DIRECT_MAX, MomentTree } from "./moment_tree.ts";
import { combineMoments, EMPTY_MOMENTS, type Moments, momentsOf } from "./stats.ts";
import { lowerBound, upperBound } from "./binary_search.ts";
import {
  addCoMoments,
  type CoMoments,
  coMomentsOf,
  emptyCoMoments,
  RegressionTree,
} from "./regression_tree.ts";
import { RegressionPrefix } from "./regression_prefix.ts";

export interface PointInput {
  signal: string;
  /** Epoch milliseconds. */
  ts: number;
  score: number;
}

export interface ApplyResult {
  /** Points that were not held before. */
  inserted: number;
  /** Held points whose score changed (a later copy wins). */
  updated: number;
  /** Copies equal to the held (or earlier in-batch) value. */
  duplicates: number;
}

export interface WindowStats extends Moments {
  /** Oldest and newest point in the window (epoch ms), null when empty. */
  oldestMs: number | null;
  newestMs: number | null;
  /** True when n > 0 and every score is within 0..1. */
  allWithinUnitScale: boolean;
}

/**
 * Which structure answered a window's least-squares sums: `direct` (two-pass over at most DIRECT_MAX points),
 * `prefix` (the prefix sums, within their error bound) or `tree` (the exact regression tree: the fallback).
 */
export type RegressionPath = "direct" | "prefix" | "tree";

/** A window's least-squares co-moments, times in seconds from `origin` (epoch ms). */
export interface RegressionAnswer {
  origin: number;
  moments: CoMoments;
  /** The path of each series that held points in the window (one for a single signal). */
  paths: RegressionPath[];
}

export interface SignalInfo {
  signal: string;
  n: number;
  oldestMs: number;
  newestMs: number;
}

/** Below this many points a series keeps its capacity when most points are evicted (shrinking would not pay). */
const SHRINK_ABOVE = 256;
const GROWTH = 1.5;
const RELATIVE_TOLERANCE = 1e-11;
const EPS = Number.EPSILON;

/** The columns of a series that holds nothing yet (shared, read-only in practice: never written). */
const NO_POINTS = new Float64Array(0);
const NO_PREFIX = new Float64Array(1);
/** The tree of every series too short to need one: never updated, so it reads ranges directly. */
const UNBUILT_TREE = new MomentTree();
const NO_RUNNING: [number, number, number, number] = [0, 0, 0, 0];

/** One signal's sorted columns and prefix sums. */
export class Series {
  length = 0;
  // No capacity until the first batch: the shared empty columns are never written (merge reserves first).
  ts: Float64Array = NO_POINTS;
  score: Float64Array = NO_POINTS;
  /** p1[i] = Σ_{j<i} (score[j] − shift); length capacity + 1; only past DIRECT_MAX points (else NO_PREFIX). */
  p1: Float64Array = NO_PREFIX;
  p2: Float64Array = NO_PREFIX;
  shift = 0;
  /** Exact moments and maxima of blocks of scores, for windows the prefix sums cannot resolve. */
  get tree(): MomentTree {
    return this.#tree ?? UNBUILT_TREE;
  }
  #tree: MomentTree | null = null;
  /** Prefix sums of time, time² and time·score, built at the first forecast over this series (issue 14). */
  #regressionPrefix: RegressionPrefix | null = null;
  /** The exact fallback for windows the prefix sums cannot resolve, built when first needed. */
  #regression: RegressionTree | null = null;
  /** Neumaier state [sum₁, compensation₁, sum₂, compensation₂] at index `length`. */
  #running: [number, number, number, number] = NO_RUNNING;

  get capacity(): number {
    return this.ts.length;
  }

  /** Bytes held by the columns (including growth headroom) and the block tree. */
  get byteLength(): number {
    const prefix = this.#prefixed ? this.p1.byteLength + this.p2.byteLength : 0;
    const regression = (this.#regression?.byteLength ?? 0) + (this.#regressionPrefix?.byteLength ?? 0);
    return this.ts.byteLength + this.score.byteLength + prefix + this.tree.byteLength + regression;
  }

  get #prefixed(): boolean {
    return this.p1 !== NO_PREFIX;
  }

  /** Range [a, b) of points with startExclusive < ts ≤ endInclusive. */
  range(startExclusiveMs: number, endInclusiveMs: number): [number, number] {
    const a = upperBound(this.ts, this.length, startExclusiveMs);
    const b = Math.max(a, upperBound(this.ts, this.length, endInclusiveMs));
    return [a, b];
  }

  /** Moments of points [a, b), from the prefix sums or, when rounding could matter, from the block tree. */
  moments(a: number, b: number): Moments {
    const n = b - a;
    if (n <= 0) return { ...EMPTY_MOMENTS };
    // A small series has no prefix sums: its tree (not built either) reads the range directly.
    if (!this.#prefixed) return this.tree.moments(this.score, a, b);
    const p1a = this.p1[a], p1b = this.p1[b], p2a = this.p2[a], p2b = this.p2[b];
    const s1 = p1b - p1a;
    const s2 = p2b - p2a;
    const m2 = s2 - (s1 * s1) / n;
    const e1 = 2 * EPS * (Math.abs(p1a) + Math.abs(p1b));
    const bound = 2 * EPS * (Math.abs(p2a) + Math.abs(p2b)) + (2 * Math.abs(s1) * e1 + 4 * EPS * s1 * s1) / n;
    if (m2 < 0 || bound > RELATIVE_TOLERANCE * m2) return this.tree.moments(this.score, a, b);
    return { n, mean: this.shift + s1 / n, m2 };
  }

  /**
   * Least-squares co-moments of points [a, b), times in seconds from `origin` (epoch ms), and the path that
   * answered: a window of at most DIRECT_MAX points by two-pass; a longer one from the prefix sums
   * (`regression_prefix.ts`) in O(PREFIX_BLOCK) when their error bound allows, else (or when `exact`) from
   * the regression tree in O(B + log n). Both structures are built (or brought up to date) on first use.
   */
  regression(
    a: number,
    b: number,
    exact = false,
  ): { origin: number; moments: CoMoments; path: RegressionPath } {
    if (b - a <= DIRECT_MAX) {
      const origin = this.ts[a] ?? 0;
      return { origin, moments: coMomentsOf(this.ts, origin, this.score, a, b), path: "direct" };
    }
    if (!exact && this.#prefixed) {
      const prefix = this.#regressionPrefix ??= new RegressionPrefix();
      const moments = prefix.query(this, a, b);
      if (moments) return { origin: prefix.origin, moments, path: "prefix" };
    }
    const tree = this.#regression ??= new RegressionTree();
    const moments = tree.query(this.ts, this.score, this.length, a, b);
    return { origin: tree.origin ?? (this.length > 0 ? this.ts[0] : 0), moments, path: "tree" };
  }

  /** True when every score in [a, b) is within 0..1 (the block tree's maxima; only asked when the mean ≤ 1). */
  allWithinUnitScale(a: number, b: number, mean: number): boolean {
    if (b <= a || mean > 1) return false;
    return this.tree.max(this.score, a, b) <= 1;
  }

  #reserve(capacity: number): void {
    if (capacity <= this.capacity) return;
    const size = Math.max(capacity, Math.ceil(this.capacity * GROWTH));
    this.#resize(size);
  }

  #resize(size: number): void {
    const grow = (old: Float64Array, length: number, extra: number) => {
      const next = new Float64Array(size + extra);
      next.set(old.subarray(0, length + extra));
      return next;
    };
    // ts and score share one buffer: one allocation (and one backing store) instead of two per series.
    const columns = new ArrayBuffer(2 * size * Float64Array.BYTES_PER_ELEMENT);
    const ts = new Float64Array(columns, 0, size);
    const score = new Float64Array(columns, size * Float64Array.BYTES_PER_ELEMENT, size);
    ts.set(this.ts.subarray(0, this.length));
    score.set(this.score.subarray(0, this.length));
    this.ts = ts;
    this.score = score;
    if (!this.#prefixed) return;
    this.p1 = grow(this.p1, this.length, 1);
    this.p2 = grow(this.p2, this.length, 1);
  }

  /** Updates the block tree from index `from` on; a series of at most DIRECT_MAX points drops its tree. */
  #updateTree(from: number): void {
    if (this.length <= DIRECT_MAX) this.#tree = null;
    else (this.#tree ??= new MomentTree()).update(this.score, from, this.length);
  }

  /**
   * Brings the prefix sums up to date after the points from index `from` on changed (`appended`: only new
   * points were added after the held ones, so the running sums continue). A series of at most DIRECT_MAX
   * points drops them; one that grows past it builds them.
   */
  #syncPrefix(from: number, appended: boolean): void {
    if (this.length <= DIRECT_MAX) {
      this.p1 = this.p2 = NO_PREFIX;
      this.#running = NO_RUNNING;
      this.shift = 0;
      return;
    }
    if (!this.#prefixed) {
      this.p1 = new Float64Array(this.capacity + 1);
      this.p2 = new Float64Array(this.capacity + 1);
      this.#rebuildPrefix(0);
    } else if (appended && from > 0) this.#extendPrefix(from);
    else this.#rebuildPrefix(from);
  }

  /** Recomputes prefix sums from index `from` on (all of them, with a fresh shift, when from = 0). */
  #rebuildPrefix(from: number): void {
    if (from === 0) {
      this.shift = this.length > 0 ? momentsOf(this.score, 0, this.length).mean : 0;
      this.p1[0] = 0;
      this.p2[0] = 0;
    }
    // Restarting from a stored (rounded) prefix value stays within the error bound that readers check.
    this.#running = [this.p1[from], 0, this.p2[from], 0];
    this.#extendPrefix(from);
  }

  /** Extends the prefix sums over [from, length) by Neumaier summation, continuing the running state. */
  #extendPrefix(from: number): void {
    const { score, p1, p2, shift } = this;
    let [s1, c1, s2, c2] = this.#running;
    for (let i = from; i < this.length; i++) {
      const d = score[i] - shift;
      const q = d * d;
      let t = s1 + d;
      c1 += Math.abs(s1) >= Math.abs(d) ? (s1 - t) + d : (d - t) + s1;
      s1 = t;
      t = s2 + q;
      c2 += s2 >= q ? (s2 - t) + q : (q - t) + s2;
      s2 = t;
      p1[i + 1] = s1 + c1;
      p2[i + 1] = s2 + c2;
    }
    this.#running = [s1, c1, s2, c2];
  }

  /**
   * Merges a batch sorted by ts with unique timestamps. Returns counts; the batch wins on equal timestamps.
   */
  merge(bts: Float64Array, bscore: Float64Array, count: number): ApplyResult {
    const result: ApplyResult = { inserted: 0, updated: 0, duplicates: 0 };
    if (count === 0) return result;
    const n = this.length;
    if (n === 0 || bts[0] > this.ts[n - 1]) {
      this.#reserve(n + count);
      this.ts.set(bts.subarray(0, count), n);
      this.score.set(bscore.subarray(0, count), n);
      this.length = n + count;
      result.inserted = count;
      this.#regression?.invalidateFrom(n);
      // The regression prefix sums extend themselves at the next query (a new shift K rebuilds them).
      this.#syncPrefix(n, true);
      this.#updateTree(n);
      return result;
    }
    // General case: merge the tail from the first held point at or after the batch start.
    const k = lowerBound(this.ts, n, bts[0]);
    const tailTs = this.ts.slice(k, n);
    const tailScore = this.score.slice(k, n);
    this.#reserve(n + count);
    let i = 0, j = 0, out = k;
    const ts = this.ts, score = this.score;
    while (i < tailTs.length || j < count) {
      if (j >= count || (i < tailTs.length && tailTs[i] < bts[j])) {
        ts[out] = tailTs[i];
        score[out++] = tailScore[i++];
      } else if (i >= tailTs.length || bts[j] < tailTs[i]) {
        ts[out] = bts[j];
        score[out++] = bscore[j++];
        result.inserted++;
      } else {
        if (Object.is(tailScore[i], bscore[j])) result.duplicates++;
        else result.updated++;
        ts[out] = bts[j];
        score[out++] = bscore[j++];
        i++;
      }
    }
    this.length = out;
    if (result.inserted === 0 && result.updated === 0) return result;
    this.#regression?.invalidateFrom(k);
    this.#regressionPrefix?.reset();
    this.#syncPrefix(k, false);
    this.#updateTree(k);
    return result;
  }

  /** Drops points with ts < cutoffMs; returns how many. Settles the series (`settle`) when any were dropped. */
  evictBefore(cutoffMs: number): number {
    const drop = lowerBound(this.ts, this.length, cutoffMs);
    if (drop === 0) return 0;
    const keep = this.length - drop;
    this.ts.copyWithin(0, drop, this.length);
    this.score.copyWithin(0, drop, this.length);
    this.length = keep;
    if (keep > SHRINK_ABOVE && keep * 4 < this.capacity) this.#resize(Math.ceil(keep * GROWTH));
    this.settle();
    return drop;
  }

  /**
   * Rebuilds every derived structure from the points alone (prefix sums with a fresh shift, a new block tree,
   * no regression structures until the next forecast): afterwards every answer is bit for bit what a series
   * built in one merge of the same points gives, whatever the history of merges and evictions. Instances that
   * share points (`src/shared/kv_points.ts`) settle what changed so that they answer identically. O(n).
   */
  settle(): void {
    this.#tree = null;
    this.#regression = null;
    this.#regressionPrefix = null;
    this.#syncPrefix(0, false);
    this.#updateTree(0);
  }
}

/**
 * Sorts a batch by timestamp (stable) and keeps the last copy of each timestamp.
 * Returns the unique columns and how many later copies replaced (updated) or repeated (duplicate) earlier ones.
 */
export function dedupeBatch(
  ts: Float64Array,
  score: Float64Array,
): { ts: Float64Array; score: Float64Array; count: number; updated: number; duplicates: number } {
  const n = ts.length;
  let sorted = true;
  let unique = true;
  for (let i = 1; i < n; i++) {
    if (ts[i] < ts[i - 1]) {
      sorted = false;
      break;
    }
    if (ts[i] === ts[i - 1]) unique = false;
  }
  // The common case (a page or file in time order, no repeats) needs no copy: the store copies on merge.
  if (sorted && unique) return { ts, score, count: n, updated: 0, duplicates: 0 };
  let sts = ts, sscore = score;
  if (!sorted) {
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Stable: ties keep input order, so the later copy comes last.
    order.sort((x, y) => ts[x] - ts[y] || x - y);
    sts = new Float64Array(n);
    sscore = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sts[i] = ts[order[i]];
      sscore[i] = score[order[i]];
    }
  }
  let updated = 0, duplicates = 0, out = 0;
  const uts = sorted ? new Float64Array(n) : sts;
  const uscore = sorted ? new Float64Array(n) : sscore;
  for (let i = 0; i < n; i++) {
    if (out > 0 && uts[out - 1] === sts[i]) {
      if (Object.is(uscore[out - 1], sscore[i])) duplicates++;
      else updated++;
      uscore[out - 1] = sscore[i];
    } else {
      uts[out] = sts[i];
      uscore[out++] = sscore[i];
    }
  }
  return { ts: uts, score: uscore, count: out, updated, duplicates };
}

/** All held points, by signal. Applying a batch is synchronous, so readers never see half of one. */
export class PointStore {
  #series = new Map<string, Series>();
  #version = 0;
  /** The series by signal name (code-unit order), rebuilt after a signal comes or goes. */
  #ordered: Series[] | null = null;

  /**
   * Pooled answers combine series in signal-name order, not arrival order, so that stores holding the same
   * points answer bit for bit alike (floating-point combination is order-sensitive).
   */
  #inOrder(): Series[] {
    if (this.#ordered) return this.#ordered;
    const names = [...this.#series.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.#ordered = names.map((name) => this.#series.get(name)!);
  }

  /**
   * Changes whenever the held points change (a point inserted, updated or evicted); equal versions mean equal
   * answers for every window, so answers can be cached by version.
   */
  get version(): number {
    return this.#version;
  }

  /** Number of points held across all signals. */
  get size(): number {
    let total = 0;
    for (const s of this.#series.values()) total += s.length;
    return total;
  }

  /** Bytes held for the points (columns with their growth headroom, and block trees). */
  get byteLength(): number {
    let total = 0;
    for (const s of this.#series.values()) total += s.byteLength;
    return total;
  }

  /** Number of signals with at least one held point. */
  get signalCount(): number {
    let count = 0;
    for (const s of this.#series.values()) if (s.length > 0) count++;
    return count;
  }

  has(signal: string): boolean {
    return (this.#series.get(signal)?.length ?? 0) > 0;
  }

  /** Adds points; duplicates by (signal, ts) keep the later copy. */
  apply(points: readonly PointInput[]): ApplyResult {
    const bySignal = new Map<string, { ts: number[]; score: number[] }>();
    for (const p of points) {
      let group = bySignal.get(p.signal);
      if (!group) bySignal.set(p.signal, group = { ts: [], score: [] });
      group.ts.push(p.ts);
      group.score.push(p.score);
    }
    const total: ApplyResult = { inserted: 0, updated: 0, duplicates: 0 };
    for (const [signal, group] of bySignal) {
      const r = this.applyColumns(signal, Float64Array.from(group.ts), Float64Array.from(group.score));
      total.inserted += r.inserted;
      total.updated += r.updated;
      total.duplicates += r.duplicates;
    }
    return total;
  }

  /** Adds one signal's points given as columns (any order, duplicates allowed). */
  applyColumns(signal: string, ts: Float64Array, score: Float64Array): ApplyResult {
    const batch = dedupeBatch(ts, score);
    let series = this.#series.get(signal);
    if (!series) {
      this.#series.set(signal, series = new Series());
      this.#ordered = null;
    }
    const merged = series.merge(batch.ts, batch.score, batch.count);
    if (merged.inserted > 0 || merged.updated > 0) this.#version++;
    return {
      inserted: merged.inserted,
      updated: merged.updated + batch.updated,
      duplicates: merged.duplicates + batch.duplicates,
    };
  }

  /**
   * Puts series built off to the side in place of the held ones (or as new signals), in one synchronous step:
   * a large batch can be prepared in slices while readers see the held state (`src/ingest/staged_apply.ts`).
   */
  adopt(built: Iterable<readonly [string, Series]>): void {
    let changed = false;
    for (const [signal, series] of built) {
      this.#series.set(signal, series);
      this.#ordered = null;
      changed = true;
    }
    if (changed) this.#version++;
  }

  /** Statistics of the window (startExclusiveMs, endInclusiveMs] for one signal, or pooled when undefined. */
  window(signal: string | undefined, startExclusiveMs: number, endInclusiveMs: number): WindowStats {
    const list = signal === undefined ? this.#inOrder() : [this.#series.get(signal)].filter((s) => s);
    let moments: Moments = { ...EMPTY_MOMENTS };
    let oldestMs: number | null = null;
    let newestMs: number | null = null;
    const ranges: [Series, number, number][] = [];
    for (const series of list as Series[]) {
      const [a, b] = series.range(startExclusiveMs, endInclusiveMs);
      if (b <= a) continue;
      ranges.push([series, a, b]);
      moments = combineMoments(moments, series.moments(a, b));
      oldestMs = oldestMs === null ? series.ts[a] : Math.min(oldestMs, series.ts[a]);
      newestMs = newestMs === null ? series.ts[b - 1] : Math.max(newestMs, series.ts[b - 1]);
    }
    const allWithinUnitScale = moments.n > 0 &&
      ranges.every(([series, a, b]) => series.allWithinUnitScale(a, b, moments.mean));
    return { ...moments, oldestMs, newestMs, allWithinUnitScale };
  }

  /**
   * Least-squares co-moments of the window (startExclusiveMs, endInclusiveMs] for one signal, or pooled when
   * undefined, with times in seconds from `origin` (epoch ms): from the prefix sums within their error bound,
   * else exactly from the regression tree (`Series.regression`); `exact` always takes the tree (tests, and
   * `scripts/memory.ts` to count the tree's bytes).
   */
  regression(
    signal: string | undefined,
    startExclusiveMs: number,
    endInclusiveMs: number,
    { exact = false }: { exact?: boolean } = {},
  ): RegressionAnswer {
    const list = signal === undefined ? this.#inOrder() : [this.#series.get(signal)];
    let origin: number | null = null;
    const total = emptyCoMoments();
    const paths: RegressionPath[] = [];
    for (const series of list) {
      if (!series) continue;
      const [a, b] = series.range(startExclusiveMs, endInclusiveMs);
      if (b <= a) continue;
      const part = series.regression(a, b, exact);
      paths.push(part.path);
      origin ??= part.origin;
      if (part.origin !== origin) {
        // Re-express the part's mean time from the common origin, keeping the addition's rounding in lo.
        const offset = (part.origin - origin) / 1000;
        const hi = part.moments.uHi + offset;
        const z = hi - part.moments.uHi;
        part.moments.uLo += (part.moments.uHi - (hi - z)) + (offset - z);
        part.moments.uHi = hi;
      }
      addCoMoments(total, part.moments);
    }
    return { origin: origin ?? endInclusiveMs, moments: total, paths };
  }

  /** The points of a window, oldest first (for inputs and exports). */
  points(signal: string, startExclusiveMs: number, endInclusiveMs: number, limit = Infinity): PointInput[] {
    const series = this.#series.get(signal);
    if (!series) return [];
    const [a, b] = series.range(startExclusiveMs, endInclusiveMs);
    const from = Math.max(a, b - limit);
    const out: PointInput[] = [];
    for (let i = from; i < b; i++) out.push({ signal, ts: series.ts[i], score: series.score[i] });
    return out;
  }

  /**
   * A signal's held columns as read-only views (not copies; valid until the store next changes), or null when
   * the signal holds nothing. For writers that pack the points elsewhere (`src/shared/kv_points.ts`).
   */
  columns(signal: string): { ts: Float64Array; score: Float64Array } | null {
    const series = this.#series.get(signal);
    if (!series || series.length === 0) return null;
    return { ts: series.ts.subarray(0, series.length), score: series.score.subarray(0, series.length) };
  }

  signals(): SignalInfo[] {
    const out: SignalInfo[] = [];
    for (const [signal, s] of this.#series) {
      if (s.length > 0) out.push({ signal, n: s.length, oldestMs: s.ts[0], newestMs: s.ts[s.length - 1] });
    }
    return out.sort((a, b) => a.signal.localeCompare(b.signal));
  }

  /** Newest timestamp across all signals, or null when empty. */
  newestMs(): number | null {
    let newest: number | null = null;
    for (const s of this.#series.values()) {
      if (s.length > 0) newest = newest === null ? s.ts[s.length - 1] : Math.max(newest, s.ts[s.length - 1]);
    }
    return newest;
  }

  /**
   * Settles the named signals' series (`Series.settle`): their answers then depend on their points only, not on
   * the order in which they arrived. Unknown signals are skipped.
   */
  settle(signals: Iterable<string>): void {
    let changed = false;
    for (const signal of signals) {
      const series = this.#series.get(signal);
      if (!series) continue;
      series.settle();
      changed = true;
    }
    if (changed) this.#version++;
  }

  /** Drops points older than cutoffMs in every signal; returns how many. */
  evictBefore(cutoffMs: number): number {
    let dropped = 0;
    for (const [signal, s] of this.#series) {
      dropped += s.evictBefore(cutoffMs);
      if (s.length === 0) {
        this.#series.delete(signal);
        this.#ordered = null;
      }
    }
    if (dropped > 0) this.#version++;
    return dropped;
  }
}
