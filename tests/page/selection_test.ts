import { deepEqual, equal, match } from "node:assert/strict";
import {
  apiPaths,
  isStoreMode,
  resolveSelection,
  type SelectionContext,
  selectionOptions,
  selectionQuery,
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
    selection: { signal: "*", window: "1h", store: "sqlite" },
    notices: [],
  });
  deepEqual(resolveSelection({ signal: "beta", window: "86400", store: "CSV" }, context), {
    selection: { signal: "beta", window: "24h", store: "csv" },
    notices: [],
  });
});

Deno.test("resolveSelection() falls back with a notice for an unknown signal, a bad window or store", () => {
  const { selection, notices } = resolveSelection({ signal: "zeta", window: "5x", store: "mysql" }, context);
  deepEqual(selection, { signal: "*", window: "1h", store: "sqlite" });
  equal(notices.length, 3);
  match(notices[0], /Unknown signal "zeta"/);
  match(notices[1], /Cannot parse window "5x".*showing 1h/);
  match(notices[2], /Unknown store "mysql"/);
  match(resolveSelection({ window: "90d" }, context).notices[0], /too long/);
});

Deno.test("selectionOptions() offers the selected window even when it is not a usual one", () => {
  const options = selectionOptions({ signal: "*", window: "6h", store: "sqlite" }, context);
  deepEqual(options.windows.map((o) => o.value), ["5m", "1h", "6h", "24h"]);
  equal(options.signals.length, 2);
  equal(options.stores.find((s) => s.active)?.mode, "sqlite");
});

Deno.test("selectionQuery() and apiPaths() encode the selection for the page and the API", () => {
  const selection = { signal: "a b&c", window: "1h", store: "csv" as const };
  equal(selectionQuery(selection), "?signal=a+b%26c&window=1h&store=csv");
  deepEqual(apiPaths({ signal: "*", window: "24h", store: "kv" }, { seriesPoints: 120, historyLimit: 25 }), {
    metrics: "/coherence/metrics?signal=*&window=24h",
    series: "/coherence/series?signal=*&window=24h&points=120",
    history: "/coherence/history?signal=*&window=24h&limit=25&store=kv",
    signals: "/coherence/signals",
  });
});
