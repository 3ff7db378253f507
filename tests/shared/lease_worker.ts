/**
 * One "instance" for the multi-process lease tests: the real lease, poller and gated ingest on a shared KV
 * file, with a source that only GETs a counting upstream (header `x-holder`: this instance's id).
 *
 *   deno run --allow-all tests/shared/lease_worker.ts <kv path> <upstream url> <id> <ttl ms> <interval ms>
 *
 * Prints one JSON line per lease change ({"event":"acquired"|"lost","id","at"}) and {"event":"ready"} once
 * the schedule runs. SIGTERM stops ingest and releases the lease, then prints {"event":"stopped"}.
 */
import { PointStore } from "../../src/core/point_store.ts";
import { createPoller } from "../../src/ingest/poller.ts";
import { emptyStats, type Source } from "../../src/ingest/source.ts";
import { createGatedIngest, leaseGatedSource } from "../../src/shared/gated_ingest.ts";
import { createLease } from "../../src/shared/lease.ts";

const [kvPath, upstream, id, ttlArg, intervalArg] = Deno.args;
const ttlMs = Number(ttlArg);
const intervalMs = Number(intervalArg);
const say = (event: Record<string, unknown>) => console.log(JSON.stringify({ ...event, id, at: Date.now() }));

const kv = await Deno.openKv(kvPath);
const lease = createLease({ kv, holderId: id, ttlMs });
const upstreamSource: Source = {
  kind: "darshan_api",
  location: upstream,
  async pull(_fromMs, _toMs, { signal }) {
    const response = await fetch(upstream, { headers: { "x-holder": id }, signal });
    await response.body?.cancel();
    return { points: [], stats: emptyStats() };
  },
};
const poller = createPoller({
  source: leaseGatedSource(upstreamSource, lease),
  store: new PointStore(),
  maxWindowSec: 3600,
  overlapSec: 60,
  intervalSec: intervalMs / 1000,
});
const gated = createGatedIngest({ lease, poller });
lease.onChange((holding) => say({ event: holding ? "acquired" : "lost" }));
gated.start();
say({ event: "ready" });

Deno.addSignalListener("SIGTERM", async () => {
  await gated.stop();
  kv.close();
  say({ event: "stopped" });
  Deno.exit(0);
});
