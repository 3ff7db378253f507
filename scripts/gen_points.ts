/**
 * Writes a large mock data file in the upstream shape (`{ "data": [...], "next_cursor": null }`) for the
 * performance scripts: `count` records round-robin over four signals, the newest at `endMs`, one record per
 * signal every `stepMs` (default 300 ms: 1M records span about 21 h, inside a 24 h window). Scores come from
 * the mock upstream's seeded generator, so a file is the same for the same options.
 *
 *   deno run --allow-write scripts/gen_points.ts /tmp/points.json 1000000
 *
 * @module
 */
import { generateRecords, mulberry32 } from "../src/mock/darshan_server.ts";

export const PERF_SIGNALS = ["alpha", "beta", "gamma", "delta"] as const;

export interface GenPointsOptions {
  count: number;
  /** Timestamp of the newest records (rounded down to the step). Default now. */
  endMs?: number;
  stepMs?: number;
  seed?: number;
}

/** Streams the file in chunks (a 1M-record file is about 130 MB); returns its size in bytes. */
export async function writeMockFile(path: string, options: GenPointsOptions): Promise<number> {
  const { count, endMs = Date.now(), stepMs = 300, seed = 1 } = options;
  const records = generateRecords(count, { random: mulberry32(seed), endMs, stepMs, signals: PERF_SIGNALS });
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let bytes = 0;
  const write = async (text: string) => {
    const chunk = encoder.encode(text);
    bytes += chunk.length;
    let written = 0;
    while (written < chunk.length) written += await file.write(chunk.subarray(written));
  };
  try {
    await write('{"data":[');
    const CHUNK = 10_000;
    for (let i = 0; i < records.length; i += CHUNK) {
      const part = records.slice(i, i + CHUNK).map((r) => JSON.stringify(r)).join(",");
      await write((i > 0 ? "," : "") + part);
    }
    await write('],"next_cursor":null}\n');
  } finally {
    file.close();
  }
  return bytes;
}

if (import.meta.main) {
  const [path, count = "1000000"] = Deno.args;
  if (!path) {
    console.error("usage: deno run --allow-write scripts/gen_points.ts <out.json> [count]");
    Deno.exit(2);
  }
  const bytes = await writeMockFile(path, { count: Number(count) });
  console.log(`wrote ${Number(count)} records (${(bytes / 1e6).toFixed(1)} MB) to ${path}`);
}
