import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { ConfigError, envExample, loadConfig, mergeEnvironment, VARIABLES } from "../src/config.ts";

Deno.test("loadConfig() fills every default from an empty environment", () => {
  const config = loadConfig({});
  equal(config.port, 8000);
  equal(config.host, "0.0.0.0");
  deepEqual(config.windows, [3600, 86400]);
  equal(config.maxWindowSec, 30 * 86400);
  equal(config.persistence, "sqlite");
  equal(config.dataDir, "./data");
  equal(config.engineVersion, "0.1.0");
  equal(config.mock.replay, true);
  equal(config.mock.path, undefined);
  equal(config.darshan.baseUrl, undefined);
  equal(config.darshan.timeoutMs, 10_000);
  equal(config.darshan.pageSize, 1000);
  equal(config.darshan.maxRetries, 5);
  equal(config.ingestOverlapSec, 300);
  deepEqual(config.thresholds, {
    highVolatilityAbove: 0.25,
    mediumVolatilityAbove: 0.1,
    highMeanBelow: 60,
    mediumMeanBelow: 80,
  });
});

Deno.test("loadConfig() parses every variable it is given", () => {
  const config = loadConfig({
    DARSHAN_BASE_URL: "https://darshan.example.com/api/",
    DARSHAN_API_KEY: "k",
    DARSHAN_TIMEOUT_S: "3",
    DARSHAN_DIALECT: "start_end",
    DEFAULT_WINDOWS: "5m, 1h,5m",
    PERSISTENCE: "CSV",
    MOCK_REPLAY: "false",
    PORT: "0",
    INGEST_INTERVAL_S: "5",
    RETENTION: "2d",
    STALE_AFTER: "90s",
    API_TOKEN: "t",
  });
  equal(config.darshan.baseUrl, "https://darshan.example.com/api");
  equal(config.darshan.timeoutMs, 3000);
  equal(config.darshan.dialect, "start_end");
  deepEqual(config.windows, [300, 3600]);
  equal(config.persistence, "csv");
  equal(config.mock.replay, false);
  equal(config.port, 0);
  equal(config.ingestIntervalSec, 5);
  equal(config.retentionSec, 172800);
  equal(config.staleAfterSec, 90);
  equal(config.apiToken, "t");
});

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

Deno.test("loadConfig() names the variable, the value and what is accepted for each bad value", () => {
  deepEqual(problemsOf({ PERSISTENCE: "mongo" }), [
    'PERSISTENCE="mongo": expected one of sqlite, csv, kv, none',
  ]);
  deepEqual(problemsOf({ PORT: "abc" }), ['PORT="abc": expected a port number from 0 to 65535']);
  deepEqual(problemsOf({ PORT: "70000" }), ['PORT="70000": expected a port number from 0 to 65535']);
  const [windows] = problemsOf({ DEFAULT_WINDOWS: "1x" });
  match(
    windows,
    /^DEFAULT_WINDOWS="1x": Cannot parse window "1x": expected a number followed by s, m, h or d/,
  );
  match(problemsOf({ MOCK_REPLAY: "maybe" })[0], /^MOCK_REPLAY="maybe": expected true or false$/);
  match(
    problemsOf({ DARSHAN_BASE_URL: "ftp://x" })[0],
    /^DARSHAN_BASE_URL="ftp:\/\/x": expected an http\(s\) URL/,
  );
  match(problemsOf({ MAX_WINDOW: "0" })[0], /^MAX_WINDOW="0": Window "0" is empty/);
});

Deno.test("loadConfig() reports every bad variable at once, one line each", () => {
  const problems = problemsOf({ PERSISTENCE: "mongo", PORT: "abc", DEFAULT_WINDOWS: "1x" });
  equal(problems.length, 3);
  ok(problems.every((p) => !p.includes("\n")));
});

