/**
 * The ingest lease: which one of several instances sharing a Deno KV pulls from upstream (issue 16).
 *
 * One key, `["lease", "ingest"]` → `{ holder, acquiredAt, until }` (epoch ms). Every write is an atomic
 * check-and-set on the versionstamp read just before, so of several instances racing for the key at most one
 * commit succeeds:
 * - `tryAcquire()` takes the key when it is absent, expired (`until` < now) or already this instance's;
 * - `renew()` pushes `until` to now + ttl while the key still names this instance;
 * - `release()` deletes the key if it names this instance, so another takes over on its next try.
 *
 * Step-down before takeover: the holder writes `until` = t + ttl from its own clock, where t is read *before*
 * the commit is sent, and believes it holds the lease only until t + ttl − ttl/3 (`isHolder()` turns false by
 * itself then, and listeners hear it at once from a timer). Another instance can take the key only after
 * `until` on *its* clock, so a holder that cannot renew (KV unreachable, process paused) has stopped ingesting
 * ttl/3 before anyone else may start, whatever the commit latency, and clocks may disagree by up to ttl/3.
 *
 * `start()` runs the schedule: the holder renews every ttl/3 (sooner after a failed renew); a non-holder tries
 * every ttl/3, or just after the `until` it last saw if that comes sooner, so a dead holder is replaced at
 * most ttl after its last renewal.
 */
import { getLogger } from "@logtape/logtape";
import { z } from "zod";

const log = getLogger(["coherence", "lease"]);

/** Where the ingest lease lives in KV. */
export const LEASE_KEY: Deno.KvKey = ["lease", "ingest"];

/** Default lease time, ms (`LEASE_S=15`). */
export const DEFAULT_LEASE_TTL_MS = 15_000;

export const LeaseRecordSchema = z.object({
  holder: z.string().min(1),
  acquiredAt: z.number(),
  until: z.number(),
});
export type LeaseRecord = z.infer<typeof LeaseRecordSchema>;

/** The part of `Deno.Kv` the lease uses (tests wrap it to inject failures). */
export type LeaseKv = Pick<Deno.Kv, "get" | "atomic">;

export interface LeaseOptions {
  kv: LeaseKv;
  /** This instance's id, e.g. {@linkcode instanceId}(). */
  holderId: string;
  /** Lease time, ms (default 15 s). */
  ttlMs?: number;
  now?: () => number;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: never) => void;
  /** Default {@linkcode LEASE_KEY}. */
  key?: Deno.KvKey;
  /** Attempts per operation when KV throws (default 5), `retryDelayMs` × attempt apart (default 10). */
  attempts?: number;
  retryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface LeaseStatus {
  key: Deno.KvKey;
  /** The holder as last read or written in KV (null: none). */
  holder: string | null;
  /** When that holder's lease ends, epoch ms on the holder's clock. */
  until: number | null;
  acquiredAt: number | null;
  /** This instance's id. */
  self: string;
  isHolder: boolean;
  ttlMs: number;
  /** Times this instance became the holder. */
  takeovers: number;
  /** Renewals that failed (KV error, lost check, or the key naming another holder). */
  renewFailures: number;
}

export interface Lease {
  /** Takes the lease if it is free, expired or already ours; true when this instance holds it afterwards. */
  tryAcquire(): Promise<boolean>;
  /** Extends our lease to now + ttl; false (and no change) when not the holder or the renewal failed. */
  renew(): Promise<boolean>;
  /** Steps down at once and deletes the key if it still names this instance. */
  release(): Promise<void>;
  /** True while this instance holds the lease by its own clock (false once the step-down time has passed). */
  isHolder(): boolean;
  status(): LeaseStatus;
  /** Runs the schedule: renew (holder) or try (others) every ttl/3. */
  start(): void;
  /**
   * Stops the schedule and releases the lease if held; with `release: false` keeps holding it until it
   * expires (a cron tick that ran a cycle: the next tick, in whatever isolate, finds it expired).
   */
  stop(options?: { release?: boolean }): Promise<void>;
  /** Calls `listener(isHolder)` whenever this instance gains or loses the lease; returns an unsubscribe. */
  onChange(listener: (isHolder: boolean) => void): () => void;
}

