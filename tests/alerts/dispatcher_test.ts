import { deepEqual, equal, ok } from "node:assert/strict";
import { createDispatcher, type DispatcherOptions } from "../../src/alerts/dispatcher.ts";
import type { DeliveryTarget } from "../../src/alerts/target.ts";
import { createWebhookTarget } from "../../src/alerts/webhook_target.ts";
import { createMemoryTransitionLog } from "../../src/persistence/memory_transitions.ts";
import { cursorOf } from "../../src/persistence/transitions.ts";
import { fakeTime, recordingTarget, T0, transition, transitions, until } from "./support.ts";

function dispatcher(options: Partial<DispatcherOptions> & Pick<DispatcherOptions, "log" | "targets">) {
  const time = fakeTime();
  const d = createDispatcher({ now: time.now, sleep: time.sleep, random: () => 1, pollMs: 0, ...options });
  return { d, time };
}

Deno.test("createDispatcher() delivers every transition in log order, one per request, and moves the cursor", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(5);
  await log.append(all);
  const rec = recordingTarget();
  const { d } = dispatcher({ log, targets: [rec.target] });
  d.start();
  await until("5 deliveries", () => d.status()[0].delivered === 5);
  deepEqual(rec.attempts, all.map((t) => [t.id]));
  deepEqual(await log.cursor("webhook"), cursorOf(all[4]));
  // New transitions after a wake() follow.
  const more = transitions(2, 5);
  await log.append(more);
  d.wake();
  await until("7 deliveries", () => d.status()[0].delivered === 7);
  deepEqual(rec.ids().slice(5), more.map((t) => t.id));
  equal(d.status()[0].outboxDepth, 0);
  await d.stop();
});

Deno.test("createDispatcher() is at least once: a receiver failing 3 times gets everything in order, only the failed one repeated", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(4);
  await log.append(all);
  const rec = recordingTarget((_, attempt) =>
    attempt <= 3 ? { ok: false, error: "POST https://receiver.test:8443: HTTP 503" } : { ok: true }
  );
  const { d } = dispatcher({ log, targets: [rec.target] });
  d.start();
  await until("4 deliveries", () => d.status()[0].delivered === 4);
  const ids = all.map((t) => t.id);
  deepEqual(rec.ids(), [ids[0], ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]);
  const status = d.status()[0];
  equal(status.failed, 3);
  equal(status.consecutiveFailures, 0);
  equal(status.lastError, null);
  ok(status.lastFailureAt !== null && status.lastSuccessAt !== null);
  await d.stop();
});

Deno.test("createDispatcher() backs off exponentially with full jitter, capped, and honours Retry-After up to its cap", async () => {
  const log = createMemoryTransitionLog();
  await log.append(transitions(1));
  const randoms = [1, 0.5, 1, 0.25, 1, 1, 0];
  const rec = recordingTarget((_, attempt) =>
    attempt === 8
      ? { ok: false, error: "HTTP 429", retryAfterMs: 5_000 }
      : attempt === 9
      ? { ok: false, error: "HTTP 503", retryAfterMs: 60_000 }
      : attempt <= 9
      ? { ok: false, error: "HTTP 500" }
      : { ok: true }
  );
  const { d, time } = dispatcher({
    log,
    targets: [rec.target],
    baseMs: 100,
    capMs: 1_000,
    retryAfterCapMs: 30_000,
    random: () => randoms.shift()!,
  });
  d.start();
  await until("the delivery", () => d.status()[0].delivered === 1);
  // random() × min(cap, base × 2^attempt): 1×100, 0.5×200, 1×400, 0.25×800, 1×1000 (cap), 1×1000, 0×1000;
  // then Retry-After 5 s, then Retry-After 60 s capped at 30 s.
  deepEqual(time.waits, [100, 100, 400, 200, 1000, 1000, 0, 5_000, 30_000]);
  equal(d.status()[0].failed, 9);
  await d.stop();
});

Deno.test("createDispatcher() backoff waits always lie in [0, min(cap, base × 2^attempt)]", async () => {
  const log = createMemoryTransitionLog();
  await log.append(transitions(1));
  const rec = recordingTarget((_, attempt) => attempt <= 40 ? { ok: false, error: "down" } : { ok: true });
  const { d, time } = dispatcher({
    log,
    targets: [rec.target],
    baseMs: 250,
    capMs: 60_000,
    random: Math.random,
  });
  d.start();
  await until("the delivery", () => d.status()[0].delivered === 1);
  equal(time.waits.length, 40);
  time.waits.forEach((ms, attempt) =>
    ok(ms >= 0 && ms <= Math.min(60_000, 250 * 2 ** attempt), `${attempt}: ${ms}`)
  );
  await d.stop();
});

