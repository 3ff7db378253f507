import { deepEqual, equal, ok } from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { createDispatcher } from "../../src/alerts/dispatcher.ts";
import {
  createWebhookTarget,
  standardSecret,
  TRANSITION_EVENT,
  transitionEvent,
} from "../../src/alerts/webhook_target.ts";
import type { Transition } from "../../src/core/alerts.ts";
import { createMemoryTransitionLog } from "../../src/persistence/memory_transitions.ts";
import { recentTransitions, transition, until } from "./support.ts";

const SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;

interface Received {
  id: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A loopback receiver that verifies every request with the package's own `verify()`; 204 when it holds. */
function receiver(verifier: Webhook, port = 0) {
  const received: Received[] = [];
  const rejected: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (request) => {
    const body = await request.text();
    const headers = Object.fromEntries(request.headers);
    try {
      const payload = verifier.verify(body, headers);
      received.push({ id: headers["webhook-id"], body: payload, headers });
      return new Response(null, { status: 204 });
    } catch (error) {
      rejected.push(String(error));
      return new Response("bad signature", { status: 401 });
    }
  });
  return { server, received, rejected, port: server.addr.port };
}

/** The ids in first-seen order (what a receiver that deduplicates on webhook-id keeps). */
const deduped = (received: Received[]) => [...new Set(received.map((r) => r.id))];

Deno.test("webhook target: a loopback receiver verifies every request with standardwebhooks' verify()", async () => {
  const rx = receiver(new Webhook(SECRET));
  const log = createMemoryTransitionLog();
  const all = recentTransitions(3);
  await log.append(all);
  const target = createWebhookTarget({ url: `http://127.0.0.1:${rx.port}/hooks/coherence`, secret: SECRET });
  const d = createDispatcher({ log, targets: [target], pollMs: 0 });
  d.start();
  try {
    await until("3 deliveries", () => d.status()[0].delivered === 3);
    deepEqual(rx.rejected, []);
    deepEqual(rx.received.map((r) => r.id), all.map((t) => t.id));
    rx.received.forEach((r, i) => {
      deepEqual(r.body, { type: TRANSITION_EVENT, timestamp: all[i].at, data: all[i] });
      equal(r.headers["content-type"], "application/json");
      ok(/^v1,[A-Za-z0-9+/]+=*$/.test(r.headers["webhook-signature"]));
      ok(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000) < 300);
    });
  } finally {
    await d.stop();
    await rx.server.shutdown();
  }
});

Deno.test("webhook target: a receiver down for a while gets every transition, in order, once it is back", async () => {
  const verifier = new Webhook(SECRET);
  const first = receiver(verifier);
  const port = first.port;
  const log = createMemoryTransitionLog();
  const all = recentTransitions(8);
  await log.append(all.slice(0, 3));
  const target = createWebhookTarget({
    url: `http://127.0.0.1:${port}/hook`,
    secret: SECRET,
    timeoutMs: 2000,
  });
  const d = createDispatcher({ log, targets: [target], baseMs: 5, capMs: 40, pollMs: 0 });
  d.start();
  let second: ReturnType<typeof receiver> | undefined;
  try {
    await until("3 deliveries", () => d.status()[0].delivered === 3);
    await first.server.shutdown();
    // Transitions logged while the receiver is down.
    await log.append(all.slice(3));
    d.wake();
    await until("several failed attempts", () => d.status()[0].failed >= 4);
    const down = d.status()[0];
    ok(down.consecutiveFailures >= 4);
    equal(down.outboxDepth, 5);
    ok(down.lastError?.startsWith(`POST http://127.0.0.1:${port}: `), String(down.lastError));
    second = receiver(verifier, port);
    await until("8 deliveries", () => d.status()[0].delivered === 8);
    const received = [...first.received, ...second.received];
    deepEqual([...first.rejected, ...second.rejected], []);
    deepEqual(deduped(received), all.map((t) => t.id));
    deepEqual(received.map((r) => (r.body as { data: Transition }).data), all);
    equal(d.status()[0].consecutiveFailures, 0);
  } finally {
    await d.stop();
    await second?.server.shutdown();
  }
});

Deno.test("webhook target: a raw secret is base64-encoded into whsec_ form, verifiable either way", async () => {
  const raw = "correct horse battery staple";
  equal(standardSecret(raw), `whsec_${btoa(raw)}`);
  equal(standardSecret(SECRET), SECRET);
  const requests: { body: string; headers: Record<string, string> }[] = [];
  const fake: typeof fetch = (_url, init) => {
    requests.push({ body: String(init?.body), headers: init?.headers as Record<string, string> });
    return Promise.resolve(new Response(null, { status: 200 }));
  };
  const t = transition(0);
  const target = createWebhookTarget({ url: "https://receiver.test/h", secret: raw, fetch: fake });
  deepEqual(await target.send([t], new AbortController().signal), { ok: true });
  const [{ body, headers }] = requests;
  deepEqual(new Webhook(raw, { format: "raw" }).verify(body, headers), transitionEvent(t));
  deepEqual(new Webhook(standardSecret(raw)).verify(body, headers), transitionEvent(t));
  equal(headers["webhook-id"], t.id);
});

Deno.test("webhook target: any non-2xx is a failure to retry, with Retry-After passed on", async () => {
  const answers = [
    new Response("no", { status: 410 }),
    new Response(null, { status: 429, headers: { "Retry-After": "7" } }),
  ];
  const fake: typeof fetch = () => Promise.resolve(answers.shift()!);
  const target = createWebhookTarget({
    url: "https://u:p@receiver.test/h?token=x",
    secret: SECRET,
    fetch: fake,
  });
  const signal = new AbortController().signal;
  deepEqual(await target.send([transition(0)], signal), {
    ok: false,
    error: "POST https://receiver.test: HTTP 410",
    retryAfterMs: null,
  });
  deepEqual(await target.send([transition(0)], signal), {
    ok: false,
    error: "POST https://receiver.test: HTTP 429",
    retryAfterMs: 7000,
  });
});

Deno.test("webhook target: a request slower than the timeout fails as timed out", async () => {
  const hanging: typeof fetch = (_url, init) =>
    new Promise((_resolve, reject) =>
      init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true })
    );
  const target = createWebhookTarget({ url: "https://receiver.test/h", fetch: hanging, timeoutMs: 20 });
  deepEqual(await target.send([transition(0)], new AbortController().signal), {
    ok: false,
    error: "POST https://receiver.test: timed out",
  });
});
