/**
 * The single binary, as far as this machine can check it (`deno compile` downloads its `denort` base binary,
 * which is blocked here): the compile task's flags, that every file the service reads at run time from its
 * own tree is located from `import.meta` and embedded by an `--include`, that worker modules are included,
 * and that the service started from another working directory still serves its assets and bundled data.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";
import { VENDOR_DIR } from "../../src/http/docs_routes.ts";
import { BUNDLED_FIXTURE } from "../../src/ingest/mock_source.ts";
import { STATIC_DIR } from "../../src/http/static_assets.ts";
import { spawnMain } from "../helpers.ts";

const ROOT = fromFileUrl(new URL("../../", import.meta.url));
const denoJson = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
const compile: string = denoJson.tasks.compile;
const args = compile.split(/\s+/);

function includes(): string[] {
  return args.flatMap((arg, i) => (arg === "--include" ? [args[i + 1]] : []));
}

Deno.test("deno task compile grants only net, read, write and env, with KV and cron, into dist/", () => {
  equal(args.slice(0, 2).join(" "), "deno compile");
  const permissions = args.filter((arg) => /^--allow-|^-A$|^--unstable-/.test(arg)).sort();
  deepEqual(permissions, [
    "--allow-env",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    "--unstable-cron",
    "--unstable-kv",
  ]);
  equal(args[args.indexOf("--output") + 1], "dist/coherence-engine");
  equal(args.at(-1), "src/main.ts");
});

Deno.test("every file the service reads from its own tree is located from import.meta and embedded", () => {
  const included = includes();
  const covered = (path: string) =>
    included.some((entry) => {
      const rel = relative(join(ROOT, entry), path);
      return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
    });
  for (
    const [name, path] of [
      ["page assets (STATIC_DIR)", STATIC_DIR],
      ["docs assets (VENDOR_DIR)", VENDOR_DIR],
      ["bundled fixture", fromFileUrl(BUNDLED_FIXTURE)],
    ] as const
  ) {
    ok(path.startsWith(ROOT), `${name} resolves inside the project: ${path}`);
    ok(covered(path), `${name} (${relative(ROOT, path)}) is embedded by --include`);
  }
});

Deno.test("every Worker module under src/ is embedded (deno compile leaves workers out otherwise)", async () => {
  const included = includes();
  for await (const entry of walk(join(ROOT, "src"))) {
    const text = await Deno.readTextFile(entry);
    for (const [, spec] of text.matchAll(/new Worker\(\s*new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g)) {
      const worker = relative(ROOT, join(entry, "..", spec));
      ok(included.includes(worker), `${worker} (started by ${relative(ROOT, entry)}) is in --include`);
    }
  }
});

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* walk(path);
    else if (entry.name.endsWith(".ts") || entry.name.endsWith(".tsx")) yield path;
  }
}

Deno.test({
  name:
    "started from another working directory, the service serves its page and docs assets and bundled data",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const elsewhere = await Deno.makeTempDir();
    const { child, reader, url } = await spawnMain({
      flags: [
        `--config=${join(ROOT, "deno.json")}`,
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
      ],
      cwd: elsewhere,
      env: { PORT: "0", HOST: "127.0.0.1", PERSISTENCE: "none" },
    });
    try {
      reader.releaseLock();
      for (
        const path of [
          "/static/page.css",
          "/static/islands.js",
          "/docs/assets/swagger-ui-bundle.js",
          "/docs/assets/docs.js",
          "/docs",
          "/",
        ]
      ) {
        const response = await fetch(`${url}${path}`);
        await response.body?.cancel();
        equal(response.status, 200, path);
      }
      const signals = await (await fetch(`${url}/coherence/signals`)).json();
      equal(signals.signals.length, 4, "the bundled fixture's four signals");
      deepEqual(
        await Array.fromAsync(Deno.readDir(elsewhere)),
        [],
        "nothing written to the working directory",
      );
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await Deno.remove(elsewhere, { recursive: true });
    }
  },
});