Deno.test("createDispatcher() gives up transitions older than the max age and counts them expired", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(4); // at T0 + 0..3 min
  await log.append(all);
  const rec = recordingTarget();
  const time = fakeTime(T0 + 11 * 60_000);
  // Max age 9.5 min at T0 + 11 min: transitions 0 (11 min old) and 1 (10 min old) are too old.
  const d = createDispatcher({
    log,
    targets: [rec.target],
    now: time.now,
    sleep: time.sleep,
    pollMs: 0,
    maxAgeMs: 9.5 * 60_000,
  });
  d.start();
  await until("2 deliveries", () => d.status()[0].delivered === 2);
  deepEqual(rec.ids(), [all[2].id, all[3].id]);
  equal(d.status()[0].expired, 2);
  await d.stop();
});

Deno.test("createDispatcher() expires a transition that ages out while its receiver keeps failing, then moves on", async () => {
  const log = createMemoryTransitionLog();
  const first = transition(0);
  await log.append([first]);
  const rec = recordingTarget(() => ({ ok: false, error: "HTTP 500" }));
  const time = fakeTime(Date.parse(first.at));
  const d = createDispatcher({
    log,
    targets: [rec.target],
    now: time.now,
    sleep: time.sleep,
    random: () => 1,
    baseMs: 60_000,
    capMs: 3600_000,
    maxAgeMs: 24 * 3600_000,
    pollMs: 0,
  });
  d.start();
  await until("the expiry", () => d.status()[0].expired === 1);
  // 1 + 2 + 4 + … minutes: the 11th wait passes 24 h.
  equal(d.status()[0].failed, rec.attempts.length);
  ok(time.now() - Date.parse(first.at) > 24 * 3600_000);
  deepEqual(await log.cursor("webhook"), cursorOf(first));
  equal(d.status()[0].delivered, 0);
  await d.stop();
});

Deno.test("createDispatcher() bounds the outbox: past maxOutbox the oldest are skipped and counted dropped", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(25);
  await log.append(all);
  const rec = recordingTarget();
  const { d } = dispatcher({ log, targets: [rec.target], maxOutbox: 10, pageSize: 4 });
  d.start();
  await until("10 deliveries", () => d.status()[0].delivered === 10);
  deepEqual(rec.ids(), all.slice(15).map((t) => t.id));
  equal(d.status()[0].dropped, 15);
  await d.stop();
});

Deno.test("createDispatcher() checks the bound between retries: a receiver down while transitions pile up loses only the oldest", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(30);
  await log.append(all.slice(0, 1));
  let down = true;
  const acknowledged: string[] = [];
  const rec = recordingTarget((ids) => {
    if (down) return { ok: false, error: "down" };
    acknowledged.push(...ids);
    return { ok: true };
  });
  const { d } = dispatcher({ log, targets: [rec.target], maxOutbox: 5 });
  d.start();
  await until("a failure", () => d.status()[0].failed >= 1);
  await log.append(all.slice(1));
  d.wake();
  await until("the drop", () => d.status()[0].dropped > 0);
  down = false;
  await until("5 deliveries", () => d.status()[0].delivered === 5);
  deepEqual(acknowledged, all.slice(25).map((t) => t.id));
  equal(d.status()[0].dropped, 25);
  await d.stop();
});

Deno.test("createDispatcher() cursor survives a restart: a new dispatcher on the same log sends only what is owed", async () => {
  const log = createMemoryTransitionLog();
  const all = transitions(5);
  await log.append(all.slice(0, 3));
  const first = recordingTarget();
  const a = dispatcher({ log, targets: [first.target] });
  a.d.start();
  await until("3 deliveries", () => a.d.status()[0].delivered === 3);
  await a.d.stop();
  // Logged while no process delivers (as after kill -9 between the append and the delivery).
  await log.append(all.slice(3));
  const second = recordingTarget();
  const b = dispatcher({ log, targets: [second.target] });
  b.d.start();
  await until("2 deliveries", () => b.d.status()[0].delivered === 2);
  deepEqual(second.ids(), all.slice(3).map((t) => t.id));
  await b.d.stop();
});

