/**
 * Ingest gated by the lease: cycles run only while this instance holds `["lease", "ingest"]` (issue 16).
 *
 * - {@linkcode createGatedIngest} wraps a poller. `start()` runs the lease's schedule and follows it: gaining
 *   the lease starts the poller (its first cycle runs at once and pulls as usual: a backfill when nothing is
 *   held, else from the newest held point − overlap, which covers the time the previous holder missed);
 *   losing it stops the poller, aborting a pull in flight. `runCycle()` is one gated cycle for `Deno.cron`
 *   (Deploy): acquire or renew, then run a cycle only if holding, renewing every ttl/3 while it runs, and keep
 *   the lease afterwards until it expires (so an isolate's start-up cycle right after another's cycle is
 *   skipped; keep `LEASE_S` below the cron interval so the next tick, wherever it runs, finds it expired). It
 *   has the shape `scheduleIngest()` takes.
 * - {@linkcode leaseGatedSource} wraps the poller's source: each pull first renews the lease (so it is
 *   renewed every cycle, not only on the lease's timer) and refuses to reach upstream when this instance is
 *   not the holder: a process that was paused past its step-down time never pulls before it learns so.
 */
import type { IngestCycle } from "../schemas.ts";
import type { Poller } from "../ingest/poller.ts";
import type { Source } from "../ingest/source.ts";
import type { Lease } from "./lease.ts";

/** Thrown by a gated source's pull when this instance does not hold the ingest lease. */
export class NotLeaseHolderError extends Error {
  constructor(holderId: string, holder: string | null) {
    super(
      `Cannot pull from upstream: ${holderId} does not hold the ingest lease (holder: ${holder ?? "none"})`,
    );
    this.name = "NotLeaseHolderError";
  }
}

export function leaseGatedSource(
  source: Source,
  lease: Pick<Lease, "isHolder" | "renew" | "status">,
): Source {
  const refuse = () => {
    const { self, holder } = lease.status();
    return new NotLeaseHolderError(self, holder);
  };
  return {
    get kind() {
      return source.kind;
    },
    get location() {
      return source.location;
    },
    get unbounded() {
      return source.unbounded;
    },
    async pull(fromMs, toMs, options) {
      if (!lease.isHolder()) throw refuse();
      await lease.renew();
      if (!lease.isHolder()) throw refuse();
      return await source.pull(fromMs, toMs, options);
    },
  };
}

export interface GatedIngest {
  /** Starts the lease schedule; the poller runs while this instance holds the lease. */
  start(): void;
  /** Stops the poller (waiting for a cycle in flight), then the lease, releasing it for the next instance. */
  stop(): Promise<void>;
  /** One cycle if this instance holds (or can take) the lease, else null: for a cron tick. */
  runCycle(): Promise<IngestCycle | null>;
}

export function createGatedIngest(
  { lease, poller }: { lease: Lease; poller: Pick<Poller, "start" | "stop" | "runCycle"> },
): GatedIngest {
  let unsubscribe: (() => void) | null = null;
  let cronCycles = 0;
  /** Poller starts and stops, one after another, each following the lease state when it runs. */
  let transitions: Promise<void> = Promise.resolve();
  const follow = () => {
    transitions = transitions.then(async () => {
      if (unsubscribe !== null && lease.isHolder()) poller.start();
      else await poller.stop();
    });
  };
  return {
    start() {
      if (unsubscribe !== null) return;
      unsubscribe = lease.onChange(follow);
      lease.start();
      if (lease.isHolder()) follow();
    },
    async stop() {
      unsubscribe?.();
      unsubscribe = null;
      follow();
      await transitions;
      await lease.stop();
    },
    async runCycle() {
      if (lease.isHolder()) await lease.renew();
      else await lease.tryAcquire();
      if (!lease.isHolder()) return null;
      // Outside start() nothing renews the lease on a timer: run its schedule for the length of the cycle.
      const scheduled = unsubscribe === null;
      if (scheduled && cronCycles++ === 0) lease.start();
      try {
        return await poller.runCycle();
      } finally {
        if (scheduled && --cronCycles === 0) await lease.stop({ release: false });
      }
    },
  };
}