Deno.test("loadConfig() checks variables against each other", () => {
  match(
    problemsOf({ DEFAULT_WINDOWS: "1h,60d" })[0],
    /^DEFAULT_WINDOWS="1h,60d": 60d exceeds MAX_WINDOW=30d$/,
  );
  match(
    problemsOf({ DARSHAN_BASE_URL: "https://x.example" })[0],
    /^DARSHAN_API_KEY=\(unset\): required when DARSHAN_BASE_URL/,
  );
  match(
    problemsOf({ RISK_HIGH_MEAN_BELOW: "85" })[0],
    /^RISK_HIGH_MEAN_BELOW=85: expected a value below RISK_MEDIUM_MEAN_BELOW=80$/,
  );
  match(
    problemsOf({ RISK_MEDIUM_VOLATILITY_ABOVE: "0.3" })[0],
    /RISK_MEDIUM_VOLATILITY_ABOVE=0.3: expected a value below RISK_HIGH_VOLATILITY_ABOVE=0.25/,
  );
});

Deno.test("mergeEnvironment() reads .env text and lets the real environment win", () => {
  const env = mergeEnvironment("PORT=9000\nHOST=127.0.0.1\n# comment\nLOG_LEVEL=debug\n", { PORT: "8100" });
  equal(env.PORT, "8100");
  equal(env.HOST, "127.0.0.1");
  equal(loadConfig(env).logLevel, "debug");
  deepEqual(mergeEnvironment(undefined, { A: "1" }), { A: "1" });
});

Deno.test(".env.example lists every variable with its default and meaning, as generated from the schema", async () => {
  const committed = await Deno.readTextFile(new URL("../.env.example", import.meta.url));
  equal(committed, envExample());
  for (const name of Object.keys(VARIABLES)) ok(committed.includes(`${name}=`), name);
});

Deno.test("the service refuses to start on a bad value: non-zero exit and one line naming the variable", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../src/main.ts", import.meta.url).pathname],
    env: { PERSISTENCE: "mongo", PORT: "0", HOST: "127.0.0.1" },
    cwd: await Deno.makeTempDir(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 2);
  const stderr = new TextDecoder().decode(output.stderr).trim();
  equal(stderr, 'Invalid configuration: PERSISTENCE="mongo": expected one of sqlite, csv, kv, none');
  throws(() => loadConfig({ PERSISTENCE: "mongo" }), ConfigError);
});

/** The ConfigError `loadConfig(env)` throws. */
function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig() accepted ${JSON.stringify(env)}`);
}

Deno.test("loadConfig() never prints the user info of a URL, in any variable", () => {
  for (
    const [value, shown] of [
      ["ftp://svc:P4ssw0rd@host", '"ftp://***@host"'],
      ["svc:P4ssw0rd@host", '"***@host"'],
      [`ftp://svc:P4ssw0rd@${"h".repeat(100)}`, `"ftp://***@${"h".repeat(70)}…"`],
    ]
  ) {
    const error = configError({ DARSHAN_BASE_URL: value, DARSHAN_API_KEY: "k" });
    ok(!error.message.includes("P4ssw0rd"), error.message);
    ok(error.message.includes(`DARSHAN_BASE_URL=${shown}: expected an http(s) URL`), error.message);
  }
  const other = configError({ MAX_WINDOW: "http://u:P4ssw0rd@x" });
  ok(!other.message.includes("P4ssw0rd"), other.message);
});

Deno.test("the service refuses a URL with a password without printing the password", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../src/main.ts", import.meta.url).pathname],
    env: { DARSHAN_BASE_URL: "ftp://svc:P4ssw0rd@host", DARSHAN_API_KEY: "k", PORT: "0", HOST: "127.0.0.1" },
    cwd: await Deno.makeTempDir(),
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(output.code, 2);
  equal(
    new TextDecoder().decode(output.stderr).trim(),
    'Invalid configuration: DARSHAN_BASE_URL="ftp://***@host": expected an http(s) URL such as ' +
      "https://darshan.example.com",
  );
  equal(new TextDecoder().decode(output.stdout), "");
});

