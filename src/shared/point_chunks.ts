/**
 * Packing a signal's points into time chunks of packed columns, the values the ingest lease holder writes to
 * Deno KV for the other instances (`kv_points.ts`, docs/SCALING.md "Shared points"). Pure: no I/O.
 *
 * - A chunk holds a signal's points with `chunkStart ≤ ts < chunkStart + chunkMs`, where
 *   `chunkStart = floor(ts / chunkMs) · chunkMs` (default {@linkcode DEFAULT_CHUNK_MS}, one hour).
 * - A chunk is stored as one or more parts, each a `Uint8Array`: an 8-byte header (uint32 point count,
 *   uint16 part index, uint16 part count, little-endian) then `count` float64 timestamps and `count` float64
 *   scores, little-endian. At most {@linkcode MAX_POINTS_PER_PART} (3,800) points a part: 8 + 3,800 · 16 =
 *   60,808 bytes, under KV's 64 KiB value limit with room to spare.
 */

/** Chunk width: one hour of a signal's points. */
export const DEFAULT_CHUNK_MS = 3_600_000;
/** Most points in one stored value (60,808 bytes with the header). */
export const MAX_POINTS_PER_PART = 3_800;
/** Header bytes before the columns (keeps the float64 columns 8-byte aligned). */
export const PART_HEADER_BYTES = 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One decoded part of a chunk. */
export interface ChunkPart {
  part: number;
  parts: number;
  ts: Float64Array;
  score: Float64Array;
}

/** The start (epoch ms) of the chunk holding `ts`. */
export function chunkStartOf(ts: number, chunkMs: number = DEFAULT_CHUNK_MS): number {
  return Math.floor(ts / chunkMs) * chunkMs;
}

/**
 * The chunks of sorted timestamps `ts[0..length)`: for each chunk its start and the index range [from, to) of
 * its points, oldest chunk first.
 */
export function chunkRanges(
  ts: Float64Array,
  chunkMs: number = DEFAULT_CHUNK_MS,
  length = ts.length,
): { start: number; from: number; to: number }[] {
  const out: { start: number; from: number; to: number }[] = [];
  let i = 0;
  while (i < length) {
    const start = chunkStartOf(ts[i], chunkMs);
    const end = start + chunkMs;
    let j = i + 1;
    // Galloping would pay only for huge chunks; a linear scan over sorted columns is a few ns a point.
    while (j < length && ts[j] < end) j++;
    out.push({ start, from: i, to: j });
    i = j;
  }
  return out;
}

/** Packs points [from, to) of the columns as one part (at most MAX_POINTS_PER_PART points). */
export function encodePart(
  ts: Float64Array,
  score: Float64Array,
  part = 0,
  parts = 1,
  from = 0,
  to = ts.length,
): Uint8Array {
  const count = to - from;
  if (count < 0 || count > MAX_POINTS_PER_PART) {
    throw new RangeError(`Cannot pack ${count} points in one part: at most ${MAX_POINTS_PER_PART}`);
  }
  if (parts < 1 || part < 0 || part >= parts || parts > 0xffff) {
    throw new RangeError(`Cannot pack part ${part} of ${parts}`);
  }
  const bytes = new Uint8Array(PART_HEADER_BYTES + 16 * count);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, count, true);
  view.setUint16(4, part, true);
  view.setUint16(6, parts, true);
  if (LITTLE_ENDIAN) {
    new Float64Array(bytes.buffer, PART_HEADER_BYTES, count).set(ts.subarray(from, to));
    new Float64Array(bytes.buffer, PART_HEADER_BYTES + 8 * count, count).set(score.subarray(from, to));
  } else {
    for (let i = 0; i < count; i++) {
      view.setFloat64(PART_HEADER_BYTES + 8 * i, ts[from + i], true);
      view.setFloat64(PART_HEADER_BYTES + 8 * (count + i), score[from + i], true);
    }
  }
  return bytes;
}

