import { equal, rejects } from "node:assert/strict";
import { sleep } from "../../src/core/sleep.ts";

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
