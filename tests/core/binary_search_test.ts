import { equal } from "node:assert/strict";
import { lowerBound, upperBound } from "../../src/core/binary_search.ts";

Deno.test("upperBound() and lowerBound() find the first index after and at a timestamp", () => {
  const ts = Float64Array.from([10, 20, 20, 30, 0, 0]); // only the first 4 are in use
  const n = 4;
  equal(lowerBound(ts, n, 20), 1);
  equal(upperBound(ts, n, 20), 3);
  equal(lowerBound(ts, n, 5), 0);
  equal(upperBound(ts, n, 5), 0);
  equal(lowerBound(ts, n, 35), 4);
  equal(upperBound(ts, n, 30), 4);
  equal(upperBound(ts, 0, 100), 0);
});
