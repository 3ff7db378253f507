import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  chunkRanges,
  chunkStartOf,
  decodePart,
  encodeChunk,
  encodePart,
  fingerprint,
  joinParts,
  MAX_POINTS_PER_PART,
  PART_HEADER_BYTES,
} from "../../src/shared/point_chunks.ts";

const HOUR = 3_600_000;

function columns(n: number, t0 = 1_700_000_000_000, stepMs = 1000) {
  const ts = Float64Array.from({ length: n }, (_, i) => t0 + i * stepMs);
  const score = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 50 + 50);
  return { ts, score };
}

Deno.test("encodePart() lays out an 8-byte little-endian header (count, part, parts) then ts and score columns", () => {
  const bytes = encodePart(Float64Array.of(1, 2), Float64Array.of(0.5, -3), 1, 3);
  equal(bytes.byteLength, PART_HEADER_BYTES + 32);
  const view = new DataView(bytes.buffer);
  equal(view.getUint32(0, true), 2);
  equal(view.getUint16(4, true), 1);
  equal(view.getUint16(6, true), 3);
  deepEqual([8, 16, 24, 32].map((at) => view.getFloat64(at, true)), [1, 2, 0.5, -3]);
});

Deno.test("a full part stays under KV's 64 KiB value limit", () => {
  const { ts, score } = columns(MAX_POINTS_PER_PART);
  const bytes = encodePart(ts, score);
  ok(bytes.byteLength < 64 * 1024, `${bytes.byteLength} bytes`);
  equal(bytes.byteLength, 60_808);
  throws(
    () => encodePart(...Object.values(columns(MAX_POINTS_PER_PART + 1)) as [Float64Array, Float64Array]),
    {
      name: "RangeError",
    },
  );
});

Deno.test("decodePart() reads values at any byte offset and refuses truncated or inconsistent bytes", () => {
  const { ts, score } = columns(10);
  const bytes = encodePart(ts, score);
  const shifted = new Uint8Array(bytes.byteLength + 3);
  shifted.set(bytes, 3);
  const part = decodePart(shifted.subarray(3));
  deepEqual([...part.ts], [...ts]);
  deepEqual([...part.score], [...score]);
  throws(() => decodePart(bytes.subarray(0, bytes.byteLength - 8)), { name: "RangeError" });
  throws(() => decodePart(new Uint8Array(4)), { name: "RangeError" });
});

Deno.test("encodeChunk() splits at MAX_POINTS_PER_PART and keeps one empty part for no points", () => {
  const { ts, score } = columns(2 * MAX_POINTS_PER_PART + 1);
  const parts = encodeChunk(ts, score).map(decodePart);
  deepEqual(parts.map((p) => [p.part, p.parts, p.ts.length]), [
    [0, 3, MAX_POINTS_PER_PART],
    [1, 3, MAX_POINTS_PER_PART],
    [2, 3, 1],
  ]);
  const exact = encodeChunk(ts, score, 0, MAX_POINTS_PER_PART).map(decodePart);
  equal(exact.length, 1, "exactly a part's worth is one part");
  const empty = encodeChunk(ts, score, 5, 5).map(decodePart);
  deepEqual(empty.map((p) => [p.part, p.parts, p.ts.length]), [[0, 1, 0]]);
});

Deno.test("joinParts() is null while a part is missing and joins parts given in any order", () => {
  const { ts, score } = columns(9);
  const parts = encodeChunk(ts, score, 0, 9, 4).map(decodePart);
  equal(joinParts(parts.slice(0, 2)), null);
  equal(joinParts([]), null);
  const joined = joinParts([parts[2], parts[0], parts[1]])!;
  deepEqual([...joined.ts], [...ts]);
  deepEqual([...joined.score], [...score]);
});

Deno.test("chunkRanges() groups sorted points by chunk start, with points on a boundary in the later chunk", () => {
  const ts = Float64Array.of(HOUR - 1, HOUR, HOUR + 5, 3 * HOUR, 4 * HOUR - 1);
  deepEqual(chunkRanges(ts, HOUR), [
    { start: 0, from: 0, to: 1 },
    { start: HOUR, from: 1, to: 3 },
    { start: 3 * HOUR, from: 3, to: 5 },
  ]);
  equal(chunkStartOf(-1, HOUR), -HOUR, "before the epoch floors down");
  deepEqual(chunkRanges(ts, HOUR, 0), []);
});

Deno.test("fingerprint() changes with any score or timestamp and is equal for equal contents", () => {
  const { ts, score } = columns(100);
  const before = fingerprint(ts, score);
  equal(fingerprint(ts.slice(), score.slice()), before);
  const changed = score.slice();
  changed[50] += 1e-9;
  notEqual(fingerprint(ts, changed), before);
  equal(fingerprint(ts, score, 3, 3), "0");
});

Deno.test("chunks round-trip: any sorted points, chunked and split in parts, decode to the same columns", () => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.integer({ min: -5 * HOUR, max: 20 * HOUR }), { maxLength: 400 }),
    fc.array(fc.double({ noNaN: false }), { minLength: 400, maxLength: 400 }),
    fc.integer({ min: 1, max: 50 }),
    fc.constantFrom(1, 1000, HOUR, 7 * HOUR),
    (times, scores, maxPoints, chunkMs) => {
      const ts = Float64Array.from(times.sort((a, b) => a - b));
      const score = Float64Array.from(ts, (_, i) => scores[i]);
      const outTs: number[] = [], outScore: number[] = [];
      for (const range of chunkRanges(ts, chunkMs)) {
        ok(range.to > range.from);
        const joined = joinParts(encodeChunk(ts, score, range.from, range.to, maxPoints).map(decodePart))!;
        for (const t of joined.ts) equal(chunkStartOf(t, chunkMs), range.start);
        outTs.push(...joined.ts);
        outScore.push(...joined.score);
      }
      deepEqual(outTs, [...ts]);
      // Object.is per score: NaN and −0 survive the packing bit for bit.
      ok(outScore.every((s, i) => Object.is(s, score[i])));
    },
  ));
});