Deno.test("createDispatcher() stop() aborts a request in flight and resolves; the cursor stays put", async () => {
  const log = createMemoryTransitionLog();
  await log.append(transitions(2));
  let seen: AbortSignal | undefined;
  const hanging: typeof fetch = (_input, init) => {
    seen = init?.signal ?? undefined;
    return new Promise((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true });
    });
  };
  const target = createWebhookTarget({ url: "https://receiver.test/hook", fetch: hanging, secret: "s3cret" });
  const { d } = dispatcher({ log, targets: [target] });
  d.start();
  await until("the request", () => seen !== undefined);
  await d.stop();
  equal(seen!.aborted, true);
  equal(await log.cursor("webhook"), null);
  equal(d.status()[0].failed, 0);
});

Deno.test("createDispatcher() a slow receiver blocks neither wake() nor another target", async () => {
  const log = createMemoryTransitionLog();
  await log.append(transitions(2));
  const slow: DeliveryTarget = {
    name: "alertmanager",
    url: "http://am.test:9093",
    batchSize: 1,
    send: (_batch, signal) =>
      new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve({ ok: false, error: "stopped" }))
      ),
  };
  const fast = recordingTarget();
  const { d } = dispatcher({ log, targets: [slow, fast.target] });
  d.start();
  await until("2 deliveries to the fast target", () => d.status()[1].delivered === 2);
  await log.append(transitions(3, 2));
  equal(d.wake(), undefined); // synchronous: nothing to await
  await until("5 deliveries to the fast target", () => d.status()[1].delivered === 5);
  equal(d.status()[0].delivered, 0);
  await d.stop();
});

Deno.test("createDispatcher() status() shows scheme://host[:port] only and errors without credentials, path, query or secret", async () => {
  const log = createMemoryTransitionLog();
  await log.append(transitions(1));
  const url = "https://hookuser:pa55word@hooks.example.com:8443/services/T0K3N/hook?key=qu3ry";
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const failing: typeof fetch = (input) =>
    Promise.reject(new TypeError(`error sending request for url (${input}): connection refused ${secret}`));
  const target = createWebhookTarget({ url, secret, fetch: failing });
  const { d } = dispatcher({ log, targets: [target] });
  d.start();
  await until("2 failures", () => d.status()[0].failed >= 2);
  await d.stop();
  const status = d.status()[0];
  equal(status.url, "https://hooks.example.com:8443");
  equal(status.lastError, "POST https://hooks.example.com:8443: connection refused");
  const text = JSON.stringify(d.status());
  for (const leak of ["hookuser", "pa55word", "T0K3N", "services", "qu3ry", secret, secret.slice(6)]) {
    ok(!text.includes(leak), `status holds ${leak}: ${text}`);
  }
});

Deno.test("createDispatcher() runs a target's re-send every interval, apart from the outbox, and reports its failures", async () => {
  const log = createMemoryTransitionLog();
  let runs = 0;
  const rec = recordingTarget();
  const target: DeliveryTarget = {
    ...rec.target,
    name: "alertmanager",
    resend: {
      intervalMs: 60_000,
      run: () =>
        Promise.resolve(
          ++runs === 2 ? { ok: false, error: "POST http://am.test:9093: HTTP 500" } : { ok: true },
        ),
    },
  };
  const { d, time } = dispatcher({ log, targets: [target] });
  d.start();
  await until("3 re-sends", () => runs >= 3);
  await d.stop();
  ok(time.waits.slice(0, 3).every((ms) => ms === 60_000), String(time.waits));
  equal(d.status()[0].lastError, "POST http://am.test:9093: HTTP 500");
  equal(d.status()[0].failed, 0); // failed counts transition attempts only
  deepEqual(rec.attempts, []);
});

Deno.test("createDispatcher() rides out a failing transitions log: reports it, backs off, then delivers", async () => {
  const memory = createMemoryTransitionLog();
  const all = transitions(2);
  await memory.append(all);
  let failures = 2;
  const log = {
    ...memory,
    after: (cursor: Parameters<typeof memory.after>[0], limit: number) =>
      failures-- > 0 ? Promise.reject(new Error("database is locked")) : memory.after(cursor, limit),
  };
  const rec = recordingTarget();
  const { d, time } = dispatcher({ log, targets: [rec.target], baseMs: 100 });
  d.start();
  await until("2 deliveries", () => d.status()[0].delivered === 2);
  deepEqual(time.waits.slice(0, 2), [100, 200]);
  deepEqual(rec.ids(), all.map((t) => t.id));
  equal(d.status()[0].failed, 0);
  ok(d.status()[0].lastFailureAt !== null);
  await d.stop();
});
