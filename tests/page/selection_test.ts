import { deepEqual, equal, match } from "node:assert/strict";
import {
  apiPaths,
  isStoreMode,
  parseLive,
  rangeLabel,
  rangeMs,
  resolveSelection,
  type SelectionContext,
  selectionOptions,
  selectionQuery,
  seriesSpan,
  storeOptions,
  windowOptions,
} from "../../src/page/selection.ts";

const context: SelectionContext = {
  signals: [{ signal: "alpha", n: 10 }, { signal: "beta", n: 5 }],
  configuredWindowsSec: [3600, 86400],
  maxWindowSec: 30 * 86400,
  activeStore: "sqlite",
};

Deno.test("windowOptions() merges configured and common windows, shortest first, configured marked", () => {
  deepEqual(windowOptions([3600, 86400]), [
    { value: "5m", seconds: 300, configured: false },
    { value: "1h", seconds: 3600, configured: true },
    { value: "24h", seconds: 86400, configured: true },
  ]);
  deepEqual(windowOptions([900]).map((o) => o.value), ["5m", "15m", "1h", "24h"]);
  deepEqual(
    windowOptions([3600], "6h").map((o) => o.value),
    ["5m", "1h", "6h", "24h"],
    "the current one is offered",
  );
  deepEqual(windowOptions([3600], "60m").map((o) => o.value), ["5m", "1h", "24h"], "one entry per length");
  deepEqual(windowOptions([3600], "junk").map((o) => o.value), ["5m", "1h", "24h"]);
});

Deno.test("storeOptions() lists every store with the active one marked", () => {
  deepEqual(storeOptions("csv"), [
    { mode: "sqlite", active: false },
    { mode: "csv", active: true },
    { mode: "kv", active: false },
    { mode: "none", active: false },
  ]);
  equal(isStoreMode("kv"), true);
  equal(isStoreMode("mysql"), false);
});

Deno.test("resolveSelection() defaults to all signals, the first configured window and the active store", () => {
  deepEqual(resolveSelection({}, context), {
    selection: { signal: "*", window: "1h", store: "sqlite", range: "24h" },
    notices: [],
  });
  deepEqual(resolveSelection({ signal: "beta", window: "86400", store: "CSV" }, context), {
    selection: { signal: "beta", window: "24h", store: "csv", range: "24h" },
    notices: [],
  });
});

Deno.test("resolveSelection() falls back with a notice for an unknown signal, a bad window or store", () => {
  const { selection, notices } = resolveSelection({ signal: "zeta", window: "5x", store: "mysql" }, context);
  deepEqual(selection, { signal: "*", window: "1h", store: "sqlite", range: "24h" });
  equal(notices.length, 3);
  match(notices[0], /Unknown signal "zeta"/);
  match(notices[1], /Cannot parse window "5x".*showing 1h/);
  match(notices[2], /Unknown store "mysql"/);
  match(resolveSelection({ window: "90d" }, context).notices[0], /too long/);
});

Deno.test("selectionOptions() offers the selected window even when it is not a usual one", () => {
  const options = selectionOptions({ signal: "*", window: "6h", store: "sqlite", range: "24h" }, context);
  deepEqual(options.windows.map((o) => o.value), ["5m", "1h", "6h", "24h"]);
  equal(options.signals.length, 2);
  equal(options.stores.find((s) => s.active)?.mode, "sqlite");
});

Deno.test("selectionQuery() and apiPaths() encode the selection for the page and the API", () => {
  const selection = { signal: "a b&c", window: "1h", store: "csv" as const, range: "24h" as const };
  equal(selectionQuery(selection), "?signal=a+b%26c&window=1h&store=csv&range=24h");
  equal(selectionQuery(selection, { live: false }), "?signal=a+b%26c&window=1h&store=csv&range=24h&live=0");
  deepEqual(
    apiPaths({ signal: "*", window: "24h", store: "kv", range: "24h" }, {
      seriesPoints: 120,
      historyLimit: 25,
    }),
    {
      metrics: "/coherence/metrics?signal=*&window=24h",
      series: "/coherence/series?signal=*&window=24h&points=120",
      predict: "/coherence/predict?signal=*&window=24h",
      backtest: "/coherence/predict/backtest?signal=*&window=24h",
      history: "/coherence/history?signal=*&window=24h&limit=25&store=kv",
      signals: "/coherence/signals",
      alertsActive: "/coherence/alerts?state=active&limit=20",
      alertsPending: "/coherence/alerts?state=pending&limit=20",
      transitions: "/coherence/transitions?signal=*&window=24h&limit=100",
    },
  );
  // With a clock, the transitions start where the chart's range does.
  equal(
    apiPaths({ signal: "alpha", window: "1h", store: "kv", range: "6h" }, {
      seriesPoints: 120,
      historyLimit: 25,
      nowMs: Date.parse("2025-10-29T17:00:00.400Z"),
    }).transitions,
    "/coherence/transitions?signal=alpha&window=1h&limit=100&since=2025-10-29T11%3A00%3A00Z",
  );
});

Deno.test("resolveSelection() reads the range, falling back to the last 24 h with a notice", () => {
  equal(resolveSelection({ range: "6h" }, context).selection.range, "6h");
  equal(resolveSelection({ range: " 1H " }, context).selection.range, "1h");
  equal(resolveSelection({}, context).selection.range, "24h");
  const { selection, notices } = resolveSelection({ range: "2d" }, context);
  equal(selection.range, "24h");
  deepEqual(notices, ['Unknown range "2d": expected 1h, 6h, 24h; showing the last 24 h.']);
});

Deno.test("parseLive() pauses for live=0, false, off or no and is live otherwise", () => {
  for (const text of ["0", "false", "OFF", " no "]) equal(parseLive(text), false, text);
  for (const text of [undefined, "", "1", "true", "yes"]) equal(parseLive(text), true, String(text));
});

Deno.test("apiPaths() asks for the series over the range ending now, in whole seconds", () => {
  const now = Date.parse("2026-12-02T08:00:00.750Z");
  const paths = apiPaths(
    { signal: "alpha", window: "1h", store: "csv", range: "6h" },
    { seriesPoints: 120, historyLimit: 25, nowMs: now },
  );
  equal(
    paths.series,
    "/coherence/series?signal=alpha&window=1h&points=120&from=2026-12-02T02%3A00%3A00Z&to=2026-12-02T08%3A00%3A00Z",
  );
  equal(
    paths.predict,
    "/coherence/predict?signal=alpha&window=1h&end=2026-12-02T08%3A00%3A00Z",
    "the forecast starts at the series' last window end",
  );
  deepEqual(seriesSpan("1h", now), { from: "2026-12-02T07:00:00Z", to: "2026-12-02T08:00:00Z" });
  equal(rangeMs("24h"), 86_400_000);
  equal(rangeLabel("6h"), "last 6 h");
});
