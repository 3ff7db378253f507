/**
 * Peak memory of the real service against a gzip bomb (issue 12: RSS stays under DARSHAN_MAX_BODY_BYTES +
 * 100 MB while the upstream sends a small gzip body that inflates to 2 GB).
 *
 * Serves a loopback upstream from this process: one normal page (the first cycle succeeds), then, on every
 * later request, `{"data":[` followed by `--inflate-mb` MB of spaces (default 2048), gzipped once here with
 * CompressionStream and sent with `Content-Encoding: gzip`. The service (`deno task start`'s command, as a
 * child process) ingests every second; after four cycles have failed on the bomb, the child's peak resident
 * set (`VmHWM` in /proc/<pid>/status, Linux only) is read. The issue's bound applies to that absolute peak:
 * under DARSHAN_MAX_BODY_BYTES + 100 MB (132 MB with the default 32 MiB); its growth over the RSS after the
 * first, normal cycle (the service's own footprint, about 83 MB) is printed too.
 *
 *   deno run --allow-all scripts/gzip_bomb.ts [--inflate-mb 2048] [--limit-bytes 33554432]
 *
 * Exits 1 when the peak is over the bound or the cycle did not fail with the size-limit error.
 *
 * @module
 */
import { z } from "zod";
import { flag, gzipBomb, startService, waitFor } from "./perf_util.ts";

const MB = 1024 * 1024;
const INFLATE_MB = Number(flag("inflate-mb", "2048"));
const LIMIT = Number(flag("limit-bytes", String(32 * MB)));
const KEY = "bomb-key";

const StatusBody = z.object({
  recentIngests: z.array(z.object({ ok: z.boolean(), error: z.string().nullable() })),
});

/** VmHWM and VmRSS of a process, bytes. */
async function memoryOf(pid: number): Promise<{ peak: number; rss: number }> {
  const text = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) * 1024;
  return { peak: kb("VmHWM"), rss: kb("VmRSS") };
}

const started = performance.now();
const bomb = await gzipBomb(INFLATE_MB * MB);
console.log(`gzip bomb: ${(bomb.length / MB).toFixed(2)} MB on the wire, inflating to ${INFLATE_MB} MB`);
console.log(`  built in ${((performance.now() - started) / 1000).toFixed(1)} s`);

let bombsServed = 0;
let firstServed = false;
const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
  if (!firstServed) {
    firstServed = true;
    const ts = new Date(Date.now() - 60_000).toISOString();
    return Response.json({ data: [{ signal: "alpha", timestamp: ts, coherenceScore: 80 }] });
  }
  bombsServed++;
  return new Response(bomb, { headers: { "Content-Type": "application/json", "Content-Encoding": "gzip" } });
});

const child = await startService({
  DARSHAN_BASE_URL: `http://127.0.0.1:${upstream.addr.port}`,
  DARSHAN_API_KEY: KEY,
  DARSHAN_MAX_BODY_BYTES: String(LIMIT),
  INGEST_INTERVAL_S: "1",
});
let failed = 1;
try {
  const cycles = async () => {
    const res = await fetch(`${child.url}/status`, { signal: AbortSignal.timeout(5000) });
    return StatusBody.parse(await res.json()).recentIngests;
  };
  await waitFor(async () => (await cycles()).some((c) => c.ok) || undefined, { what: "the first cycle" });
  const before = await memoryOf(child.process.pid);
  const bad = await waitFor(async () => (await cycles()).find((c) => !c.ok), {
    what: "a cycle failing on the bomb",
    timeoutMs: 120_000,
  });
  // Let more bomb cycles run: the peak must not grow with each.
  await waitFor(() => Promise.resolve(bombsServed >= 4 || undefined), {
    what: "four bombs served",
    timeoutMs: 60_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const after = await memoryOf(child.process.pid);
  const bound = LIMIT + 100 * MB;
  const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
  console.log(`limit (DARSHAN_MAX_BODY_BYTES): ${mb(LIMIT)}; bound: ${mb(bound)}`);
  console.log(`RSS after the first (normal) cycle: ${mb(before.rss)} (peak so far ${mb(before.peak)})`);
  console.log(`after ${bombsServed} bomb cycles: RSS ${mb(after.rss)}, peak RSS (VmHWM) ${mb(after.peak)}`);
  console.log(`growth of the peak over the RSS after the normal cycle: ${mb(after.peak - before.rss)}`);
  console.log(`the failed cycle's error: ${bad.error}`);
  const sizeError = /size limit/.test(bad.error ?? "");
  if (!sizeError) console.log("FAIL: the cycle did not fail with the size-limit error");
  if (after.peak >= bound) console.log(`FAIL: the peak RSS ${mb(after.peak)} is not under ${mb(bound)}`);
  failed = sizeError && after.peak < bound ? 0 : 1;
  console.log(failed === 0 ? "PASS" : "FAIL");
} finally {
  await child.stop();
  await upstream.shutdown();
}
Deno.exit(failed);