Deno.test("loadConfig() parses CORS_ORIGINS into origins and refuses anything else", () => {
  deepEqual(loadConfig({}).corsOrigins, []);
  deepEqual(loadConfig({ CORS_ORIGINS: "https://a.example.com/path, http://b.example:8080" }).corsOrigins, [
    "https://a.example.com",
    "http://b.example:8080",
  ]);
  deepEqual(loadConfig({ CORS_ORIGINS: "*" }).corsOrigins, ["*"]);
  match(
    problemsOf({ CORS_ORIGINS: "nope" })[0],
    /^CORS_ORIGINS="nope": expected a comma-separated list of origins/,
  );
});

Deno.test("README.md documents every configuration variable", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const name of Object.keys(VARIABLES)) ok(new RegExp(`\\| \`${name}\` +\\|`).test(readme), name);
});

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"; // 24 bytes of base64

Deno.test("loadConfig() gives alerts their defaults: 2m pending, margin 1, resend 60 s, 24 h max age, 10000 outbox, no delivery", () => {
  deepEqual(loadConfig({}).alerts, {
    forMs: 120_000,
    recoveryMargin: 1,
    publicUrl: undefined,
    alertmanagerUrl: undefined,
    resendSec: 60,
    webhook: undefined,
    webhookMaxAgeMs: 86_400_000,
    outboxMax: 10_000,
  });
});

Deno.test("loadConfig() parses the alert variables, ALERT_FOR=0 included", () => {
  const { alerts } = loadConfig({
    ALERT_FOR: "0",
    ALERT_RECOVERY_MARGIN: "2.5",
    ALERTMANAGER_URL: "http://127.0.0.1:9093/",
    ALERT_RESEND_S: "5",
    ALERT_WEBHOOK_URL: "https://hooks.example.com/coherence/",
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_WEBHOOK_MAX_AGE: "1h",
    ALERT_OUTBOX_MAX: "50",
    PUBLIC_URL: "https://coherence.example.com/",
  });
  deepEqual(alerts, {
    forMs: 0,
    recoveryMargin: 2.5,
    publicUrl: "https://coherence.example.com",
    alertmanagerUrl: "http://127.0.0.1:9093",
    resendSec: 5,
    webhook: { url: "https://hooks.example.com/coherence/", secret: SECRET },
    webhookMaxAgeMs: 3_600_000,
    outboxMax: 50,
  });
  equal(loadConfig({ ALERT_FOR: "0s" }).alerts.forMs, 0);
  equal(loadConfig({ ALERT_FOR: "90s" }).alerts.forMs, 90_000);
});

Deno.test("loadConfig() refuses bad alert values, naming the variable", () => {
  match(problemsOf({ ALERT_FOR: "soon" })[0], /^ALERT_FOR="soon": Cannot parse window/);
  match(problemsOf({ ALERT_RECOVERY_MARGIN: "-1" })[0], /^ALERT_RECOVERY_MARGIN="-1": expected a number/);
  match(problemsOf({ ALERT_RESEND_S: "0" })[0], /^ALERT_RESEND_S="0": expected an integer from 1/);
  match(problemsOf({ ALERT_OUTBOX_MAX: "0" })[0], /^ALERT_OUTBOX_MAX="0": expected an integer from 1/);
  match(problemsOf({ ALERT_WEBHOOK_MAX_AGE: "0" })[0], /^ALERT_WEBHOOK_MAX_AGE="0": Window "0" is empty/);
  match(
    problemsOf({ ALERTMANAGER_URL: "ftp://am" })[0],
    /^ALERTMANAGER_URL="ftp:\/\/am": expected an http\(s\) URL/,
  );
});

Deno.test("loadConfig() requires ALERT_WEBHOOK_SECRET with ALERT_WEBHOOK_URL, with a clear message", () => {
  deepEqual(problemsOf({ ALERT_WEBHOOK_URL: "https://hooks.example.com/x" }), [
    "ALERT_WEBHOOK_SECRET=(unset): required when ALERT_WEBHOOK_URL is set (receivers verify the signature)",
  ]);
});

