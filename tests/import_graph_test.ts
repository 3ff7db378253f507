import { deepEqual, ok } from "node:assert/strict";
import { relative } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

const ROOT = fromFileUrl(new URL("../", import.meta.url));

/** The files under src/ that `entry` imports, directly or not, from `deno info --json`. */
async function reachable(entry: string): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
  }).output();
  if (code !== 0) throw new Error(`deno info ${entry} failed: ${new TextDecoder().decode(stderr)}`);
  const info = JSON.parse(new TextDecoder().decode(stdout)) as { modules: { specifier: string }[] };
  return new Set(
    info.modules.map((m) => m.specifier).filter((s) => s.startsWith("file:"))
      .map((s) => relative(ROOT, fromFileUrl(s))).filter((path) => path !== entry),
  );
}

Deno.test("src/deploy.ts reaches no config.ts, so config.ts ↔ deploy.ts is no circle", async () => {
  const fromDeploy = await reachable("src/deploy.ts");
  ok(!fromDeploy.has("src/config.ts"), [...fromDeploy].join(", "));
  ok((await reachable("src/config.ts")).has("src/deploy.ts"));
});

Deno.test("the mock upstream reaches neither the client's parser nor its timestamp parser", async () => {
  const fromMock = await reachable("src/mock/main.ts");
  const shared = [...fromMock].filter((path) =>
    path === "src/core/time.ts" || path.startsWith("src/ingest/")
  );
  // The dialect tables are the contract's names (data only); the code that reads them stays the client's.
  deepEqual(shared, ["src/ingest/dialect.ts"]);
});
