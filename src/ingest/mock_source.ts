/**
 * A `Source` backed by a local JSON file in the upstream's shape (`{ "data": [...] }`) or a bare array:
 * replayed against the wall clock (`mock_replay`, the default) or served with its own timestamps
 * (`mock_file`: everything on the first pull, no pull window).
 */
import { type Dialect, DIALECTS } from "./dialect.ts";
import { normalizeRecords, recordsOf } from "./normalize.ts";
import { createReplay, type Replay } from "./replay.ts";
import { emptyStats, type PullResult, type Source } from "./source.ts";

/** The bundled fixture, located so that `deno compile --include fixtures` embeds it. */
export const BUNDLED_FIXTURE = new URL("../../fixtures/signals.json", import.meta.url);

export class MockFileError extends Error {
  override name = "MockFileError";
}

export interface MockSourceOptions {
  /** File path or URL of the mock data. */
  path: string | URL;
  replay: boolean;
  /** Replay anchor: the newest record lands here (default: now at first pull). */
  anchorMs?: number;
  dialect?: Dialect;
  readTextFile?: (path: string | URL) => Promise<string>;
  now?: () => number;
}

/** Reads and normalises the mock file; throws {@linkcode MockFileError} when it is unreadable or not our shape. */
export async function loadMockFile(
  path: string | URL,
  { dialect = DIALECTS.darshan, readTextFile = Deno.readTextFile }: Pick<
    MockSourceOptions,
    "dialect" | "readTextFile"
  > = {},
) {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw new MockFileError(`Cannot read mock file ${String(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new MockFileError(`Cannot parse mock file ${String(path)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const records = recordsOf(body, dialect);
  if (records === null) {
    throw new MockFileError(
      `Mock file ${String(path)} has no records: expected { "data": [...] } or a bare array of records`,
    );
  }
  return { records: records.length, ...normalizeRecords(records, dialect) };
}

export function createMockSource(options: MockSourceOptions): Source {
  const { path, replay, now = Date.now } = options;
  let loaded: Promise<{ replay: Replay | null; result: PullResult }> | null = null;
  let served = false;
  const location = path instanceof URL && path.href === BUNDLED_FIXTURE.href
    ? "fixtures/signals.json (bundled)"
    : path instanceof URL
    ? path.pathname
    : path;

  function load() {
    loaded ??= loadMockFile(path, options).then((file) => {
      const stats = { ...emptyStats(), pages: 1, received: file.records, rejected: file.rejected };
      const result = { points: file.points, stats };
      return { replay: replay ? createReplay(file.points, options.anchorMs ?? now()) : null, result };
    }, (error) => {
      // A failed load is not cached: the next pull (next cycle) reads the file again.
      loaded = null;
      throw error;
    });
    return loaded;
  }

  return {
    kind: replay ? "mock_replay" : "mock_file",
    location,
    unbounded: !replay,
    async pull(fromMs: number, toMs: number): Promise<PullResult> {
      const { replay: r, result } = await load();
      if (r === null) {
        if (served) return { points: [], stats: emptyStats() };
        served = true;
        return result;
      }
      const points = r.between(fromMs, toMs);
      // Rejections are counted once, on the first pull, as a live upstream would count them per record served.
      const stats = served
        ? { ...emptyStats(), received: points.length }
        : { ...result.stats, received: points.length + (result.stats.received - result.points.length) };
      served = true;
      return { points, stats: { ...stats, pages: 1 } };
    },
  };
}
