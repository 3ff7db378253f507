/**
 * Deterministic generator for `fixtures/signals.json`, the bundled mock data the service replays on first
 * start (see SPEC "Upstream": mock mode). Run with `deno task fixture`.
 *
 * The four signals are shaped so a new user sees every risk band at once:
 * - `alpha`: stable around 88 (stdev ≈ 3): low risk in every hour and over 24h.
 * - `beta`: around 72 (stdev ≈ 4): medium risk (by the mean) in every hour and over 24h.
 * - `gamma`: around 66 with a 20-minute oscillation plus noise (stdev ≈ 20): high risk by volatility
 *   (stdev / mean > 0.25) in every hour and over 24h.
 * - `delta`: drifts from about 90 (low) down to about 50 (high) in the middle of the series and recovers to
 *   about 84, with small noise (stdev ≈ 2), so its hourly windows fall in low, medium and high.
 *
 * Everything comes from one seeded PRNG (mulberry32) per signal and Box–Muller normals, so the output is
 * byte-identical from run to run.
 *
 * @module
 */
import { mulberry32 } from "../src/mock/darshan_server.ts";

/** Idle and active agent counts reported with each upstream record. */
export interface AgentStates {
  active: number;
  idle: number;
}

/** One record in the Darshan `/signals/summary` shape. */
export interface FixtureRecord {
  signal: string;
  timestamp: string;
  coherenceScore: number;
  agentStates: AgentStates;
  eventCount: number;
}

/** A whole upstream page: every record, and no further page. */
export interface Fixture {
  data: FixtureRecord[];
  next_cursor: null;
}

/** Options for {@linkcode generateFixture}. */
export interface GenerateFixtureOptions {
  /** Timestamp of the last record of every signal (whole seconds). */
  end?: Date;
  /** Hours of data per signal. */
  hours?: number;
  /** Seconds between consecutive records of one signal. */
  cadenceSec?: number;
  /** PRNG seed; the same seed always gives the same fixture. */
  seed?: number;
}

/** The options the committed `fixtures/signals.json` is generated with. */
const DEFAULT_FIXTURE_OPTIONS: Readonly<Required<GenerateFixtureOptions>> = Object.freeze({
  end: new Date("2025-10-29T18:00:00Z"),
  hours: 26,
  cadenceSec: 60,
  seed: 20251029,
});

/** The signals in the fixture, in the order they are interleaved at each timestamp. */
const FIXTURE_SIGNALS = ["alpha", "beta", "gamma", "delta"] as const;

type SignalName = typeof FIXTURE_SIGNALS[number];

interface SignalProfile {
  /** Agents assigned to the signal; split into active and idle. */
  agents: number;
  /** Mean events per active agent per record. */
  eventsPerActive: number;
  /** Score before clamping and rounding, given the position in the series. */
  score(ctx: { progress: number; elapsedSec: number; normal: () => number }): number;
}

const GAMMA_PERIOD_SEC = 20 * 60;

const PROFILES: Record<SignalName, SignalProfile> = {
  alpha: {
    agents: 15,
    eventsPerActive: 3.4,
    score: ({ normal }) => 88 + 3 * normal(),
  },
  beta: {
    agents: 12,
    eventsPerActive: 2.8,
    score: ({ normal }) => 72 + 4 * normal(),
  },
  gamma: {
    agents: 20,
    eventsPerActive: 4.1,
    // A 20-minute oscillation (variance 27²/2 ≈ 365) plus noise (variance 81): stdev ≈ 20 once clamped at
    // 100. Each aligned hour holds exactly three periods, so every hour keeps the full swing and its
    // volatility index stays clear of 0.25 (the noise is kept small so no hour's stdev dips near 16.5).
    score: ({ elapsedSec, normal }) =>
      66 + 27 * Math.sin((2 * Math.PI * elapsedSec) / GAMMA_PERIOD_SEC) + 9 * normal(),
  },
  delta: {
    agents: 10,
    eventsPerActive: 3.0,
    score: ({ progress, normal }) => deltaBaseline(progress) + 2 * normal(),
  },
};

/** Cosine ease from `from` to `to` as `t` goes from 0 to 1. */
function ease(from: number, to: number, t: number): number {
  return from + (to - from) * (1 - Math.cos(Math.PI * t)) / 2;
}

