import { deepEqual, equal, match } from "node:assert/strict";
import { join } from "node:path";
import { openSqliteStore } from "../../src/persistence/sqlite_store.ts";
import { PointStore } from "../../src/core/point_store.ts";
import { createApp } from "../../src/http/app.ts";
import { ServiceMetrics } from "../../src/http/prometheus.ts";
import { createNoneStore } from "../../src/persistence/none_store.ts";
import { createStoreRegistry } from "../../src/persistence/registry.ts";
import { HistoryResponseSchema, ProblemSchema } from "../../src/schemas.ts";
import { row } from "../persistence/rows.ts";
import { fakeIngest, nonePersistence, series, T0, testApp, testConfig } from "../helpers.ts";

const points = [
  ...series("alpha", T0, 120, (i) => 85 + (i % 5)),
  ...series("beta", T0, 120, (i) => 70 + (i % 3)),
];

/** An app over an in-memory SQLite snapshot store holding `cycles` snapshots (taken at T0). */
async function withHistory(cycles: number, fn: (app: ReturnType<typeof testApp>["app"]) => Promise<void>) {
  const snapshots = openSqliteStore(":memory:");
  const { app, snapshotter } = testApp({ points, snapshots, env: { PERSISTENCE: "sqlite" } });
  for (let i = 0; i < cycles; i++) await snapshotter.afterCycle();
  try {
    await fn(app);
  } finally {
    await snapshots.close();
  }
}

Deno.test("GET /coherence/history returns snapshot rows in the metrics response's field names, oldest first", async () => {
  await withHistory(1, async (app) => {
    const res = await app.request("/coherence/history?signal=alpha&window=1h");
    equal(res.status, 200);
    const body = HistoryResponseSchema.parse(await res.json());
    equal(body.store, "sqlite");
    equal(body.active, true);
    equal(body.order, "oldest first");
    equal(body.count, 1);
    const [row] = body.rows;
    const metrics = await (await app.request("/coherence/metrics?signal=alpha&window=1h")).json();
    equal(row.timestamp, metrics.timestamp);
    equal(row.coherenceMean, metrics.coherenceMean);
    equal(row.stdev, metrics.stdev);
    equal(row.volatilityIndex, metrics.volatilityIndex);
    equal(row.predictedDriftRisk, metrics.predictedDriftRisk);
    equal(row.n, metrics.n);
    deepEqual(row.inputs, metrics.inputs);
    equal(row.meta.engine_version, "0.1.0");
  });
});

Deno.test("GET /coherence/history defaults to the pooled * rows of the first window", async () => {
  await withHistory(1, async (app) => {
    const body = HistoryResponseSchema.parse(await (await app.request("/coherence/history")).json());
    equal(body.signal, "*");
    equal(body.windowSec, 3600);
    equal(body.rows[0].n, 120);
  });
});

Deno.test("GET /coherence/history refuses bad limits, windows, times and stores with problem+json", async () => {
  await withHistory(0, async (app) => {
    for (
      const [path, detail] of [
        ["/coherence/history?limit=0", /expected 1 to 10000, got 0/],
        ["/coherence/history?limit=20000", /expected 1 to 10000/],
        ["/coherence/history?limit=ten", /"limit" is not valid/],
        ["/coherence/history?window=1y", /Cannot parse window "1y"/],
        ["/coherence/history?since=soon", /Cannot parse since "soon"/],
        ["/coherence/history?store=mongo", /"store" is not valid: expected one of sqlite, csv, kv, none/],
      ] as const
    ) {
      const res = await app.request(path);
      equal(res.status, 400, path);
      equal(res.headers.get("content-type"), "application/problem+json");
      match(ProblemSchema.parse(await res.json()).detail, detail);
    }
  });
});

Deno.test("GET /coherence/history?signal= of an unknown signal is a 404 unknown-signal problem, as on /coherence/metrics", async () => {
  await withHistory(1, async (app) => {
    for (const route of ["history", "metrics"]) {
      const res = await app.request(`/coherence/${route}?signal=nope`);
      equal(res.status, 404, route);
      const body = ProblemSchema.parse(await res.json());
      equal(body.type, "https://coherence-engine.dev/problems/unknown-signal");
      equal(body.detail, 'Unknown signal "nope": known signals are alpha, beta');
    }
    equal((await app.request("/coherence/history?signal=%20beta%20")).status, 200, "names are trimmed");
  });
});

Deno.test("GET /coherence/history of a signal not held yet but persisted (a restart before the first ingest) is a 200 with its rows", async () => {
  // Rows of a signal the point store does not hold, as after a restart with the upstream down.
  const snapshots = openSqliteStore(":memory:");
  const { app } = testApp({ points, snapshots, env: { PERSISTENCE: "sqlite" } });
  try {
    await snapshots.append([row(0, { signal: "gamma", window_sec: 3600 })]);
    const res = await app.request("/coherence/history?signal=gamma&window=1h");
    equal(res.status, 200);
    const body = HistoryResponseSchema.parse(await res.json());
    deepEqual(body.rows.map((r) => r.signal), ["gamma"]);
    equal((await app.request("/coherence/history?signal=nope&window=1h")).status, 404);
  } finally {
    await snapshots.close();
  }
});

Deno.test("GET /coherence/history?store= reads another mode only where its data exists, and says so", async () => {
  await withHistory(1, async (app) => {
    const none = HistoryResponseSchema.parse(
      await (await app.request("/coherence/history?store=none")).json(),
    );
    equal(none.active, false);
    equal(none.count, 0);
    match(none.note ?? "", /keeps no snapshots/);
    const csv = HistoryResponseSchema.parse(await (await app.request("/coherence/history?store=csv")).json());
    equal(csv.store, "csv");
    equal(csv.count, 0);
    match(csv.note ?? "", /No csv snapshot store exists here yet \(the active store is sqlite\)/);
  });
});

Deno.test("GET /coherence/history?store=csv over a foreign CSV file is a 503 problem and the file is untouched", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "rolling_store.csv");
  await Deno.writeTextFile(file, "name,email\nada,ada@example.com\n");
  try {
    const app = createApp({
      config: testConfig(),
      store: new PointStore(),
      ingest: fakeIngest(),
      persistence: {
        ...nonePersistence(),
        registry: createStoreRegistry(createNoneStore(), { dataDir: dir }),
      },
      source: { kind: "mock_file", location: "t", replay: false },
      startedAtMs: T0,
      metrics: new ServiceMetrics(),
    });
    const res = await app.request("/coherence/history?store=csv");
    equal(res.status, 503);
    const body = ProblemSchema.parse(await res.json());
    equal(body.status, 503);
    match(body.detail, /Cannot read the csv store: .*rolling_store\.csv/);
    equal(await Deno.readTextFile(file), "name,email\nada,ada@example.com\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
