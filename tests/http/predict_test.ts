import { deepEqual, equal, match, ok } from "node:assert/strict";
import { BacktestResponseSchema, PredictResponseSchema } from "../../src/schemas.ts";
import { series, T0, testApp } from "../helpers.ts";

// alpha declines 3 points an hour from 95 over 6 h (one point a minute); beta holds steady around 85.
const alpha = series("alpha", T0, 360, (i) => 95 - (3 * i) / 60 + ((i * 7) % 5) / 10);
const beta = series("beta", T0, 360, (i) => 85 + (i % 3));
const points = [...alpha, ...beta];

async function get(app: { request(path: string): Response | Promise<Response> }, path: string) {
  const res = await app.request(path);
  return { status: res.status, type: res.headers.get("Content-Type"), body: await res.json() };
}

Deno.test("GET /coherence/predict has every /coherence/metrics field plus a forecast that validates", async () => {
  const { app } = testApp({ points });
  const metrics = (await get(app, "/coherence/metrics?window=1h&signal=alpha")).body;
  const { status, body } = await get(app, "/coherence/predict?window=1h&signal=alpha");
  equal(status, 200);
  PredictResponseSchema.parse(body);
  for (const key of Object.keys(metrics)) ok(key in body, `missing ${key}`);
  for (const key of Object.keys(metrics.explain)) ok(key in body.explain, `missing explain.${key}`);
  // The current window's numbers are the metrics answer's.
  deepEqual(
    [body.coherenceMean, body.stdev, body.n, body.explain.rule],
    [metrics.coherenceMean, metrics.stdev, metrics.n, metrics.explain.rule],
  );
  match(body.meta.method, /forecast/);
});

Deno.test("GET /coherence/predict projects a significant decline and answers the risk at end + horizon", async () => {
  const { app } = testApp({ points });
  const { body } = await get(app, "/coherence/predict?window=1h&signal=alpha&horizon=2h");
  const f = body.forecast;
  equal(f.horizonSec, 7200);
  equal(f.at, "2025-10-29T19:00:00Z");
  equal(f.significant, true);
  ok(Math.abs(f.slopePerHour + 3) < 0.2, String(f.slopePerHour));
  // 2 h at −3/h below the current mean (the line's value over (end + h − w, end + h]).
  ok(Math.abs(f.projectedMean - (body.coherenceMean - 3 * 2)) < 0.5, String(f.projectedMean));
  ok(f.projectedMeanInterval.low < f.projectedMean && f.projectedMean < f.projectedMeanInterval.high);
  equal(body.predictedDriftRisk, f.predictedDriftRisk);
  equal(f.currentRisk, body.explain.rule.level);
  // The mean is near 77.5 and falling: the high boundary 60 is reached in about (77.5 − 60) / 3 hours.
  equal(f.eta.medium.seconds, 0);
  ok(Math.abs(f.eta.high.seconds / 3600 - (f.projectedMean + 6 - 60) / 3) < 0.3, JSON.stringify(f.eta));
  match(f.eta.high.at, /^2025-10-29T2[23]:/);
  equal(f.eta.low, null);
  deepEqual(body.warnings, []);
});

Deno.test("GET /coherence/predict defaults the horizon to the window and says why a forecast is flat", async () => {
  const { app } = testApp({ points });
  const { body } = await get(app, "/coherence/predict?window=5m&signal=beta");
  equal(body.forecast.horizonSec, 300);
  equal(body.forecast.significant, false);
  equal(body.forecast.projectedMean, body.coherenceMean);
  deepEqual(body.warnings.map((w: { code: string }) => w.code), ["too_few_samples", "trend_too_few_points"]);
});

const bad: [string, number, string, RegExp][] = [
  ["/coherence/predict?horizon=5x", 400, "invalid-parameter", /Cannot parse horizon "5x"/],
  ["/coherence/predict?horizon=0", 400, "invalid-parameter", /Horizon "0" is empty/],
  [
    "/coherence/predict?horizon=31d",
    400,
    "invalid-parameter",
    /Horizon "31d" is too long: the maximum is 30d/,
  ],
  ["/coherence/predict?window=5x", 400, "invalid-window", /Cannot parse window "5x"/],
  ["/coherence/predict?end=soon", 400, "invalid-end", /Cannot parse end "soon"/],
  ["/coherence/predict?signal=zeta", 404, "unknown-signal", /Unknown signal "zeta"/],
  ["/coherence/predict/backtest?points=0", 400, "invalid-parameter", /expected 1 to 2000, got 0/],
  ["/coherence/predict/backtest?points=2001", 400, "invalid-parameter", /expected 1 to 2000, got 2001/],
  ["/coherence/predict/backtest?points=abc", 400, "invalid-parameter", /points/],
  ["/coherence/predict/backtest?horizon=1y", 400, "invalid-parameter", /Cannot parse horizon "1y"/],
  ["/coherence/predict/backtest?signal=zeta", 404, "unknown-signal", /Unknown signal "zeta"/],
];

for (const [path, status, kind, detail] of bad) {
  Deno.test(`GET ${path} is a ${status} ${kind} problem`, async () => {
    const { app } = testApp({ points });
    const res = await get(app, path);
    equal(res.status, status);
    equal(res.type, "application/problem+json");
    match(res.body.type, new RegExp(`${kind}$`));
    match(res.body.detail, detail);
  });
}

Deno.test("GET /coherence/predict/backtest replays 100 ends by default and the trend beats naive on a decline", async () => {
  const { app } = testApp({ points });
  const { status, body } = await get(app, "/coherence/predict/backtest?window=1h&horizon=1h&signal=alpha");
  equal(status, 200);
  BacktestResponseSchema.parse(body);
  equal(body.points, 100);
  equal(body.from, "2025-10-29T12:01:00Z"); // oldest point 11:01 + 1 h window
  equal(body.to, "2025-10-29T16:00:00Z"); // newest 17:00 − 1 h horizon
  const total = (c: Record<string, Record<string, number>>) =>
    Object.values(c).reduce((sum, row) => sum + Object.values(row).reduce((a, b) => a + b, 0), 0);
  equal(total(body.trend.confusion), 100);
  ok(
    body.trend.meanAbsoluteError < body.naive.meanAbsoluteError / 4,
    JSON.stringify([body.trend, body.naive]),
  );
  ok(body.trend.accuracy >= body.naive.accuracy);
  equal(body.note, null);
});

Deno.test("GET /coherence/predict/backtest explains an empty replay when the data is shorter than window + horizon", async () => {
  const { app } = testApp({ points });
  const { body } = await get(app, "/coherence/predict/backtest?window=4h&horizon=3h");
  equal(body.points, 0);
  equal(body.trend.accuracy, null);
  match(body.note, /window \+ horizon/);
});
