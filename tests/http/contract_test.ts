/** Contract: every response the API gives validates against the zod schema it is documented with. */
import { equal, ok } from "node:assert/strict";
import type { z } from "zod";
import {
  HealthSchema,
  MetricsResponseSchema,
  ProblemSchema,
  SeriesResponseSchema,
  SignalsResponseSchema,
  StatusSchema,
} from "../../src/schemas.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { fakeIngest, ingestCycle, series, T0, testApp } from "../helpers.ts";

const cycle: IngestCycle = ingestCycle({
  ok: false,
  error: "Darshan upstream refused the request: 401 Unauthorized",
});

const points = [
  ...series("alpha", T0, 90, (i) => 85 + (i % 5)),
  ...series("gamma", T0, 90, (i) => (i % 2 ? 95 : 30)),
  ...series("unit", T0, 5, (i) => 0.5 + i / 100),
  { signal: "zero", ts: T0, score: 0 },
  { signal: "zero", ts: T0 - 60_000, score: 0 },
  { signal: "one", ts: T0, score: 100 },
];

const cases: [string, z.ZodType][] = [
  ["/health", HealthSchema],
  ["/status", StatusSchema],
  ["/coherence/signals", SignalsResponseSchema],
  ["/coherence/metrics", MetricsResponseSchema],
  ["/coherence/metrics?window=24h", MetricsResponseSchema],
  ["/coherence/metrics?signal=alpha&window=30s", MetricsResponseSchema],
  ["/coherence/metrics?signal=gamma&window=1h", MetricsResponseSchema],
  ["/coherence/metrics?signal=unit&window=1h", MetricsResponseSchema],
  ["/coherence/metrics?signal=zero&window=1h", MetricsResponseSchema],
  ["/coherence/metrics?signal=one&window=1h", MetricsResponseSchema],
  ["/coherence/metrics?signal=alpha&end=2020-01-01T00:00:00Z", MetricsResponseSchema],
  ["/coherence/predict?window=5m", MetricsResponseSchema],
  ["/coherence/series", SeriesResponseSchema],
  ["/coherence/series?signal=gamma&window=5m&points=50", SeriesResponseSchema],
  ["/coherence/metrics?window=bad", ProblemSchema],
  ["/coherence/series?points=0", ProblemSchema],
  ["/coherence/metrics?signal=nobody", ProblemSchema],
  ["/coherence/metrics?end=never", ProblemSchema],
  ["/missing", ProblemSchema],
];

for (const [path, schema] of cases) {
  Deno.test(`contract: GET ${path} validates against its schema`, async () => {
    const { app } = testApp({ points, ingest: fakeIngest([cycle], T0 - 86_400_000) });
    const res = await app.request(path);
    const text = await res.text();
    ok(!/NaN|Infinity/.test(text), "no NaN or Infinity in the body");
    const parsed = schema.safeParse(JSON.parse(text));
    ok(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues, null, 2));
    if (schema === ProblemSchema) {
      equal(JSON.parse(text).status, res.status, "problem status equals the HTTP status");
      equal(res.headers.get("content-type"), "application/problem+json");
    } else {
      equal(res.status, 200);
      ok(res.headers.get("content-type")?.startsWith("application/json"));
    }
  });
}

Deno.test("contract: metrics responses carry at least one warning whenever n < 2", async () => {
  const { app } = testApp({ points });
  for (
    const path of [
      "/coherence/metrics?signal=one",
      "/coherence/metrics?signal=alpha&end=2020-01-01T00:00:00Z",
    ]
  ) {
    const body = MetricsResponseSchema.parse(await (await app.request(path)).json());
    ok(body.n < 2);
    ok(body.warnings.length > 0, path);
  }
});
