/**
 * Configuration: the environment (and `.env`) parsed once, with zod, into a fully defaulted {@linkcode Config}.
 * Nothing else reads the environment. A bad value stops start-up with one line per variable naming it, the
 * value and what is accepted.
 */
import { z } from "zod";
import { parse as parseDotenv } from "dotenv";
import { redactUrl, redactUserInfo } from "./core/redact.ts";
import { DEFAULT_THRESHOLDS, misorderedThresholds, type Thresholds } from "./core/risk.ts";
import { STORE_FILE_NAMES, STORE_MODES, type StoreMode } from "./core/vocabulary.ts";
import { formatWindow, parseWindow, parseWindowList, WindowError } from "./core/window.ts";
import { DIALECT_NAMES, type DialectName } from "./ingest/dialect.ts";
import { detectDeploy, selectPersistence } from "./deploy.ts";

const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  darshan: {
    baseUrl?: string;
    apiKey?: string;
    timeoutMs: number;
    pageSize: number;
    maxRetries: number;
    dialect: DialectName;
    retryBaseMs: number;
    retryCapMs: number;
    retryAfterCapMs: number;
    maxBodyBytes: number;
  };
  mock: { path?: string; replay: boolean };
  /** Configured windows in seconds; the first is the default for requests. */
  windows: number[];
  maxWindowSec: number;
  /** The mode in effect: `PERSISTENCE` if set, else `kv` on Deno Deploy, else `sqlite`. */
  persistence: StoreMode;
  /** Whether `PERSISTENCE` was set (rather than chosen by {@linkcode selectPersistence}). */
  persistenceExplicit: boolean;
  /** Running on Deno Deploy (`DENO_DEPLOYMENT_ID`) or told so (`DENO_DEPLOY`): KV, cron-driven ingest, no files. */
  deploy: boolean;
  dataDir: string;
  retentionSec: number;
  engineVersion: string;
  host: string;
  port: number;
  ingestIntervalSec: number;
  ingestOverlapSec: number;
  /** Ingest lease time with `PERSISTENCE=kv`, seconds (issue 16; see docs/SCALING.md). */
  leaseSec: number;
  /** This instance's id in the lease; unset: `hostname-pid-random` (see `resolveInstanceId`). */
  instanceId?: string;
  /** With `PERSISTENCE=kv`, how often followers poll the shared points version, ms (`SYNC_INTERVAL`). */
  syncIntervalMs: number;
  /** A remote KV (`DENO_KV_URL`: KV Connect, e.g. a self-hosted `denokv`) instead of `DATA_DIR`'s file. */
  kvUrl?: string;
  /** `DENO_KV_ACCESS_TOKEN` for `kvUrl`; Deno reads it from the environment (never printed). */
  kvAccessToken?: string;
  logLevel: LogLevel;
  thresholds: Thresholds;
  staleAfterSec: number;
  minSamples: number;
  apiToken?: string;
  corsOrigins: string[];
  /** Most signals held; records of further new signals are rejected (`signal_limit`). */
  maxSignals: number;
  /** Most signals with per-signal series in `/metrics` (the first by name; the rest are counted as omitted). */
  metricsMaxSignals: number;
  /** Alert states, their transitions and their delivery (SPEC "Alerts"). */
  alerts: AlertConfig;
}

export interface AlertConfig {
  /** How long a new level must hold before it is confirmed (`ALERT_FOR`), ms; 0: at once. */
  forMs: number;
  /** Score points a mean must clear a boundary by before a better level is confirmed. */
  recoveryMargin: number;
  /** The service's public base URL (no trailing slash) for links in alerts; undefined: the listen address. */
  publicUrl?: string;
  /** Alertmanager base URL (`POST {url}/api/v2/alerts`); undefined: no Alertmanager delivery. */
  alertmanagerUrl?: string;
  /** How often active alerts are re-sent to Alertmanager, seconds. */
  resendSec: number;
  /** Signed webhook delivery; undefined: none. The URL and the secret are never printed. */
  webhook?: { url: string; secret: string };
  /** How long a transition is retried to the webhook before it is given up (expired), ms. */
  webhookMaxAgeMs: number;
  /** Most transitions waiting per target before the oldest are dropped (and counted). */
  outboxMax: number;
}

