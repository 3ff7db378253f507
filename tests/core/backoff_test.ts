import assert from "node:assert/strict";
import { backoffMs, parseRetryAfter } from "../../src/core/backoff.ts";

Deno.test("backoffMs() is full jitter over a capped exponential", () => {
  const opts = { baseMs: 250, capMs: 30_000, random: () => 0.5 };
  assert.deepEqual([0, 1, 2, 3].map((a) => backoffMs(a, opts)), [125, 250, 500, 1000]);
  assert.equal(backoffMs(20, opts), 15_000);
  assert.equal(backoffMs(3, { ...opts, random: () => 0 }), 0);
  assert.equal(backoffMs(1, { ...opts, random: () => 0.999 }), 499.5);
});

Deno.test("parseRetryAfter() reads delta-seconds and HTTP-dates", () => {
  const now = Date.parse("2025-10-29T17:00:00Z");
  assert.equal(parseRetryAfter("3", now), 3000);
  assert.equal(parseRetryAfter(" 0 ", now), 0);
  assert.equal(parseRetryAfter("Wed, 29 Oct 2025 17:00:07 GMT", now), 7000);
  assert.equal(parseRetryAfter("Wed, 29 Oct 2025 16:59:00 GMT", now), 0);
  assert.equal(parseRetryAfter("soon", now), null);
  assert.equal(parseRetryAfter(null, now), null);
});
