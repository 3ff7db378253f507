/**
 * The Dockerfile, checked statically (no Docker engine runs here): a Deno build stage that has every input the
 * compile needs, a distroless runtime stage with only the binary, a non-root user, a HEALTHCHECK through the
 * binary's own `--healthcheck`, a volume at DATA_DIR, and a configuration that is valid with only DARSHAN_*.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
const dockerignore = (await Deno.readTextFile(join(ROOT, ".dockerignore"))).split("\n").map((l) => l.trim());

/** Instructions (continuation lines joined, comments dropped), grouped by stage. */
function stages(): { from: string; instructions: string[] }[] {
  const lines = dockerfile.replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) =>
    l && !l.startsWith("#")
  );
  const result: { from: string; instructions: string[] }[] = [];
  for (const line of lines) {
    if (line.startsWith("FROM ")) result.push({ from: line.slice(5), instructions: [] });
    else result.at(-1)!.instructions.push(line);
  }
  return result;
}

Deno.test("the build stage is the official Deno image with every input the compile reads", () => {
  const [build] = stages();
  equal(build.from, "denoland/deno:2.9.6 AS build");
  const copied = build.instructions.filter((i) => i.startsWith("COPY ")).map((i) => i.split(/\s+/)[1]);
  for (const needed of ["src", "islands", "static", "fixtures"]) {
    ok(copied.includes(needed), `COPY ${needed}`);
    ok(!dockerignore.includes(needed), `.dockerignore keeps ${needed}`);
  }
  ok(build.instructions.some((i) => i.startsWith("RUN deno install --frozen")));
  ok(build.instructions.some((i) => i.includes("deno task compile")));
});

Deno.test("the runtime stage holds only the binary, runs as non-root, probes /health and keeps DATA_DIR in a volume", () => {
  const all = stages();
  equal(all.length, 2);
  const run = all[1];
  equal(run.from, "gcr.io/distroless/cc-debian12:nonroot");
  const copies = run.instructions.filter((i) => i.startsWith("COPY "));
  ok(copies.every((i) => i.includes("--from=build")), "nothing but build outputs");
  ok(copies.some((i) => i.endsWith("/out/coherence-engine /app/coherence-engine")));
  const user = run.instructions.find((i) => i.startsWith("USER "));
  ok(user && !/\b(root|0)(:|$)/.test(user.slice(5)), String(user));
  const health = run.instructions.find((i) => i.startsWith("HEALTHCHECK "));
  ok(health?.includes('CMD ["/app/coherence-engine", "--healthcheck"]'), String(health));
  const env = Object.fromEntries(
    run.instructions.filter((i) => i.startsWith("ENV ")).flatMap((i) =>
      i.slice(4).split(/\s+/).map((pair) => pair.split("=") as [string, string])
    ),
  );
  deepEqual(run.instructions.find((i) => i.startsWith("VOLUME ")), `VOLUME ["${env.DATA_DIR}"]`);
  equal(run.instructions.find((i) => i.startsWith("ENTRYPOINT ")), 'ENTRYPOINT ["/app/coherence-engine"]');

  // With only DARSHAN_* from the operator, the image's own ENV completes a valid configuration.
  const config = loadConfig({
    ...env,
    DARSHAN_BASE_URL: "https://darshan.example.com",
    DARSHAN_API_KEY: "key",
  });
  equal(config.persistence, "sqlite");
  equal(config.dataDir, "/data");
  equal(config.port, 8000);
  equal(config.host, "0.0.0.0");
});
