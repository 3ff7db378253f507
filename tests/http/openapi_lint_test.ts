/**
 * `/openapi.json` lints clean with Redocly's recommended ruleset (redocly.yaml turns one rule off, with its reason) (`npm:@redocly/cli`, pinned in deno.json and
 * locked in deno.lock, so it runs offline from the npm cache), with and without API_TOKEN.
 */
import { deepEqual } from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../../deno.json" with { type: "json" };
import { testApp } from "../helpers.ts";

const REDOCLY = denoJson.imports["@redocly/cli"];
const ROOT = new URL("../..", import.meta.url).pathname;
const CONFIG = join(ROOT, "redocly.yaml");

async function lint(env: Record<string, string>) {
  const { app } = testApp({ env });
  const headers: Record<string, string> = env.API_TOKEN ? { Authorization: `Bearer ${env.API_TOKEN}` } : {};
  const document = await (await app.request("/openapi.json", { headers })).json();
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "openapi.json");
    await Deno.writeTextFile(file, JSON.stringify(document));
    const { stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      // From the project root with --frozen: the CLI resolves through deno.json, deno.lock and node_modules
      // (what `deno install --frozen` put there), and --cached-only: never the network.
      args: [
        "run",
        "--allow-all",
        "--frozen",
        "--cached-only",
        REDOCLY,
        "lint",
        `--config=${CONFIG}`,
        "--format=json",
        file,
      ],
      cwd: ROOT,
      env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    const start = text.indexOf("{");
    if (start < 0) throw new Error(`redocly printed no report:\n${new TextDecoder().decode(stderr)}`);
    const report: { problems: { ruleId: string; message: string; location: { pointer: string }[] }[] } = JSON
      .parse(text.slice(start));
    return report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("redocly lint (recommended) finds no error or warning in /openapi.json", async () => {
  deepEqual(await lint({}), []);
});

Deno.test("redocly lint (recommended) finds no error or warning in /openapi.json with API_TOKEN", async () => {
  deepEqual(await lint({ API_TOKEN: "s3cret-token-for-tests" }), []);
});
