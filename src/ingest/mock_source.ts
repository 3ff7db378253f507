/**
 * A `Source` backed by a local JSON file in the upstream's shape (`{ "data": [...] }`) or a bare array:
 * replayed against the wall clock (`mock_replay`, the default) or served with its own timestamps
 * (`mock_file`: everything on the first pull, no pull window).
 *
 * A file larger than `streamAboveBytes` (default 4 MB) is read in 64 KiB chunks, each chunk's records parsed
 * and normalised into one column pair per signal (`record_stream.ts`): JSON.parse of a whole million-record
 * file holds the event loop for over a second (every request waits, `/health` included) and needs several
 * hundred MB at its peak, which the allocator keeps afterwards. The columns are applied in one step when
 * the file is read, so readers never see part of it.
 */
import { type Dialect, DIALECTS } from "./dialect.ts";
import { type NormalizedPoint, normalizeRecords, recordsOf, type RejectReason } from "./normalize.ts";
import { recordBatches, RecordStreamError } from "./record_stream.ts";
import { createReplay, type Replay } from "./replay.ts";
import { emptyStats, type PointColumns, type PullResult, type Source } from "./source.ts";

/** Files above this size are read in chunks by default. */
const STREAM_ABOVE_BYTES = 4 * 1024 * 1024;
/** Small enough that each chunk's text and records die young in V8's new space. */
const CHUNK_BYTES = 64 * 1024;

/** The bundled fixture, located so that `deno compile --include fixtures` embeds it. */
export const BUNDLED_FIXTURE = new URL("../../fixtures/signals.json", import.meta.url);

export class MockFileError extends Error {
  override name = "MockFileError";
}

const SHAPE = '{ "data": [...] } or a bare array of records';
const fileError = (verb: "read" | "parse", path: string | URL, error: unknown) =>
  new MockFileError(`Cannot ${verb} mock file ${String(path)}: ${(error as Error).message}`, {
    cause: error,
  });
const noRecords = (path: string | URL) =>
  new MockFileError(`Mock file ${String(path)} has no records: expected ${SHAPE}`);

export interface MockSourceOptions {
  /** File path or URL of the mock data. */
  path: string | URL;
  replay: boolean;
  /** Replay anchor: the newest record lands here (default: now at first pull). */
  anchorMs?: number;
  dialect?: Dialect;
  readTextFile?: (path: string | URL) => Promise<string>;
  now?: () => number;
  /**
   * Files larger than this are read in chunks (default {@linkcode STREAM_ABOVE_BYTES}; `Infinity`: never).
   * Not used with an injected `readTextFile`.
   */
  streamAboveBytes?: number;
}

/** What a load hands on: `points` (a small file) or `columns` (a large file read in chunks), never both. */
interface LoadedFile {
  records: number;
  points: NormalizedPoint[];
  columns: PointColumns[];
  rejected: Partial<Record<RejectReason, number>>;
}

/** Points as (ts, score) columns per signal, signal, ts and score only (the inverse of grouping by signal). */
function pointsOfColumns(columns: readonly PointColumns[]): NormalizedPoint[] {
  const out: NormalizedPoint[] = [];
  for (const { signal, ts, score } of columns) {
    for (let i = 0; i < ts.length; i++) out.push({ signal, ts: ts[i], score: score[i] });
  }
  return out;
}

/** Growable (ts, score) columns of one signal. */
class ColumnBuilder {
  ts = new Float64Array(1024);
  score = new Float64Array(1024);
  length = 0;

