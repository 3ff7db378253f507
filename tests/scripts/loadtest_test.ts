import { deepEqual, equal } from "node:assert/strict";
import {
  type LoadResult,
  median,
  missedTargets,
  parseWrk,
  summarise,
  summaryTable,
} from "../../scripts/loadtest.ts";

const run = (requestsPerSec: number, cpuUsPerRequest: number, p99Ms = 2): LoadResult => ({
  requests: requestsPerSec * 5,
  requestsPerSec,
  p50Ms: 1,
  p99Ms,
  errors: 0,
  cpuUsPerRequest,
});

Deno.test("parseWrk() reads requests/s, p50, p99 and counts socket errors and non-2xx answers", () => {
  const output = `Running 5s test @ http://127.0.0.1:8000/coherence/metrics?window=24h
  2 threads and 32 connections
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.50ms
     99%    2.31ms
  104210 requests in 5.00s, 260.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  20842.00
Transfer/sec:     52.02MB
`;
  deepEqual(parseWrk(output), {
    requests: 104210,
    requestsPerSec: 20842,
    p50Ms: 0.812,
    p99Ms: 2.31,
    errors: 7,
  });
});

Deno.test("summarise() takes each round's ratio against the ceiling's run of the same round, then the median", () => {
  // The machine slows everything in round 2: a ratio across rounds would say 25 % or 100 %; per round it is 50 %.
  const ceiling = { name: "ceiling", bytes: 10, rounds: [run(20_000, 30), run(10_000, 32), run(20_000, 30)] };
  const ours = { name: "ours", bytes: 10, rounds: [run(10_000, 60), run(5_000, 64), run(12_000, 50, 12)] };
  const [top, row] = summarise(ceiling, [ours]);
  equal(top.ratio, 1);
  equal(row.requestsPerSec, 10_000);
  equal(row.ratio, 0.5);
  deepEqual(row.ratioRange, [0.5, 0.6]);
  equal(row.cpuUsPerRequest, 60);
  equal(row.cpuRatio, 0.5);
  equal(row.p99Ms, 2);
  deepEqual(missedTargets([row]), []);
  deepEqual(missedTargets([{ ...row, ratio: 0.49 }]).length, 1);
  equal(
    summaryTable([row]).split("\n")[2],
    "| ours | 10 | 10000 | 50 % (50 %–60 %) | 1.00 ms | 2.00 ms | 0 | 60.0 µs | 50 % |",
  );
});

Deno.test("median() of odd and even counts", () => {
  equal(median([3, 1, 2]), 2);
  equal(median([4, 1, 3, 2]), 2.5);
  equal(Number.isNaN(median([])), true);
});