/** Raised for an invalid environment; `problems` holds one line per bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

/** Variables whose values are never printed. */
const SECRET_VARIABLES = new Set([
  "DARSHAN_API_KEY",
  "API_TOKEN",
  "ALERT_WEBHOOK_SECRET",
  "DENO_KV_ACCESS_TOKEN",
]);
/** URL variables whose path and query may hold a token (webhook URLs often do): only the origin is printed. */
const ORIGIN_ONLY_VARIABLES = new Set(["ALERT_WEBHOOK_URL", "ALERTMANAGER_URL", "DENO_KV_URL"]);

const optionalText = z.string().trim().optional().transform((v) => (v === "" ? undefined : v));

function numeric(pattern: RegExp, min: number, max: number, what: string) {
  const error = `expected ${what} from ${min} to ${max}`;
  return z.string().trim().regex(pattern, { error }).transform(Number).refine((n) => n >= min && n <= max, {
    error,
  });
}
const integer = (min: number, max: number, what = "an integer") => numeric(/^\d+$/, min, max, what);
const decimal = (min: number, max: number) => numeric(/^\d+(\.\d+)?$/, min, max, "a number");

function oneOf<T extends string>(values: readonly T[]) {
  return z.string().trim().toLowerCase().pipe(
    z.enum(values as [T, ...T[]], { error: `expected one of ${values.join(", ")}` }),
  );
}

const bool = z.string().trim().toLowerCase().pipe(
  z.enum(["true", "false", "1", "0", "yes", "no"], { error: "expected true or false" }),
).transform((v) => v === "true" || v === "1" || v === "yes");

/** Text read by a window parser, whose error message becomes the issue. */
function parsedBy<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: error instanceof WindowError ? error.message : String(error) });
      return z.NEVER;
    }
  });
}
const duration = parsedBy(parseWindow);
/** A duration that may be zero (`0`, `0s`): a wait that can be switched off. */
const durationOrZero = parsedBy((text) => (/^\s*0+[smhd]?\s*$/i.test(text) ? 0 : parseWindow(text)));
const windowList = parsedBy(parseWindowList);

const url = optionalText.pipe(
  z.url({ protocol: /^https?$/, error: "expected an http(s) URL such as https://darshan.example.com" })
    .transform((v) => v.replace(/\/+$/, "")).optional(),
);

/** `SYNC_INTERVAL`: `250ms`, `1s`, or a number of ms; 50 ms to 1 s (followers lag at most about one). */
const syncInterval = z.string().trim().transform((text, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/i.exec(text);
  const ms = match ? Number(match[1]) * (match[2]?.toLowerCase() === "s" ? 1000 : 1) : NaN;
  if (!(ms >= 50 && ms <= 1000)) {
    ctx.addIssue({ code: "custom", message: "expected a duration from 50ms to 1s, e.g. 1s or 250ms" });
    return z.NEVER;
  }
  return Math.round(ms);
});

/** An http(s) URL kept as written (a webhook path is the receiver's business, trailing slash included). */
const exactUrl = optionalText.pipe(
  z.url({
    protocol: /^https?$/,
    error: "expected an http(s) URL such as https://hooks.example.com/coherence",
  })
    .optional(),
);

/**
 * A webhook signing secret: Standard Webhooks' `whsec_<base64>` (at least 16 bytes), or a raw secret of at
 * least 16 characters (the webhook target base64-encodes it; receivers verify with `whsec_` + its base64).
 */
const webhookSecret = optionalText.refine(
  (v) => v === undefined || isWebhookSecret(v),
  {
    error:
      "expected whsec_ followed by base64 of at least 16 bytes, or a raw secret of at least 16 characters (e.g. from openssl rand -base64 32)",
  },
);