Deno.test("loadConfig() never prints the webhook secret, nor a delivery URL's credentials, path or query", () => {
  const secret = "whsec_not-base64-S3cr3t!";
  const problems = problemsOf({
    ALERT_WEBHOOK_URL: "ftp://user:Pa55word@hooks.example.com/T0KEN/path?key=QK3Y",
    ALERT_WEBHOOK_SECRET: secret,
    ALERTMANAGER_URL: "gopher://am:AmPa55@am.example.com:9093/tok3n",
  });
  equal(problems.length, 3);
  const text = problems.join("\n");
  for (const leaked of [secret, "S3cr3t", "Pa55word", "T0KEN", "QK3Y", "AmPa55", "tok3n", "user"]) {
    ok(!text.includes(leaked), `${leaked} printed in ${text}`);
  }
  match(text, /^ALERT_WEBHOOK_SECRET=\(hidden\): expected whsec_ followed by base64/m);
  match(text, /^ALERT_WEBHOOK_URL="ftp:\/\/hooks.example.com": expected an http\(s\) URL/m);
  // Short secrets are refused too, still hidden; a raw secret of 16+ characters is fine.
  for (const short of ["whsec_c2hvcnQ=", "short-secret"]) {
    match(
      problemsOf({ ALERT_WEBHOOK_URL: "https://h.example", ALERT_WEBHOOK_SECRET: short })[0],
      /^ALERT_WEBHOOK_SECRET=\(hidden\): expected whsec_ followed by base64 of at least 16 bytes, or a raw/,
    );
  }
  equal(
    loadConfig({ ALERT_WEBHOOK_URL: "https://h.example", ALERT_WEBHOOK_SECRET: "a-raw-secret-of-24-chars" })
      .alerts.webhook?.secret,
    "a-raw-secret-of-24-chars",
  );
});
Deno.test("LEASE_S defaults to 15 s (3 to 3600) and INSTANCE_ID is optional (issue 16)", () => {
  equal(loadConfig({}).leaseSec, 15);
  equal(loadConfig({}).instanceId, undefined);
  equal(loadConfig({ LEASE_S: "3", INSTANCE_ID: " edge-a " }).leaseSec, 3);
  equal(loadConfig({ INSTANCE_ID: " edge-a " }).instanceId, "edge-a");
  throws(() => loadConfig({ LEASE_S: "2" }), (error: ConfigError) => {
    deepEqual(error.problems, ['LEASE_S="2": expected an integer from 3 to 3600']);
    return true;
  });
});

Deno.test("SYNC_INTERVAL: 1s by default, ms or s from 50ms to 1s; other values are refused", () => {
  equal(loadConfig({}).syncIntervalMs, 1000);
  equal(loadConfig({ SYNC_INTERVAL: "250ms" }).syncIntervalMs, 250);
  equal(loadConfig({ SYNC_INTERVAL: "0.5s" }).syncIntervalMs, 500);
  for (const bad of ["2s", "10ms", "fast", "1m"]) {
    match(
      problemsOf({ SYNC_INTERVAL: bad })[0],
      /^SYNC_INTERVAL="[^"]*": expected a duration from 50ms to 1s/,
    );
  }
});

Deno.test("DENO_KV_URL and DENO_KV_ACCESS_TOKEN: a remote KV; the token is never printed, the URL only by origin", () => {
  const config = loadConfig({
    PERSISTENCE: "kv",
    DENO_KV_URL: "https://kv.example.com:4512/",
    DENO_KV_ACCESS_TOKEN: "kv-T0ken-s3cret",
  });
  equal(config.kvUrl, "https://kv.example.com:4512/");
  equal(config.kvAccessToken, "kv-T0ken-s3cret");
  const text = problemsOf({ DENO_KV_URL: "ftp://u:Pa55@kv.example.com/path?t=QK3Y" }).join("\n");
  for (const leaked of ["Pa55", "QK3Y", "u:"]) ok(!text.includes(leaked), `${leaked} printed in ${text}`);
});
