/**
 * `/coherence/series` returns exactly `points` window ends, in whole seconds and evenly spaced, for any window,
 * any point count and any time of day (with or without `to`, `from`, and with milliseconds in the clock).
 */
import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { seriesGrid } from "../../src/core/series.ts";
import { SeriesResponseSchema } from "../../src/schemas.ts";
import { series, T0, testApp } from "../helpers.ts";

const DAY_MS = 86_400_000;

Deno.test("seriesGrid() gives exactly `points` whole-second ends, evenly spaced, newest at ⌊to⌋, none before from unless the span is too short", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 4_000_000_000_000 }),
    fc.integer({ min: 0, max: 40 * DAY_MS }),
    fc.integer({ min: 2, max: 1000 }),
    (toMs, spanMs, points) => {
      const fromMs = toMs - spanMs;
      const grid = seriesGrid(fromMs, toMs, points);
      equal(grid.points, points);
      equal(grid.toMs, Math.floor(toMs / 1000) * 1000);
      equal(grid.stepMs % 1000, 0);
      ok(grid.stepMs >= 1000);
      equal(grid.fromMs % 1000, 0);
      equal(grid.toMs - grid.fromMs, (points - 1) * grid.stepMs);
      const spanSec = Math.floor(toMs / 1000) - Math.ceil(fromMs / 1000);
      if (spanSec >= points - 1) {
        ok(grid.fromMs >= fromMs, "the oldest end is not before from");
        ok(grid.fromMs - fromMs < points * 1000, "and less than points − 1 seconds after it (plus rounding)");
      }
    },
  ));
});

const points = series("alpha", T0, 240, (i) => 70 + (i % 7) * 3);

Deno.test("GET /coherence/series returns exactly `points` ends, whole seconds, evenly spaced, for any window, points and time", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 7 * 86_400 }),
      fc.integer({ min: 2, max: 400 }),
      fc.integer({ min: -2 * DAY_MS, max: 2 * DAY_MS }),
      fc.option(fc.integer({ min: 0, max: 3 * DAY_MS }), { nil: undefined }),
      fc.boolean(),
      async (windowSec, count, offsetMs, spanMs, withTo) => {
        const now = T0 + offsetMs;
        const { app } = testApp({ points, now });
        const query = new URLSearchParams({
          window: `${windowSec}s`,
          points: String(count),
          signal: "alpha",
        });
        const toMs = withTo ? now - 1234 : now;
        if (withTo) query.set("to", new Date(toMs).toISOString());
        if (spanMs !== undefined) query.set("from", new Date(toMs - spanMs).toISOString());
        const res = await app.request(`/coherence/series?${query}`);
        equal(res.status, 200, await res.clone().text());
        const body = SeriesResponseSchema.parse(await res.json());
        equal(body.points.length, count, "exactly points ends");
        const ends = body.points.map((p) => Date.parse(p.timestamp));
        for (const [i, end] of ends.entries()) {
          equal(end % 1000, 0, "whole seconds");
          ok(!body.points[i].timestamp.includes("."), "no fraction in the timestamp");
          if (i > 0) equal(end - ends[i - 1], body.stepSec * 1000, "evenly spaced by stepSec");
        }
        ok(Number.isInteger(body.stepSec));
        equal(ends.at(-1), Math.floor(toMs / 1000) * 1000, "the newest end is to, truncated to the second");
        equal(body.to, body.points.at(-1)?.timestamp);
        equal(body.from, body.points[0].timestamp);
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("GET /coherence/series: the default to is whole seconds, like end, even when the clock has milliseconds", async () => {
  const { app } = testApp({ points, now: T0 + 987 });
  const body = SeriesResponseSchema.parse(await (await app.request("/coherence/series?points=120")).json());
  equal(body.to, "2025-10-29T17:00:00Z");
  equal(body.points.length, 120);
  const metrics = await (await app.request("/coherence/metrics")).json();
  equal(body.to, metrics.timestamp, "same whole-second default end as /coherence/metrics");
});
