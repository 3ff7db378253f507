/**
 * Upstream records → held points. Validates with zod, resolves the dialect's field aliases, and counts what
 * it skips by reason; a bad record is never fatal. Scores are kept exactly as received (64-bit floats).
 */
import { z } from "zod";
import { parseTimestamp } from "../core/time.ts";
import { POOLED_SIGNAL } from "../core/vocabulary.ts";
import { type Dialect, DIALECTS } from "./dialect.ts";

/** The first of `names` that `obj` has with a value (not undefined or null), or undefined. */
export function pick(obj: Record<string, unknown>, names: readonly string[]): unknown {
  for (const name of names) {
    const value = obj[name];
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

export type RejectReason =
  | "not_an_object"
  | "invalid_signal"
  | "reserved_signal"
  | "signal_limit"
  | "missing_score"
  | "invalid_score"
  | "score_out_of_range"
  | "missing_timestamp"
  | "invalid_timestamp";

export interface NormalizedPoint {
  signal: string;
  /** Epoch milliseconds (integer). */
  ts: number;
  score: number;
  agentStates?: Record<string, number>;
  eventCount?: number;
}

/** One record's outcome: its point, or why it was skipped. */
export type Normalized = { ok: true; point: NormalizedPoint } | { ok: false; reason: RejectReason };

export interface NormalizeResult {
  points: NormalizedPoint[];
  rejected: Partial<Record<RejectReason, number>>;
  rejectedTotal: number;
}

const Score = z.number({
  error: (issue) => issue.input === undefined || issue.input === null ? "missing_score" : "invalid_score",
}).min(0, { error: "score_out_of_range" }).max(100, { error: "score_out_of_range" });

const Timestamp = z.unknown().transform((value, ctx) => {
  const ms = value === undefined || value === null ? undefined : parseTimestamp(value);
  if (ms === undefined || ms === null) {
    ctx.addIssue({ code: "custom", message: ms === undefined ? "missing_timestamp" : "invalid_timestamp" });
    return z.NEVER;
  }
  return ms;
});

/** Control characters (line breaks included) are not allowed in signal names: they would break CSV rows and logs. */
// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * A name that is blank after trimming could never be asked for (queries trim the name); one that trims to `*`
 * would mix with the pooled series in every store and in /metrics.
 */
function isBlank(signal: string): boolean {
  return signal.trim() === "";
}
function isReserved(signal: string): boolean {
  return signal.trim() === POOLED_SIGNAL;
}

/** A record after alias resolution, before conversion. */
const CanonicalRecordSchema = z.object({
  signal: z.string({ error: "invalid_signal" }).min(1, { error: "invalid_signal" }).max(200, {
    error: "invalid_signal",
  }).refine((s) => !CONTROL_CHARACTERS.test(s), { error: "invalid_signal" })
    .refine((s) => !isBlank(s), { error: "invalid_signal" })
    .refine((s) => !isReserved(s), { error: "reserved_signal" }),
  ts: Timestamp,
  score: Score,
  agentStates: z.record(z.string(), z.number()).optional().catch(undefined),
  eventCount: z.number().int().nonnegative().optional().catch(undefined),
});

/** Normalises one raw record, or returns the reason it was skipped. */
export function normalizeRecord(raw: unknown, dialect: Dialect = DIALECTS.darshan): Normalized {
  const canonical = canonicalOf(raw, dialect);
  if (canonical === null) return { ok: false, reason: "not_an_object" };
  const point = fastPath(canonical);
  return point === null ? strictPath(canonical) : { ok: true, point };
}

/** The same as {@linkcode normalizeRecord} through the zod schema alone (the reference the fast path is tested against). */
export function normalizeRecordStrict(raw: unknown, dialect: Dialect = DIALECTS.darshan): Normalized {
  const canonical = canonicalOf(raw, dialect);
  return canonical === null ? { ok: false, reason: "not_an_object" } : strictPath(canonical);
}

interface Canonical {
  signal: unknown;
  ts: unknown;
  score: unknown;
  agentStates: unknown;
  eventCount: unknown;
}

/** Resolves the dialect's aliases into one field each; null for a record that is not an object. */
function canonicalOf(raw: unknown, dialect: Dialect): Canonical | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return null;
  const obj = raw as Record<string, unknown>;
  const f = dialect.record;
  return {
    signal: pick(obj, f.signal) ?? dialect.defaultSignal,
    ts: pick(obj, f.timestamp),
    score: pick(obj, f.score),
    agentStates: pick(obj, f.agentStates),
    eventCount: pick(obj, f.eventCount),
  };
}

function strictPath(canonical: Canonical): Normalized {
  const parsed = CanonicalRecordSchema.safeParse(canonical);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues[0].message as RejectReason };
  const { agentStates, eventCount, ...point } = parsed.data;
  return {
    ok: true,
    point: {
      ...point,
      ...(agentStates !== undefined ? { agentStates } : {}),
      ...(eventCount !== undefined ? { eventCount } : {}),
    },
  };
}

/**
 * Accepts a well-formed record with plain checks that mirror {@linkcode CanonicalRecordSchema} exactly, so the
 * common case skips zod's per-record cost (about 2 µs); anything it does not accept goes through the schema,
 * which decides and names the reason. A property test checks both paths agree.
 */
function fastPath(c: Canonical): NormalizedPoint | null {
  const { signal, score } = c;
  if (
    typeof signal !== "string" || signal.length < 1 || signal.length > 200 ||
    CONTROL_CHARACTERS.test(signal) ||
    isBlank(signal) || isReserved(signal)
  ) {
    return null;
  }
  if (typeof score !== "number" || !(score >= 0 && score <= 100)) return null;
  const ts = c.ts === null || c.ts === undefined ? null : parseTimestamp(c.ts);
  if (ts === null) return null;
  const point: NormalizedPoint = { signal, ts, score };
  if (c.agentStates !== undefined && isNumberRecord(c.agentStates)) {
    point.agentStates = c.agentStates as Record<string, number>;
  }
  const n = c.eventCount;
  if (typeof n === "number" && Number.isSafeInteger(n) && n >= 0) point.eventCount = n;
  return point;
}

function isNumberRecord(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== "number" || !Number.isFinite(v)) return false;
  }
  return true;
}

/** Normalises a list of raw records; invalid ones are skipped and counted by reason. */
export function normalizeRecords(
  raw: readonly unknown[],
  dialect: Dialect = DIALECTS.darshan,
): NormalizeResult {
  const points: NormalizedPoint[] = [];
  const rejected: NormalizeResult["rejected"] = {};
  let rejectedTotal = 0;
  for (const item of raw) {
    const r = normalizeRecord(item, dialect);
    if (r.ok) points.push(r.point);
    else {
      rejected[r.reason] = (rejected[r.reason] ?? 0) + 1;
      rejectedTotal++;
    }
  }
  return { points, rejected, rejectedTotal };
}

/**
 * The records of a response body: `{ "data": [...] }` in the dialect's field, or a bare array.
 * Returns null when the body has neither shape (a malformed body).
 */
export function recordsOf(body: unknown, dialect: Dialect = DIALECTS.darshan): unknown[] | null {
  if (Array.isArray(body)) return body;
  if (typeof body !== "object" || body === null) return null;
  const data = pick(body as Record<string, unknown>, dialect.body.data);
  return Array.isArray(data) ? data : null;
}