function isWebhookSecret(value: string): boolean {
  if (!value.startsWith("whsec_")) return value.length >= 16;
  const body = value.slice("whsec_".length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return false;
  try {
    return atob(body).length >= 16;
  } catch {
    return false;
  }
}

/** Every variable, its default (as text, as a user would write it) and its meaning: the source of `.env.example`. */
export const VARIABLES = {
  DARSHAN_BASE_URL: {
    schema: url,
    default: undefined,
    help: "Upstream base URL; when set, the live API is used",
  },
  DARSHAN_API_KEY: {
    schema: optionalText,
    default: undefined,
    help: "Bearer token for the upstream (never logged)",
  },
  DARSHAN_TIMEOUT_S: {
    schema: integer(1, 600),
    default: "10",
    help: "Per-request upstream timeout, seconds",
  },
  DARSHAN_PAGE_SIZE: { schema: integer(1, 100_000), default: "1000", help: "Records requested per page" },
  DARSHAN_MAX_RETRIES: {
    schema: integer(0, 20),
    default: "5",
    help: "Retries per request (network, timeout, 5xx, 429, malformed)",
  },
  DARSHAN_DIALECT: {
    schema: oneOf(DIALECT_NAMES),
    default: "darshan",
    help: "Upstream names: darshan (from/to, next_cursor) or start_end (start_ts/end_ts, next_page)",
  },
  DARSHAN_RETRY_BASE_MS: {
    schema: integer(1, 60_000),
    default: "250",
    help: "Backoff base, ms (full jitter, doubling per attempt)",
  },
  DARSHAN_RETRY_CAP_MS: { schema: integer(1, 600_000), default: "30000", help: "Backoff cap, ms" },
  DARSHAN_RETRY_AFTER_CAP_S: {
    schema: integer(0, 3600),
    default: "60",
    help: "Longest Retry-After honoured on 429, seconds",
  },
  DARSHAN_MAX_BODY_BYTES: {
    schema: integer(1024, 2 ** 31),
    default: "33554432",
    help: "Largest upstream page accepted, bytes, counted after decompression (default 32 MiB)",
  },
  MOCK_PATH: {
    schema: optionalText,
    default: undefined,
    help: "Mock data file (upstream JSON shape or a bare array); default: the bundled fixture",
  },
  MOCK_REPLAY: {
    schema: bool,
    default: "true",
    help:
      "true: replay the mock so its newest record lands at start-up and keeps flowing; false: the file's own timestamps",
  },
  DEFAULT_WINDOWS: {
    schema: windowList,
    default: "1h,24h",
    help: "Windows snapshotted each cycle; the first is the default for requests",
  },
  MAX_WINDOW: { schema: duration, default: "30d", help: "Largest window a request may ask for" },
  PERSISTENCE: {
    schema: optionalText.pipe(oneOf(STORE_MODES).optional()),
    default: undefined,
    help: "Snapshot store: sqlite, csv, kv or none; unset: sqlite, or kv on Deno Deploy",
  },
  DENO_DEPLOY: {
    schema: optionalText,
    default: undefined,
    help:
      "Set (true) to run as on Deno Deploy: PERSISTENCE defaults to kv, ingest runs from Deno.cron, no files are written (Deploy's own DENO_DEPLOYMENT_ID does the same)",
  },
  DATA_DIR: {
    schema: z.string().trim().min(1, { error: "expected a directory path" }),
    default: "./data",
    help: `Where ${STORE_FILE_NAMES.sqlite} / ${STORE_FILE_NAMES.csv} live (created if missing)`,
  },
  RETENTION: { schema: duration, default: "7d", help: "How long snapshots are kept" },
  ENGINE_VERSION: {
    schema: z.string().trim().regex(/^\d+\.\d+\.\d+([-+][\w.]+)?$/, {
      error: "expected a semantic version such as 0.1.0",
    }),
    default: "0.1.0",
    help: "Version reported in responses",
  },
  HOST: {
    schema: z.string().trim().min(1, { error: "expected a host name or address" }),
    default: "0.0.0.0",
    help: "Listen address",
  },
  PORT: {
    schema: integer(0, 65535, "a port number"),
    default: "8000",
    help: "Listen port (0 picks a free one)",
  },
  INGEST_INTERVAL_S: { schema: integer(1, 86_400), default: "30", help: "Seconds between ingest cycles" },
  INGEST_OVERLAP_S: {
    schema: integer(0, 86_400),
    default: "300",
    help: "Each pull reaches this far back before the newest point held (late arrivals, corrections)",
  },
  LEASE_S: {
    schema: integer(3, 3600),
    default: "15",
    help:
      "With PERSISTENCE=kv one instance ingests, holding a lease this long; a dead holder is replaced within it",
  },
  INSTANCE_ID: {
    schema: optionalText.pipe(z.string().max(200, { error: "expected at most 200 characters" }).optional()),
    default: undefined,
    help: "This instance's name in the ingest lease and /status; empty: hostname-pid-<6 random hex>",
  },
  SYNC_INTERVAL: {
    schema: syncInterval,
    default: "1s",
    help: "With PERSISTENCE=kv, how often an instance polls the shared points version (50ms to 1s)",
  },
  DENO_KV_URL: {
    schema: exactUrl,
    default: undefined,
    help:
      "With PERSISTENCE=kv, a remote KV (KV Connect, e.g. a self-hosted denokv) instead of DATA_DIR's file",
  },
  DENO_KV_ACCESS_TOKEN: {
    schema: optionalText,
    default: undefined,
    help: "Access token for DENO_KV_URL (read by Deno from the environment; never logged)",
  },
  LOG_LEVEL: { schema: oneOf(LOG_LEVELS), default: "info", help: "Lowest log level written" },
  RISK_HIGH_VOLATILITY_ABOVE: {
    schema: decimal(0, 100),
    default: String(DEFAULT_THRESHOLDS.highVolatilityAbove),
    help: "volatilityIndex above this is high risk",
  },
  RISK_MEDIUM_VOLATILITY_ABOVE: {
    schema: decimal(0, 100),
    default: String(DEFAULT_THRESHOLDS.mediumVolatilityAbove),
    help: "volatilityIndex above this is medium risk",
  },
  RISK_HIGH_MEAN_BELOW: {
    schema: decimal(0, 100),
    default: String(DEFAULT_THRESHOLDS.highMeanBelow),
    help: "Mean below this is high risk",
  },
  RISK_MEDIUM_MEAN_BELOW: {
    schema: decimal(0, 100),
    default: String(DEFAULT_THRESHOLDS.mediumMeanBelow),
    help: "Mean below this is medium risk",
  },
  STALE_AFTER: {
    schema: duration,
    default: "15m",
    help: "Warn when the newest point is older than this at the window end",
  },
  MIN_SAMPLES: { schema: integer(2, 1_000_000), default: "30", help: "Warn when a window has fewer points" },
  API_TOKEN: {
    schema: optionalText,
    default: undefined,
    help:
      "When set, every route but /health requires Authorization: Bearer <token> (the page signs in with a form)",
  },
  CORS_ORIGINS: {
    schema: z.string().trim().transform((v) => v.split(",").map((o) => o.trim()).filter((o) => o !== ""))
      .pipe(
        z.array(
          z.string().refine((o) => o === "*" || /^https?:\/\/[^/]+/.test(o) && URL.canParse(o), {
            error: "expected a comma-separated list of origins such as https://dashboard.example.com, or *",
          }).transform((o) => (o === "*" ? o : new URL(o).origin)),
        ),
      ),
    default: "",
    help: "Origins allowed to call the API from a browser (comma-separated, or *); empty: CORS off",
  },
  MAX_SIGNALS: {
    schema: integer(1, 10_000_000),
    default: "10000",
    help:
      "Most signals held; records of further new signals are rejected (reason signal_limit) and held ones keep working",
  },
  METRICS_MAX_SIGNALS: {
    schema: integer(0, 10_000_000),
    default: "1000",
    help:
      "Most signals exported per signal in /metrics (the first by name; coherence_metrics_signals_omitted counts the rest)",
  },
  ALERT_FOR: {
    schema: durationOrZero,
    default: "2m",
    help:
      "How long a new alert level must hold, every evaluation, before it is confirmed (as Prometheus' for; 0: at once)",
  },
  ALERT_RECOVERY_MARGIN: {
    schema: decimal(0, 100),
    default: "1",
    help:
      "Score points by which the mean must clear a boundary before a better level is confirmed (no flapping)",
  },
  PUBLIC_URL: {
    schema: url,
    default: undefined,
    help:
      "The address users reach this service at (e.g. https://coherence.example.com); the base of alert links (generatorURL). Default: http://HOST:PORT as listened on",
  },
  ALERTMANAGER_URL: {
    schema: url,
    default: undefined,
    help: "Alertmanager base URL; when set, medium/high alerts are POSTed to {url}/api/v2/alerts",
  },
  ALERT_RESEND_S: {
    schema: integer(1, 86_400),
    default: "60",
    help: "Seconds between re-sends of active alerts to Alertmanager",
  },
  ALERT_WEBHOOK_URL: {
    schema: exactUrl,
    default: undefined,
    help:
      "Webhook receiver; when set, each transition is POSTed as JSON signed per Standard Webhooks (never logged)",
  },
  ALERT_WEBHOOK_SECRET: {
    schema: webhookSecret,
    default: undefined,
    help:
      "Signing secret for ALERT_WEBHOOK_URL, base64 (whsec_ prefix optional); required with it (never logged)",
  },
  ALERT_WEBHOOK_MAX_AGE: {
    schema: duration,
    default: "24h",
    help: "How long a transition is retried to the webhook (backoff with jitter) before it is given up",
  },
  ALERT_OUTBOX_MAX: {
    schema: integer(1, 10_000_000),
    default: "10000",
    help: "Most transitions waiting per delivery target; past it the oldest are dropped and counted",
  },
} as const;

type VariableName = keyof typeof VARIABLES;

/** The variable that sets each risk threshold. */
const THRESHOLD_VARIABLES = {
  highVolatilityAbove: "RISK_HIGH_VOLATILITY_ABOVE",
  mediumVolatilityAbove: "RISK_MEDIUM_VOLATILITY_ABOVE",
  highMeanBelow: "RISK_HIGH_MEAN_BELOW",
  mediumMeanBelow: "RISK_MEDIUM_MEAN_BELOW",
} as const satisfies Record<keyof Thresholds, VariableName>;

/** The thresholds among parsed variable values (each already a number in 0..100). */
function thresholdsOf(values: Record<string, unknown>): Thresholds {
  const entries = Object.entries(THRESHOLD_VARIABLES).map(([key, name]) => [key, values[name] as number]);
  return Object.fromEntries(entries) as Record<keyof Thresholds, number>;
}

/**
 * The effective environment: `.env` text (KEY=value lines, parsed by dotenv) underneath the real
 * environment, which wins.
 */
export function mergeEnvironment(
  dotenvText: string | undefined,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const fromFile = dotenvText === undefined ? {} : parseDotenv(dotenvText);
  return { ...fromFile, ...env };
}

/**
 * Builds the config from an environment record (`.env` values merged under the real environment by the
 * caller). Throws {@linkcode ConfigError} listing every bad variable.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(VARIABLES)) {
    const raw = env[name] ?? spec.default;
    const result = (spec.schema as z.ZodType).safeParse(raw);
    if (result.success) values[name] = result.data;
    else problems.push(`${name}=${show(name, raw)}: ${redactUserInfo(result.error.issues[0].message)}`);
  }
  if (problems.length === 0) crossCheck(values, env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  const v = values as { [K in VariableName]: z.output<(typeof VARIABLES)[K]["schema"]> };
  return {
    darshan: {
      baseUrl: v.DARSHAN_BASE_URL,
      apiKey: v.DARSHAN_API_KEY,
      timeoutMs: v.DARSHAN_TIMEOUT_S * 1000,
      pageSize: v.DARSHAN_PAGE_SIZE,
      maxRetries: v.DARSHAN_MAX_RETRIES,
      dialect: v.DARSHAN_DIALECT,
      retryBaseMs: v.DARSHAN_RETRY_BASE_MS,
      retryCapMs: v.DARSHAN_RETRY_CAP_MS,
      retryAfterCapMs: v.DARSHAN_RETRY_AFTER_CAP_S * 1000,
      maxBodyBytes: v.DARSHAN_MAX_BODY_BYTES,
    },
    mock: { path: v.MOCK_PATH, replay: v.MOCK_REPLAY },
    windows: v.DEFAULT_WINDOWS,
    maxWindowSec: v.MAX_WINDOW,
    persistence: selectPersistence({ configured: v.PERSISTENCE, deploy: detectDeploy(env) }),
    persistenceExplicit: v.PERSISTENCE !== undefined,
    deploy: detectDeploy(env),
    dataDir: v.DATA_DIR,
    retentionSec: v.RETENTION,
    engineVersion: v.ENGINE_VERSION,
    host: v.HOST,
    port: v.PORT,
    ingestIntervalSec: v.INGEST_INTERVAL_S,
    ingestOverlapSec: v.INGEST_OVERLAP_S,
    leaseSec: v.LEASE_S,
    instanceId: v.INSTANCE_ID,
    syncIntervalMs: v.SYNC_INTERVAL,
    kvUrl: v.DENO_KV_URL,
    kvAccessToken: v.DENO_KV_ACCESS_TOKEN,
    logLevel: v.LOG_LEVEL,
    thresholds: thresholdsOf(values),
    staleAfterSec: v.STALE_AFTER,
    minSamples: v.MIN_SAMPLES,
    apiToken: v.API_TOKEN,
    corsOrigins: v.CORS_ORIGINS,
    maxSignals: v.MAX_SIGNALS,
    metricsMaxSignals: v.METRICS_MAX_SIGNALS,
    alerts: {
      forMs: v.ALERT_FOR * 1000,
      recoveryMargin: v.ALERT_RECOVERY_MARGIN,
      publicUrl: v.PUBLIC_URL,
      alertmanagerUrl: v.ALERTMANAGER_URL,
      resendSec: v.ALERT_RESEND_S,
      webhook: v.ALERT_WEBHOOK_URL === undefined || v.ALERT_WEBHOOK_SECRET === undefined
        ? undefined
        : { url: v.ALERT_WEBHOOK_URL, secret: v.ALERT_WEBHOOK_SECRET },
      webhookMaxAgeMs: v.ALERT_WEBHOOK_MAX_AGE * 1000,
      outboxMax: v.ALERT_OUTBOX_MAX,
    },
  };
}

function crossCheck(
  values: Record<string, unknown>,
  env: Record<string, string | undefined>,
  problems: string[],
): void {
  const windows = values.DEFAULT_WINDOWS as number[];
  const max = values.MAX_WINDOW as number;
  const tooLong = windows.filter((w) => w > max);
  if (tooLong.length > 0) {
    problems.push(
      `DEFAULT_WINDOWS=${show("DEFAULT_WINDOWS", env.DEFAULT_WINDOWS)}: ${
        tooLong.map(formatWindow).join(", ")
      } ` +
        `exceeds MAX_WINDOW=${formatWindow(max)}`,
    );
  }
  if (values.DARSHAN_BASE_URL !== undefined && values.DARSHAN_API_KEY === undefined) {
    problems.push("DARSHAN_API_KEY=(unset): required when DARSHAN_BASE_URL is set");
  }
  if (values.ALERT_WEBHOOK_URL !== undefined && values.ALERT_WEBHOOK_SECRET === undefined) {
    problems.push(
      "ALERT_WEBHOOK_SECRET=(unset): required when ALERT_WEBHOOK_URL is set (receivers verify the signature)",
    );
  }
  const thresholds = thresholdsOf(values);
  for (const [lower, upper] of misorderedThresholds(thresholds)) {
    const [lowerName, upperName] = [THRESHOLD_VARIABLES[lower], THRESHOLD_VARIABLES[upper]];
    problems.push(
      `${lowerName}=${thresholds[lower]}: expected a value below ${upperName}=${thresholds[upper]}`,
    );
  }
}

function show(name: string, raw: string | undefined): string {
  if (raw === undefined) return "(unset)";
  if (SECRET_VARIABLES.has(name)) return "(hidden)";
  if (ORIGIN_ONLY_VARIABLES.has(name)) return JSON.stringify(originOnly(raw));
  // Credentials in a URL are never printed: user info goes before the value is shortened.
  const shown = name.endsWith("_URL") ? redactUrl(raw) : redactUserInfo(raw);
  return JSON.stringify(shown.length > 80 ? `${shown.slice(0, 80)}…` : shown);
}

/** `scheme://host:port` of a URL, without user info, path or query; `(not a URL)` when it does not parse. */
export function originOnly(value: string): string {
  if (!URL.canParse(value.trim())) return "(not a URL)";
  const parsed = new URL(value.trim());
  return parsed.origin === "null" ? `${parsed.protocol}…` : parsed.origin;
}

/** `.env.example` text generated from {@linkcode VARIABLES}; a test keeps the committed file equal to it. */
export function envExample(): string {
  const lines = [
    "# Coherence Engine configuration. Copy to .env; the real environment wins over .env.",
    "# Every variable is optional: with none set the service runs on the bundled mock data.",
    "",
  ];
  for (const [name, spec] of Object.entries(VARIABLES)) {
    lines.push(`# ${spec.help}`);
    lines.push(spec.default === undefined ? `# ${name}=` : `${name}=${spec.default}`);
    lines.push("");
  }
  return lines.join("\n");
}
