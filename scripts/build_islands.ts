/**
 * `deno task build:islands`: bundles the islands' client entry into `static/islands.js` (`deno bundle`,
 * minified, for browsers) and copies uPlot's CSS into `static/uPlot.min.css`. Both are committed, so `start`,
 * `test` and `deno compile --include static` never need a build step; `tests/page/bundle_test.ts` rebuilds
 * into a temporary directory and fails when the committed files differ from the sources.
 */
import { join } from "node:path";

export const ROOT = join(import.meta.dirname ?? ".", "..");
const ENTRY = "islands/client.tsx";
export const BUILT_FILES = ["islands.js", "uPlot.min.css"] as const;

export interface BuildResult {
  files: { name: string; bytes: number }[];
}

/** Builds into `outDir` (default: `static/`); throws with deno bundle's output when bundling fails. */
export async function buildIslands({ outDir = join(ROOT, "static") }: { outDir?: string } = {}): Promise<
  BuildResult
> {
  await Deno.mkdir(outDir, { recursive: true });
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--minify",
      "--output",
      join(outDir, "islands.js"),
      ENTRY,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    throw new Error(`deno bundle ${ENTRY} failed:\n${text}`);
  }
  const css = await Deno.readFile(join(ROOT, "node_modules", "uplot", "dist", "uPlot.min.css"));
  await Deno.writeFile(join(outDir, "uPlot.min.css"), css);
  const files = [];
  for (const name of BUILT_FILES) files.push({ name, bytes: (await Deno.stat(join(outDir, name))).size });
  return { files };
}

if (import.meta.main) {
  const { files } = await buildIslands();
  for (const { name, bytes } of files) console.log(`static/${name}  ${(bytes / 1024).toFixed(1)} KiB`);
}
