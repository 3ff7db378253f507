import { equal, rejects } from "node:assert/strict";
import { pacer, sleep } from "../../src/core/sleep.ts";

Deno.test("sleep() resolves once the time has passed", async () => {
  equal(await sleep(0), undefined);
});

Deno.test("sleep() rejects at once with the reason when the signal has already aborted", async () => {
  const reason = new Error("stopped");
  await rejects(sleep(60_000, AbortSignal.abort(reason)), (error) => error === reason);
});

Deno.test("sleep() rejects with the reason when the signal aborts while waiting, and clears its timer", async () => {
  // The test's resource sanitizer fails the test if the 60 s timer were left running.
  const controller = new AbortController();
  const reason = new Error("shutdown");
  const waiting = sleep(60_000, controller.signal);
  controller.abort(reason);
  await rejects(waiting, (error) => error === reason);
});

Deno.test("pacer() pauses at a slice boundary only once sliceMs of wall time have passed since the last pause", async () => {
  let now = 0;
  let pauses = 0;
  const boundary = pacer({
    sliceMs: 8,
    now: () => now,
    pause: () => {
      pauses++;
      now += 1; // the pause itself takes a millisecond
      return Promise.resolve();
    },
  });
  now = 5;
  await boundary();
  equal(pauses, 0, "5 ms in: not due");
  now = 8;
  await boundary();
  equal(pauses, 1, "8 ms in: due");
  now = 15;
  await boundary();
  equal(pauses, 1, "6 ms after the pause ended: not due");
  now = 17;
  await boundary();
  equal(pauses, 2);
});

Deno.test("pacer() with sliceMs 0 pauses at every boundary", async () => {
  let pauses = 0;
  const boundary = pacer({ sliceMs: 0, pause: () => Promise.resolve(void pauses++) });
  for (let i = 0; i < 3; i++) await boundary();
  equal(pauses, 3);
});