/** `${hostname}-${pid}-${6 random hex}`: unique per process, readable in /status and logs. */
export function instanceId(
  { hostname, pid, random = Math.random }: { hostname: string; pid: number; random?: () => number },
): string {
  const hex = Math.floor(random() * 0x1000000).toString(16).padStart(6, "0");
  return `${hostname}-${pid}-${hex}`;
}

/**
 * The id this process uses in the lease: `INSTANCE_ID` when configured, else {@linkcode instanceId} from the
 * host name (`"instance"` where it cannot be read, e.g. without `--allow-sys=hostname`) and the pid.
 */
export function resolveInstanceId(
  configured: string | undefined,
  { hostname = readHostname, pid = Deno.pid, random = Math.random }: {
    hostname?: () => string;
    pid?: number;
    random?: () => number;
  } = {},
): string {
  if (configured !== undefined) return configured;
  let host: string;
  try {
    host = hostname();
  } catch {
    host = "instance";
  }
  return instanceId({ hostname: host, pid, random });
}

/** Throws without `--allow-sys=hostname` or on a platform without one. */
const readHostname = () => Deno.hostname();

function parseRecord(value: unknown): LeaseRecord | null {
  const parsed = LeaseRecordSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

export function createLease(options: LeaseOptions): Lease {
  const {
    kv,
    holderId,
    ttlMs = DEFAULT_LEASE_TTL_MS,
    now = Date.now,
    setTimeout: schedule = (fn, ms) => globalThis.setTimeout(fn, ms),
    clearTimeout: unschedule = (id) => globalThis.clearTimeout(id),
    key = LEASE_KEY,
    attempts = 5,
    retryDelayMs = 10,
    sleep = (ms) => new Promise((resolve) => globalThis.setTimeout(resolve, ms)),
  } = options;
  if (!(ttlMs > 0)) {
    throw new RangeError(`Cannot create a lease with ttlMs ${ttlMs}: expected a positive number`);
  }
  const margin = ttlMs / 3;
  /** Our own step-down time (epoch ms, our clock); null when not holding. */
  let deadline: number | null = null;
  let seen: LeaseRecord | null = null;
  let takeovers = 0;
  let renewFailures = 0;
  let lastRenewFailed = false;
  let stepDownTimer: unknown = null;
  let tickTimer: unknown = null;
  let running = false;
  let queue: Promise<unknown> = Promise.resolve();
  let announced = false;
  const listeners = new Set<(isHolder: boolean) => void>();

  const holding = () => deadline !== null && now() < deadline;

  /** Tells listeners when the holding state differs from what they last heard. */
  function announce(): void {
    const state = holding();
    if (state === announced) return;
    announced = state;
    if (state) log.info("lease acquired", { holder: holderId, until: seen?.until, takeovers });
    else log.warn("lease lost: stepping down", { holder: holderId, seenHolder: seen?.holder ?? null });
    for (const listener of listeners) {
      try {
        listener(state);
      } catch (error) {
        log.error("lease listener failed", { error: String(error) });
      }
    }
  }

  function disarm(): void {
    if (stepDownTimer !== null) unschedule(stepDownTimer as never);
    stepDownTimer = null;
  }

  /** A timer at the step-down time, so listeners stop ingest then even if no KV call happens. */
  function arm(): void {
    disarm();
    if (deadline === null) return;
    const wait = Math.max(0, deadline - now());
    stepDownTimer = schedule(() => {
      stepDownTimer = null;
      if (holding()) arm();
      else {
        deadline = null;
        announce();
      }
    }, wait);
  }

  function stepDown(): void {
    deadline = null;
    disarm();
    announce();
  }

  /** Runs KV operations of this lease one at a time. */
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  }

  /**
   * Runs a read-then-commit `op` again when KV throws (a local KV file shared by processes answers
   * "database is locked" while another holds its write lock; a remote KV may drop a connection). Safe: each
   * attempt reads the key afresh and commits only with a check on what it read.
   */
  async function withRetries<T>(op: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await op();
      } catch (error) {
        if (attempt >= attempts) throw error;
        await sleep(retryDelayMs * attempt);
      }
    }
  }

  async function acquireOnce(): Promise<boolean> {
    const started = now();
    const entry = await kv.get(key);
    const current = parseRecord(entry.value);
    seen = current;
    if (current && current.holder !== holderId && current.until >= started) {
      if (deadline !== null) stepDown(); // another holds it: whatever we believed, we do not
      return false;
    }
    const wasHolding = holding();
    const record: LeaseRecord = {
      holder: holderId,
      acquiredAt: wasHolding && current?.holder === holderId ? current.acquiredAt : started,
      until: started + ttlMs,
    };
    const result = await kv.atomic().check(entry).set(key, record).commit();
    if (!result.ok) return holding(); // another instance won the race
    seen = record;
    deadline = started + ttlMs - margin;
    if (!wasHolding) takeovers++;
    lastRenewFailed = false;
    arm();
    announce();
    return true;
  }

  async function acquire(): Promise<boolean> {
    try {
      return await withRetries(acquireOnce);
    } catch (error) {
      log.warn("lease acquire failed", { holder: holderId, error: String(error) });
      return holding();
    }
  }

  function renewFailed(reason: string): false {
    renewFailures++;
    lastRenewFailed = true;
    log.warn("lease renew failed", {
      holder: holderId,
      reason,
      stepDownInMs: deadline === null ? 0 : deadline - now(),
    });
    return false;
  }

  async function extendOnce(): Promise<boolean> {
    const started = now();
    const entry = await kv.get(key);
    const current = parseRecord(entry.value);
    seen = current;
    if (current === null || current.holder !== holderId) {
      // Released by hand or taken by another (whose clock runs ahead of ours by more than ttl/3): go now.
      stepDown();
      return renewFailed(current === null ? "lease key gone" : `lease held by ${current.holder}`);
    }
    const record: LeaseRecord = { ...current, until: started + ttlMs };
    const result = await kv.atomic().check(entry).set(key, record).commit();
    if (!result.ok) return renewFailed("lease key changed during renew");
    seen = record;
    deadline = started + ttlMs - margin;
    lastRenewFailed = false;
    arm();
    announce();
    return true;
  }

  async function extend(): Promise<boolean> {
    if (!holding()) {
      if (deadline !== null) stepDown();
      return false;
    }
    try {
      return await withRetries(extendOnce);
    } catch (error) {
      return renewFailed(String(error));
    }
  }

  async function releaseNow(): Promise<void> {
    stepDown();
    try {
      await withRetries(async () => {
        const entry = await kv.get(key);
        const current = parseRecord(entry.value);
        seen = current;
        if (current?.holder !== holderId) return;
        const result = await kv.atomic().check(entry).delete(key).commit();
        if (result.ok) seen = null;
      });
    } catch (error) {
      log.warn("lease release failed; it expires by itself", { holder: holderId, error: String(error) });
    }
  }

  /** When the schedule runs next: ttl/3, sooner after a failed renew or when the seen lease ends first. */
  function nextDelay(): number {
    if (holding()) return lastRenewFailed ? margin / 2 : margin;
    if (seen && seen.holder !== holderId) {
      const expiresIn = seen.until + 1 - now();
      if (expiresIn < margin) return Math.max(1, expiresIn);
    }
    return margin;
  }

  function tick(): void {
    tickTimer = null;
    if (!running) return;
    const op = holding() ? exclusive(extend) : exclusive(acquire);
    op.finally(() => {
      if (running) tickTimer = schedule(tick, nextDelay());
    });
  }

  return {
    tryAcquire: () => exclusive(acquire),
    renew: () => exclusive(extend),
    release: () => exclusive(releaseNow),
    isHolder() {
      const state = holding();
      if (!state && deadline !== null) stepDown();
      return state;
    },
    status: () => ({
      key,
      holder: seen?.holder ?? null,
      until: seen?.until ?? null,
      acquiredAt: seen?.acquiredAt ?? null,
      self: holderId,
      isHolder: holding(),
      ttlMs,
      takeovers,
      renewFailures,
    }),
    start() {
      if (running) return;
      running = true;
      tick();
    },
    async stop({ release = true } = {}) {
      running = false;
      if (tickTimer !== null) unschedule(tickTimer as never);
      tickTimer = null;
      await queue;
      if (!release) return;
      if (deadline !== null || seen?.holder === holderId) await exclusive(releaseNow);
      disarm();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
