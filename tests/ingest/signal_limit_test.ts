import { deepEqual, equal } from "node:assert/strict";
import { signalGate } from "../../src/ingest/signal_limit.ts";

Deno.test("signalGate() admits new signals first come first served and refuses the rest, remembering each", () => {
  const held = new Set(["held"]);
  const gate = signalGate({ isHeld: (s) => held.has(s), heldCount: held.size, maxSignals: 3 });
  const asked = ["a", "held", "b", "a", "c", "b", "c", "d"];
  deepEqual(asked.map((s) => gate.admits(s)), [true, true, true, true, false, true, false, false]);
  equal(gate.refusedSignals, 2); // c and d
});

Deno.test("signalGate() always admits held signals, even when more are held than the limit allows", () => {
  const gate = signalGate({ isHeld: (s) => s !== "new", heldCount: 5, maxSignals: 2 });
  deepEqual(["x", "y", "new"].map((s) => gate.admits(s)), [true, true, false]);
  equal(gate.refusedSignals, 1);
});
