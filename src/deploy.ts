/**
 * Deno Deploy support: recognising the platform, the persistence mode it implies, and ingest driven by
 * `Deno.cron` (timers die with idle isolates; Deploy runs cron handlers on schedule).
 *
 * On Deploy (`DENO_DEPLOYMENT_ID`, which the platform sets, or `DENO_DEPLOY`): with `PERSISTENCE` unset the
 * snapshots go to Deno KV (`Deno.openKv()`, the platform's KV) and nothing writes files; every isolate
 * backfills once when it starts, and a cron job runs an ingest cycle every minute (or every
 * `INGEST_INTERVAL_S` rounded to whole minutes).
 */
import type { StoreMode } from "./core/vocabulary.ts";

/** The cron job's name (Deploy lists crons by name). */
export const INGEST_CRON_NAME = "coherence-ingest";

const FALSE_WORDS = new Set(["", "0", "false", "no", "off"]);

/** True on Deno Deploy (it sets `DENO_DEPLOYMENT_ID`) or when `DENO_DEPLOY` is set to anything but false/0/no/off. */
export function detectDeploy(env: Record<string, string | undefined>): boolean {
  const id = env.DENO_DEPLOYMENT_ID?.trim();
  if (id) return true;
  const flag = env.DENO_DEPLOY;
  return flag !== undefined && !FALSE_WORDS.has(flag.trim().toLowerCase());
}

/**
 * The persistence mode in effect: the one configured if `PERSISTENCE` was set explicitly, else `kv` on
 * Deploy (its file system is read-only and isolates share nothing but KV), else `sqlite`.
 */
export function selectPersistence(
  { configured, deploy }: { configured?: StoreMode; deploy: boolean },
): StoreMode {
  if (configured !== undefined) return configured;
  return deploy ? "kv" : "sqlite";
}

/**
 * A cron schedule (UTC, five fields) close to `intervalSec`: whole minutes (at least one), `*\/N` minutes below
 * an hour, `0 *\/N` hours below a day, daily at midnight beyond.
 */
export function cronSchedule(intervalSec: number): string {
  const minutes = Math.max(1, Math.round(intervalSec / 60));
  if (minutes === 1) return "* * * * *";
  if (minutes < 60) return `*/${minutes} * * * *`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return hours === 1 ? "0 * * * *" : `0 */${hours} * * *`;
  return "0 0 * * *";
}

/** The part of `Deno.cron` used here (injected in tests). */
export type CronFn = (
  name: string,
  schedule: string,
  options: { signal?: AbortSignal },
  handler: () => Promise<void> | void,
) => Promise<void>;

export interface IngestRunner {
  runCycle(): Promise<unknown>;
  start(): void;
}

export interface IngestSchedule {
  /** The cron schedule on Deploy; null when the poller's timer loop runs. */
  schedule: string | null;
  /** Settles when the cron job is unregistered (abort `signal`); null off Deploy. */
  registration: Promise<void> | null;
  /** Starts ingest: the timer loop, or on Deploy one cycle now (so this isolate has data at once). */
  start(): void;
}

/**
 * Sets up ingest the right way for the platform. Off Deploy: the poller's own timer loop. On Deploy: a
 * `Deno.cron` job, registered now — during start-up, before the server listens, as Deploy requires — which
 * runs one cycle per tick; `start()` then runs a first cycle for this isolate.
 */
export function scheduleIngest(
  poller: IngestRunner,
  { deploy, intervalSec, cron = defaultCron, signal, onError }: {
    deploy: boolean;
    intervalSec: number;
    cron?: CronFn;
    /** Aborting it unregisters the cron job (shutdown, tests). */
    signal?: AbortSignal;
    onError?: (error: unknown) => void;
  },
): IngestSchedule {
  if (!deploy) return { schedule: null, registration: null, start: () => poller.start() };
  const schedule = cronSchedule(intervalSec);
  const registration = cron(INGEST_CRON_NAME, schedule, { signal }, async () => {
    await poller.runCycle();
  });
  return {
    schedule,
    registration,
    start: () => void poller.runCycle().catch((error) => onError?.(error)),
  };
}

const defaultCron: CronFn = (name, schedule, options, handler) => Deno.cron(name, schedule, options, handler);