  push(ts: number, score: number): void {
    if (this.length === this.ts.length) {
      const grow = (old: Float64Array) => {
        const next = new Float64Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.ts = grow(this.ts);
      this.score = grow(this.score);
    }
    this.ts[this.length] = ts;
    this.score[this.length++] = score;
  }
}

/** The file's bytes in chunks of `chunkBytes`, read into one buffer: a chunk is valid until the next is asked for. */
async function* fileChunks(path: string | URL, chunkBytes: number): AsyncGenerator<Uint8Array> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(chunkBytes);
  while (true) {
    const n = await file.read(buffer);
    if (n === null) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * Reads a mock file in chunks, normalising each chunk's records into columns per signal, so neither the whole
 * text nor the whole parsed document is ever held. Throws {@linkcode MockFileError} like {@linkcode loadMockFile}.
 */
export async function loadMockFileInChunks(
  path: string | URL,
  { dialect = DIALECTS.darshan, chunkBytes = CHUNK_BYTES }: { dialect?: Dialect; chunkBytes?: number } = {},
  chunks: (path: string | URL, chunkBytes: number) => AsyncIterable<Uint8Array> = fileChunks,
): Promise<LoadedFile> {
  const builders = new Map<string, ColumnBuilder>();
  const rejected: LoadedFile["rejected"] = {};
  let records = 0;
  try {
    // Errors from the chunks themselves are read errors; recordBatches throws RecordStreamError for the text.
    for await (const batch of recordBatches(chunks(path, chunkBytes), dialect.body.data)) {
      records += batch.length;
      const normalized = normalizeRecords(batch, dialect);
      for (const [reason, count] of Object.entries(normalized.rejected)) {
        rejected[reason as RejectReason] = (rejected[reason as RejectReason] ?? 0) + (count ?? 0);
      }
      for (const p of normalized.points) {
        let builder = builders.get(p.signal);
        if (builder === undefined) builders.set(p.signal, builder = new ColumnBuilder());
        builder.push(p.ts, p.score);
      }
    }
  } catch (error) {
    if (error instanceof RecordStreamError && error.kind === "no_records") throw noRecords(path);
    throw fileError(error instanceof RecordStreamError ? "parse" : "read", path, error);
  }
  const columns = [...builders].map(([signal, b]) => ({
    signal,
    ts: b.ts.subarray(0, b.length),
    score: b.score.subarray(0, b.length),
  }));
  return { records, points: [], columns, rejected };
}

async function fileSize(path: string | URL): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0; // the load that follows reports the error
  }
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
    throw fileError("read", path, error);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw fileError("parse", path, error);
  }
  const records = recordsOf(body, dialect);
  if (records === null) throw noRecords(path);
  return { records: records.length, ...normalizeRecords(records, dialect) };
}

/** The first bytes a large mock file's check reads. */
const SNIFF_BYTES = 4096;

/**
 * Checks, at start-up, that a mock file can be used: it exists, is a readable file, and holds JSON of our shape
 * (parsed whole up to `streamAboveBytes`; a larger file must at least begin like JSON, and the rest is checked
 * when it is read). Throws {@linkcode MockFileError} whose message says what is wrong in a few words, without
 * the path (the caller names MOCK_PATH).
 */
export async function checkMockFile(
  path: string | URL,
  { dialect = DIALECTS.darshan, streamAboveBytes = STREAM_ABOVE_BYTES }: {
    dialect?: Dialect;
    streamAboveBytes?: number;
  } = {},
): Promise<void> {
  const unreadable = (error: unknown) =>
    new MockFileError(`cannot read it: ${(error as Error).message}`, { cause: error });
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw unreadable(error);
  }
  if (!info.isFile) throw new MockFileError("it is not a file");
  let text: string;
  try {
    if (info.size <= streamAboveBytes) {
      text = await Deno.readTextFile(path);
    } else {
      using file = await Deno.open(path, { read: true });
      const buffer = new Uint8Array(SNIFF_BYTES);
      text = new TextDecoder().decode(buffer.subarray(0, (await file.read(buffer)) ?? 0));
    }
  } catch (error) {
    throw unreadable(error);
  }
  if (info.size > streamAboveBytes) {
    if (!/^\uFEFF?\s*[[{]/.test(text)) throw new MockFileError(`it is not JSON: expected ${SHAPE}`);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new MockFileError(`it is not JSON (${(error as Error).message}): expected ${SHAPE}`, {
      cause: error,
    });
  }
  if (recordsOf(body, dialect) === null) throw new MockFileError(`it has no records: expected ${SHAPE}`);
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

  async function read(): Promise<LoadedFile> {
    const { dialect = DIALECTS.darshan, streamAboveBytes = STREAM_ABOVE_BYTES } = options;
    if (options.readTextFile === undefined && (await fileSize(path)) > streamAboveBytes) {
      return await loadMockFileInChunks(path, { dialect });
    }
    const file = await loadMockFile(path, options);
    return { records: file.records, points: file.points, columns: [], rejected: file.rejected };
  }

  function load() {
    loaded ??= read().then((file) => {
      const stats = { ...emptyStats(), pages: 1, received: file.records, rejected: file.rejected };
      if (!replay) return { replay: null, result: { points: file.points, columns: file.columns, stats } };
      const points = file.columns.length > 0 ? pointsOfColumns(file.columns) : file.points;
      return { replay: createReplay(points, options.anchorMs ?? now()), result: { points, stats } };
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
        // From now on the store holds the points: keep no second copy of a large file.
        loaded = Promise.resolve({ replay: null, result: { points: [], stats: emptyStats() } });
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
