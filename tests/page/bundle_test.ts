/**
 * The committed client bundle and uPlot CSS in `static/` must equal a fresh build from the sources, so a change
 * to `islands/` or `src/page/` without `deno task build:islands` fails here instead of shipping a stale page.
 */
import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildIslands, BUILT_FILES } from "../../scripts/build_islands.ts";

const STATIC = new URL("../../static/", import.meta.url);

Deno.test("static/islands.js and static/uPlot.min.css are up to date with the sources", async () => {
  const outDir = await Deno.makeTempDir({ prefix: "coherence-islands-" });
  try {
    await buildIslands({ outDir });
    for (const name of BUILT_FILES) {
      const fresh = await Deno.readFile(join(outDir, name));
      const committed = await Deno.readFile(new URL(name, STATIC));
      ok(fresh.byteLength > 0, `${name} was built`);
      equal(
        committed.byteLength === fresh.byteLength && committed.every((byte, i) => byte === fresh[i]),
        true,
        `static/${name} is stale (${committed.byteLength} bytes committed, ${fresh.byteLength} built): run \`deno task build:islands\``,
      );
    }
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});

Deno.test("the client bundle stays small and self-contained", async () => {
  const bundle = await Deno.readTextFile(new URL("islands.js", STATIC));
  ok(bundle.length < 150 * 1024, `islands.js is ${bundle.length} bytes`);
  ok(
    !/\bimport\s*[("'{*]/.test(bundle.replace(/import\.meta/g, "")),
    "no imports left to resolve at run time",
  );
  ok(!/https?:\/\/(?!www\.w3\.org\/)/.test(bundle), "no external URLs");
  ok(!bundle.includes("ZodError"), "zod stays on the server");
});
