/** Shared test data and helpers for the snapshot store tests (not a test file itself). */
import { toRfc3339 } from "../../src/core/report.ts";
import type { SnapshotRow } from "../../src/persistence/snapshot.ts";

export const BASE_MS = Date.UTC(2024, 4, 1, 12, 0, 0);
export const MINUTE_MS = 60_000;

/** Row i: computed i minutes after BASE_MS, for signal "alpha" and a one-hour window. */
export function row(i: number, overrides: Partial<SnapshotRow> = {}): SnapshotRow {
  const ms = BASE_MS + i * MINUTE_MS;
  return {
    computed_at: toRfc3339(ms),
    signal: "alpha",
    window_sec: 3600,
    start_ts: toRfc3339(ms - 3_600_000),
    end_ts: toRfc3339(ms),
    n: 100 + i,
    mean: 0.5 + i / 1000,
    stdev: 0.01 * (i + 1),
    volatility_index: 0.02,
    risk: "low",
    source: "mock_file:fixtures/points.json",
    engine_version: "0.1.0",
    ...overrides,
  };
}

/** Rows that stress exact round-trips: awkward floats, nulls, the pooled signal, unicode, commas and quotes. */
export function trickyRows(): SnapshotRow[] {
  return [
    row(0, { mean: 0.1 + 0.2, stdev: 1e-17, volatility_index: 1e-17 / (0.1 + 0.2) }),
    row(1, { signal: "*", mean: null, stdev: null, volatility_index: null, risk: "unknown", n: 0 }),
    row(2, { signal: "信号-α 🚀", mean: 5e-324, stdev: Number.MAX_VALUE, volatility_index: -1.5e-300 }),
    row(3, { source: 'mock_file:"odd, name".json', mean: 1 / 3, stdev: 2 / 3, risk: "high" }),
    row(4, { signal: 'a,"b"', source: ",", mean: 123456789.12345679, stdev: 0, volatility_index: 0 }),
    row(5, { computed_at: "2024-05-01T12:05:00.123Z", mean: 0.7000000000000001, risk: "medium" }),
    row(6, { computed_at: "2024-05-01T12:06:00.123456Z", source: "", mean: -0.25 }),
    row(7, { signal: "'quoted'", engine_version: "1.2.3-rc.1+build.5", n: 2 ** 40 }),
  ];
}

/** Creates a temp dir, runs `fn` in it, and removes it afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "snapshot_store_test_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs crash_writer.ts (or another writer script beside it, printing "appended i") in a child process. */
export function spawnWriter(args: string[], script = "./crash_writer.ts"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(script, import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Reads the writer's "appended i" lines. With `killAfter`, sends SIGKILL once that many appends are
 * acknowledged. Resolves to the highest acknowledged i (-1 if none) and the exit status.
 */
export async function watchWriter(
  child: Deno.ChildProcess,
  killAfter?: number,
): Promise<{ lastAcked: number; status: Deno.CommandStatus; stderr: string }> {
  const stderr = new Response(child.stderr).text();
  let lastAcked = -1;
  let buffered = "";
  let killed = false;
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      const match = /^appended (\d+)$/.exec(line);
      if (match) lastAcked = Math.max(lastAcked, Number(match[1]));
    }
    if (!killed && killAfter !== undefined && lastAcked + 1 >= killAfter) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  return { lastAcked, status: await child.status, stderr: await stderr };
}
