import { deepEqual, equal, rejects } from "node:assert/strict";
import { createMemoryTransitionLog } from "../../src/persistence/memory_transitions.ts";
import { openRetryingTransitionLog } from "../../src/persistence/retrying_transitions.ts";
import { SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import type { TransitionLog } from "../../src/persistence/transitions.ts";

const OPTIONS = { dataDir: "/nonexistent" };

Deno.test("openRetryingTransitionLog() never rejects: while the log cannot be opened each use rejects with why, then it opens", async () => {
  let attempts = 0;
  let failing = true;
  const inner = createMemoryTransitionLog();
  const open = () => {
    attempts++;
    return failing
      ? Promise.reject(new SnapshotStoreError('Cannot open "/data/rolling_store.db": database is locked'))
      : Promise.resolve(inner as TransitionLog);
  };
  const log = await openRetryingTransitionLog("sqlite", OPTIONS, open);
  equal(log.openError, 'Cannot open "/data/rolling_store.db": database is locked');
  await rejects(log.latest(), /database is locked/);
  await rejects(log.cursor("webhook"), /database is locked/);
  equal(attempts, 3);
  failing = false;
  deepEqual(await log.latest(), []);
  equal(log.openError, null);
  await log.setCursor("webhook", { atMs: 1, id: "tr_x" });
  deepEqual(await inner.cursor("webhook"), { atMs: 1, id: "tr_x" });
  equal(attempts, 4, "opened once, then reused");
  await log.close();
  await rejects(log.latest(), /closed/);
});

Deno.test("openRetryingTransitionLog() opens once for concurrent callers", async () => {
  let attempts = 0;
  const open = async () => {
    attempts++;
    await new Promise((r) => setTimeout(r, 5));
    return createMemoryTransitionLog() as TransitionLog;
  };
  let fail = true;
  const log = await openRetryingTransitionLog("csv", OPTIONS, () => {
    if (fail) {
      fail = false;
      return Promise.reject(new Error("not yet"));
    }
    return open();
  });
  await Promise.all([log.latest(), log.countAfter(null), log.cursor("alertmanager")]);
  equal(attempts, 1);
  await log.close();
});
