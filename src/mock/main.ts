/**
 * `deno task mock-darshan`: runs the mock Darshan upstream ({@linkcode createMockDarshan}) on a port.
 * Every flag has an environment twin (`--error-rate` ↔ `MOCK_DARSHAN_ERROR_RATE`); a flag wins over the
 * environment. See docs/UPSTREAM.md for examples.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { DIALECT_NAMES, DIALECTS } from "../ingest/dialect.ts";
import {
  createMockDarshan,
  fixtureRecords,
  generateRecords,
  mulberry32,
  shiftRecords,
} from "./darshan_server.ts";

const rate = z.coerce.number().min(0).max(1);

/** The mock's settings, after flags and environment are merged. */
const MockConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(8787),
  hostname: z.string().min(1).default("127.0.0.1"),
  fixture: z.string().min(1).default("fixtures/signals.json"),
  key: z.string().min(1).default("mock-key"),
  forbiddenKey: z.string().min(1).optional(),
  dialect: z.enum(DIALECT_NAMES).default("darshan"),
  pagination: z.enum(["cursor", "page"]).default("cursor"),
  pageInfo: z.enum(["total_pages", "has_more"]).default("total_pages"),
  pageSize: z.coerce.number().int().min(1).max(10_000).default(100),
  errorRate: rate.default(0),
  rateLimitRate: rate.default(0),
  retryAfter: z.coerce.number().int().min(0).default(1),
  delayMs: z.coerce.number().int().min(0).default(0),
  slowRate: rate.default(1),
  malformedRate: rate.default(0),
  duplicateRate: rate.default(0),
  correctionRate: rate.default(0),
  invalidRate: rate.default(0),
  seed: z.coerce.number().int().optional(),
  generate: z.coerce.number().int().min(1).max(10_000_000).optional(),
  /** Shift a fixture so its newest record lands at start-up (a service pulling "the last 24 h" finds data). */
  shiftToNow: z.enum(["true", "false"], { error: "expected true or false" }).default("true")
    .transform((v) => v === "true"),
  help: z.boolean().default(false),
});
export type MockConfig = z.infer<typeof MockConfigSchema>;

/** Each setting's CLI flag is its key in kebab case; the environment name is `MOCK_DARSHAN_` + the flag in upper
 * snake case. */
const flagOf = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const SETTINGS = Object.keys(MockConfigSchema.shape).filter((key) => key !== "help");
const envName = (flag: string) => `MOCK_DARSHAN_${flag.toUpperCase().replaceAll("-", "_")}`;

const USAGE = `Usage: deno task mock-darshan [flags]   (each flag also reads MOCK_DARSHAN_<FLAG>)
  --port 8787             --hostname 127.0.0.1      --key mock-key        --forbidden-key <k>
  --fixture fixtures/signals.json   or   --generate <n> (generated records ending now)
  --shift-to-now true|false (default true: the fixture's newest record lands at start-up)
  --dialect darshan|start_end       --pagination cursor|page   --page-info total_pages|has_more
  --page-size 100 (default when the request gives none)       --seed <int> (reproducible faults)
  faults: --error-rate 0.1 --rate-limit-rate 0.05 --retry-after 1 --delay-ms 200 --slow-rate 1
          --malformed-rate 0.05 --duplicate-rate 0.1 --correction-rate 0.05 --invalid-rate 0.02`;

/** Merges flags over environment variables and validates them; throws an Error naming the bad setting. */
export function parseMockConfig(args: string[], env: Record<string, string | undefined>): MockConfig {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {
    help: { type: "boolean", short: "h" },
  };
  for (const key of SETTINGS) options[flagOf(key)] = { type: "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new Error(`Cannot start the mock: ${error instanceof Error ? error.message : String(error)}`);
  }
  const raw: Record<string, unknown> = { help: values.help === true };
  for (const key of SETTINGS) {
    const fromFlag = values[flagOf(key)];
    const fromEnv = env[envName(flagOf(key))];
    raw[key] = typeof fromFlag === "string" ? fromFlag : fromEnv === "" ? undefined : fromEnv;
  }
  const parsed = MockConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue.path[0]);
    const flag = flagOf(key);
    throw new Error(
      `Cannot start the mock: --${flag} / ${envName(flag)} is invalid (${
        JSON.stringify(raw[key])
      }): ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Runs the mock until the process is stopped. */
export async function main(args: string[] = Deno.args, env = Deno.env.toObject()): Promise<void> {
  let config: MockConfig;
  try {
    config = parseMockConfig(args, env);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(USAGE);
    Deno.exit(2);
  }
  if (config.help) {
    console.log(USAGE);
    return;
  }
  const random = config.seed === undefined ? Math.random : mulberry32(config.seed);
  let records: unknown[];
  let origin: string;
  if (config.generate !== undefined) {
    const dataRandom = config.seed === undefined ? Math.random : mulberry32(config.seed ^ 0x5eed);
    records = generateRecords(config.generate, { random: dataRandom });
    origin = `${config.generate} generated records`;
  } else {
    try {
      records = fixtureRecords(JSON.parse(await Deno.readTextFile(config.fixture)));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      console.error(
        `Cannot read fixture "${config.fixture}": ${detail} (pass --generate <n> to serve generated data)`,
      );
      Deno.exit(1);
    }
    origin = `${records.length} records from ${config.fixture}`;
    if (config.shiftToNow) {
      records = shiftRecords(records, Math.floor(Date.now() / 1000) * 1000, DIALECTS[config.dialect]);
      origin += " (shifted so the newest lands now)";
    }
  }

  // The settings named as the mock's options (dialect, pagination, the fault rates) pass straight through.
  const mock = createMockDarshan({
    ...config,
    records,
    apiKey: config.key,
    defaultPageSize: config.pageSize,
    retryAfterSec: config.retryAfter,
    random,
  });
  const faults = [
    ["5xx", config.errorRate],
    ["429", config.rateLimitRate],
    ["malformed", config.malformedRate],
    ["duplicate", config.duplicateRate],
    ["correction", config.correctionRate],
    ["invalid", config.invalidRate],
  ].filter(([, r]) => Number(r) > 0).map(([name, r]) => `${name} ${r}`);
  if (config.delayMs > 0) faults.push(`delay ${config.delayMs} ms × ${config.slowRate}`);

  Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen({ hostname, port }) {
      console.log(`Mock Darshan listening on http://${hostname}:${port}/signals/summary`);
      console.log(
        `  ${origin}; dialect ${config.dialect}; ${config.pagination} pagination; ` +
          `faults: ${faults.length ? faults.join(", ") : "none"}${
            config.seed === undefined ? "" : `; seed ${config.seed}`
          }`,
      );
      console.log(
        `  point the service at it: DARSHAN_BASE_URL=http://${hostname}:${port} DARSHAN_API_KEY=<the --key value>`,
      );
    },
  }, mock.app.fetch);
}

if (import.meta.main) await main();