/** Unpacks one part; throws a RangeError when the bytes are not a part. */
export function decodePart(bytes: Uint8Array): ChunkPart {
  if (bytes.byteLength < PART_HEADER_BYTES) {
    throw new RangeError(`Cannot decode a chunk part of ${bytes.byteLength} bytes: shorter than its header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  const part = view.getUint16(4, true);
  const parts = view.getUint16(6, true);
  if (bytes.byteLength !== PART_HEADER_BYTES + 16 * count || parts < 1 || part >= parts) {
    throw new RangeError(
      `Cannot decode a chunk part of ${bytes.byteLength} bytes: header says ${count} points, part ${part}/${parts}`,
    );
  }
  const ts = new Float64Array(count);
  const score = new Float64Array(count);
  if (LITTLE_ENDIAN) {
    // One copy of the column bytes: the stored value need not be 8-byte aligned.
    const columns = new Float64Array(bytes.slice(PART_HEADER_BYTES).buffer);
    ts.set(columns.subarray(0, count));
    score.set(columns.subarray(count));
  } else {
    for (let i = 0; i < count; i++) {
      ts[i] = view.getFloat64(PART_HEADER_BYTES + 8 * i, true);
      score[i] = view.getFloat64(PART_HEADER_BYTES + 8 * (count + i), true);
    }
  }
  return { part, parts, ts, score };
}

/**
 * Packs one chunk's points [from, to) as parts of at most `maxPoints` each (one empty part for no points).
 */
export function encodeChunk(
  ts: Float64Array,
  score: Float64Array,
  from = 0,
  to = ts.length,
  maxPoints = MAX_POINTS_PER_PART,
): Uint8Array[] {
  const parts = Math.max(1, Math.ceil((to - from) / maxPoints));
  const out: Uint8Array[] = [];
  for (let p = 0; p < parts; p++) {
    const a = from + p * maxPoints;
    out.push(encodePart(ts, score, p, parts, a, Math.min(to, a + maxPoints)));
  }
  return out;
}

/**
 * Joins a chunk's decoded parts (any order) into columns; null when a part is missing or they disagree on the
 * part count (a chunk being written or garbage-collected).
 */
export function joinParts(parts: readonly ChunkPart[]): { ts: Float64Array; score: Float64Array } | null {
  if (parts.length === 0) return null;
  const total = parts[0].parts;
  if (parts.length !== total || parts.some((p) => p.parts !== total)) return null;
  const ordered = [...parts].sort((a, b) => a.part - b.part);
  if (ordered.some((p, i) => p.part !== i)) return null;
  if (total === 1) return { ts: ordered[0].ts, score: ordered[0].score };
  const n = ordered.reduce((sum, p) => sum + p.ts.length, 0);
  const ts = new Float64Array(n), score = new Float64Array(n);
  let at = 0;
  for (const p of ordered) {
    ts.set(p.ts, at);
    score.set(p.score, at);
    at += p.ts.length;
  }
  return { ts, score };
}

/**
 * A cheap fingerprint of points [from, to) (count, ends and an FNV-1a hash of the column bytes): equal
 * contents give equal fingerprints, so a writer can skip chunks it already wrote unchanged.
 */
export function fingerprint(ts: Float64Array, score: Float64Array, from = 0, to = ts.length): string {
  let h = 0x811c9dc5;
  const words = new Uint32Array(2);
  const f = new Float64Array(words.buffer);
  for (let i = from; i < to; i++) {
    f[0] = ts[i];
    h = Math.imul(h ^ words[0], 0x01000193) ^ words[1];
    h = Math.imul(h, 0x01000193);
    f[0] = score[i];
    h = Math.imul(h ^ words[0], 0x01000193) ^ words[1];
    h = Math.imul(h, 0x01000193);
  }
  const n = to - from;
  return n === 0 ? "0" : `${n}:${ts[from]}:${ts[to - 1]}:${(h >>> 0).toString(16)}`;
}
