/**
 * Copies the Swagger UI files `/docs` serves from the pinned `swagger-ui-dist` npm package (see deno.json)
 * into `static/vendor/swagger-ui/`, which is committed so the service, the binary and the Docker image need
 * no network and no CDN. `deno task vendor:swagger-ui` writes them; `--check` only compares and exits 1 when
 * the committed copies differ from the package (a test runs the same comparison).
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The files copied: the UI bundle, its stylesheet, and the licence texts that must travel with them. */
export const VENDORED_FILES = ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"] as const;

const TARGET_DIR = join(import.meta.dirname ?? ".", "..", "static", "vendor", "swagger-ui");

/** The installed `swagger-ui-dist` package directory (from the project's node_modules). */
function packageDir(): string {
  const require = createRequire(join(import.meta.dirname ?? ".", "..", "deno.json"));
  return dirname(require.resolve("swagger-ui-dist/package.json"));
}

/** Names of the vendored files whose committed bytes differ from the package's (or are missing). */
export async function staleFiles(
  { from = packageDir(), to = TARGET_DIR }: { from?: string; to?: string } = {},
): Promise<string[]> {
  const stale: string[] = [];
  for (const name of VENDORED_FILES) {
    const source = await Deno.readFile(join(from, name));
    let committed: Uint8Array | null = null;
    try {
      committed = await Deno.readFile(join(to, name));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    if (committed === null || !equalBytes(source, committed)) stale.push(name);
  }
  return stale;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

async function main(): Promise<void> {
  const from = packageDir();
  const version = JSON.parse(await Deno.readTextFile(join(from, "package.json"))).version;
  if (Deno.args.includes("--check")) {
    const stale = await staleFiles({ from });
    if (stale.length > 0) {
      console.error(
        `static/vendor/swagger-ui is stale against swagger-ui-dist ${version}: ${stale.join(", ")}`,
      );
      console.error("Run: deno task vendor:swagger-ui");
      Deno.exit(1);
    }
    console.log(`static/vendor/swagger-ui matches swagger-ui-dist ${version}`);
    return;
  }
  await Deno.mkdir(TARGET_DIR, { recursive: true });
  for (const name of VENDORED_FILES) await Deno.copyFile(join(from, name), join(TARGET_DIR, name));
  console.log(
    `copied ${VENDORED_FILES.join(", ")} from swagger-ui-dist ${version} to static/vendor/swagger-ui/`,
  );
}

if (import.meta.main) await main();