/** Delta's trajectory over the series (`progress` 0..1): 90, down to 50, back up to 84. */
function deltaBaseline(progress: number): number {
  if (progress < 0.15) return 90;
  if (progress < 0.4) return ease(90, 50, (progress - 0.15) / 0.25);
  if (progress < 0.6) return 50;
  if (progress < 0.9) return ease(50, 84, (progress - 0.6) / 0.3);
  return 84;
}

/** Standard normal deviates from `random` by the Box–Muller transform (both values of each pair used). */
function createNormal(random: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u1 = 1 - random(); // (0, 1]: keeps log() finite
    const u2 = random();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}

/** FNV-1a hash of a string, to give each signal its own PRNG stream. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  }
  return hash >>> 0;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** RFC3339 UTC without milliseconds, e.g. `2025-10-29T16:43:00Z`. */
function formatTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + "Z";
}

/**
 * Generate the mock upstream payload: every signal at every cadence step in `(end − hours, end]`, sorted by
 * timestamp with the signals interleaved in {@linkcode FIXTURE_SIGNALS} order. Pure and deterministic.
 */
export function generateFixture(options: GenerateFixtureOptions = {}): Fixture {
  const {
    end = DEFAULT_FIXTURE_OPTIONS.end,
    hours = DEFAULT_FIXTURE_OPTIONS.hours,
    cadenceSec = DEFAULT_FIXTURE_OPTIONS.cadenceSec,
    seed = DEFAULT_FIXTURE_OPTIONS.seed,
  } = options;
  const endMs = end.getTime();
  if (!Number.isFinite(endMs) || endMs % 1000 !== 0) {
    throw new RangeError(`Cannot generate a fixture ending at "${end}": expected a date in whole seconds`);
  }
  if (!Number.isInteger(cadenceSec) || cadenceSec <= 0) {
    throw new RangeError(`Cannot use cadence ${cadenceSec}: expected a positive whole number of seconds`);
  }
  const count = Math.floor((hours * 3600) / cadenceSec);
  if (count < 1) {
    throw new RangeError(`Cannot generate ${hours} hours at ${cadenceSec} s: expected at least one record`);
  }
  const startMs = endMs - (count - 1) * cadenceSec * 1000;

  const streams = FIXTURE_SIGNALS.map((signal) => {
    const random = mulberry32((seed ^ hashString(signal)) >>> 0);
    return { signal, profile: PROFILES[signal], random, normal: createNormal(random) };
  });

  const data: FixtureRecord[] = [];
  for (let i = 0; i < count; i++) {
    const ms = startMs + i * cadenceSec * 1000;
    const timestamp = formatTimestamp(ms);
    const progress = count === 1 ? 1 : i / (count - 1);
    const elapsedSec = i * cadenceSec;
    for (const { signal, profile, normal } of streams) {
      const raw = profile.score({ progress, elapsedSec, normal });
      const coherenceScore = Math.round(clamp(raw, 0, 100) * 10) / 10;
      // Healthier signals keep more of their agents busy: 55%..95% active, with a little jitter.
      const activeShare = clamp(0.55 + 0.4 * (coherenceScore / 100) + 0.05 * normal(), 0, 1);
      const active = Math.round(profile.agents * activeShare);
      const idle = profile.agents - active;
      const expectedEvents = active * profile.eventsPerActive;
      const eventCount = Math.max(0, Math.round(expectedEvents + Math.sqrt(expectedEvents) * normal()));
      data.push({ signal, timestamp, coherenceScore, agentStates: { active, idle }, eventCount });
    }
  }
  return { data, next_cursor: null };
}

/** Compact JSON with one record per line, so diffs of the committed fixture stay readable. */
export function serializeFixture(fixture: Fixture): string {
  const lines = fixture.data.map((record) => JSON.stringify(record));
  return `{"data":[\n${lines.join(",\n")}\n],"next_cursor":${JSON.stringify(fixture.next_cursor)}}\n`;
}

if (import.meta.main) {
  if (import.meta.dirname === undefined) {
    throw new Error("Cannot locate fixtures/: gen_fixture.ts must run from a local file");
  }
  const dir = `${import.meta.dirname}/../fixtures`;
  const path = `${dir}/signals.json`;
  const text = serializeFixture(generateFixture());
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, text);
  console.log(`Wrote ${path} (${new TextEncoder().encode(text).length} bytes)`);
}
