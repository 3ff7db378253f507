import { deepEqual, equal } from "node:assert/strict";
import { limitSignals } from "../../src/ingest/signal_limit.ts";

const point = (signal: string, ts = 1) => ({ signal, ts, score: 80 });

Deno.test("limitSignals() admits new signals first come first served and rejects the records of the rest", () => {
  const held = new Set(["held"]);
  const r = limitSignals(
    [point("a"), point("held"), point("b"), point("a", 2), point("c"), point("b", 2), point("c", 2)],
    [{ signal: "d", ts: Float64Array.of(1, 2, 3), score: Float64Array.of(1, 2, 3) }],
    { isHeld: (s) => held.has(s), heldCount: held.size, maxSignals: 3 },
  );
  deepEqual(r.points.map((p) => `${p.signal}@${p.ts}`), ["a@1", "held@1", "b@1", "a@2", "b@2"]);
  deepEqual(r.columns, []);
  equal(r.rejected, 2 + 3); // c's two records, d's three
  equal(r.refusedSignals, 2);
});

Deno.test("limitSignals() always keeps held signals, even when more are held than the limit allows", () => {
  const r = limitSignals([point("x"), point("y"), point("new")], [], {
    isHeld: (s) => s !== "new",
    heldCount: 5,
    maxSignals: 2,
  });
  deepEqual(r.points.map((p) => p.signal), ["x", "y"]);
  equal(r.rejected, 1);
});
