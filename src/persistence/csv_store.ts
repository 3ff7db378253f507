/**
 * CSV snapshot store (`PERSISTENCE=csv`): `DATA_DIR/rolling_store.csv`, the header (the column names) once,
 * then one line per row.
 *
 * Writing: each append is one write of complete lines to the file opened for appending (a short write is
 * continued, which on a local disk does not happen). An append that fails (a full disk) truncates the file
 * back to its size before the write, so a failed append leaves no row behind: the rows on file are exactly the
 * rows whose appends succeeded. Numbers are written with `String(x)`, which round-trips
 * every double exactly; null is an empty field; `engine_version`, the last field, is always quoted. Appends
 * are not fsynced (like SQLite's `synchronous=NORMAL`: a process crash loses nothing written, a power loss may
 * lose the last appends).
 *
 * Crash safety. A crash mid-append can leave a torn last line: a prefix of a row, without its newline.
 * - The next append sees that the file does not end with "\n" and starts its write with one, so the new rows
 *   begin on a fresh line and the torn one stays a separate line.
 * - Reading, a line is taken only if it is complete: it ends with the closing quote of the always-quoted last
 *   field and holds an even number of quotes (fields hold no line breaks, so a record is exactly one line),
 *   then parses to 12 fields that pass {@linkcode SnapshotRowSchema}. A torn line always fails this — without
 *   the quoted last field, a row torn inside `engine_version` (`…,0.1` of `…,0.1.0`) would read as valid.
 *   Unreadable lines are skipped, counted in `skippedLines`, and logged; they never affect their neighbours.
 * - A file holding only a torn header (a prefix of ours) is rewritten with the full header.
 *
 * A file whose header is not ours is refused with a {@linkcode SnapshotStoreError} naming the file, the header
 * found and the one expected; it is never written to. Retention rewrites the kept lines to a temp file in the
 * same directory, fsyncs it and renames it over the store (atomic), dropping unreadable lines on the way.
 *
 * Reads scan the whole file (O(file size)): lines of other series are skipped by their encoded
 * `signal,window_sec` prefix, the rest are ordered by their computed_at, and only the newest `limit` are parsed
 * with csv-parse and validated. SQLite is the mode for frequent history reads. One operation runs at a time
 * per store (appends, reads and prunes queue), so a read never sees this store's half-written lines; one
 * process should write a file.
 */
import { stringify } from "csv-stringify/sync";
import { getLogger } from "@logtape/logtape";
import {
  appendCsv,
  checkHeader,
  fieldValue,
  isNotFound,
  looksComplete,
  parseLines,
  replaceAtomically,
} from "./csv_file.ts";
import {
  computedAtMs,
  type HistoryQuery,
  newest,
  SNAPSHOT_COLUMNS,
  type SnapshotRow,
  SnapshotRowSchema,
  type SnapshotStore,
  SnapshotStoreError,
  storeError,
  validateBeforeMs,
  validateQuery,
  validateRows,
} from "./snapshot.ts";

const log = getLogger(["coherence", "persistence"]);

/** The header line, without its newline. */
export const CSV_HEADER = SNAPSHOT_COLUMNS.join(",");

const FIELD_COUNT = SNAPSHOT_COLUMNS.length;
const LAST_FIELD = FIELD_COUNT - 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const STRINGIFY_OPTIONS = {
  cast: {
    string: (value: string, context: { index: number }) =>
      context.index === LAST_FIELD ? { value, quoted: true } : value,
  },
};

/** The rows as CSV lines, each ending in "\n": null as an empty field, numbers by `String(x)`. */
export function encodeRows(rows: readonly SnapshotRow[]): string {
  const fields = (row: SnapshotRow) => SNAPSHOT_COLUMNS.map((column) => String(row[column] ?? ""));
  return stringify(rows.map(fields), STRINGIFY_OPTIONS);
}

/** A parsed record as a validated row, or null. */
function toRow(fields: string[] | null): SnapshotRow | null {
  if (fields === null || fields.length !== FIELD_COUNT) return null;
  const row = Object.fromEntries(
    SNAPSHOT_COLUMNS.map((column, i) => [column, fieldValue(column, fields[i])]),
  );
  const result = SnapshotRowSchema.safeParse(row);
  return result.success ? result.data : null;
}

/** The data lines of a file's text, after checking its header; the text of a missing file is "". */
function dataLines(text: string, path: string): string[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text === "") return [];
  if (!checkHeader(text, path, CSV_HEADER, "snapshot store", "read")) return []; // a torn header, nothing else
  const lines = text.split("\n");
  // A final "" is the text after the last newline; anything else there is an unterminated (torn?) line.
  if (lines[lines.length - 1] === "") lines.pop();
  const data = lines.slice(1);
  for (let i = 0; i < data.length; i++) if (data[i].endsWith("\r")) data[i] = data[i].slice(0, -1);
  return data;
}

export class CsvSnapshotStore implements SnapshotStore {
  readonly mode = "csv";
  readonly location: string;
  /** Lines the most recent read or prune found unreadable (torn or invalid) and skipped. A history read checks
   * every line's shape, but parses and validates only the lines of its series it needs for the limit. */
  skippedLines = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(path: string) {
    this.location = path;
  }

  /** Runs `op` after every earlier operation of this store has settled. */
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new SnapshotStoreError(`Snapshot store "${this.location}" is closed`);
      return op();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #noteSkipped(count: number): void {
    if (count > 0 && count !== this.skippedLines) {
      log.warn("Skipped {count} unreadable lines (torn or invalid) in {path}", {
        count,
        path: this.location,
      });
    }
    this.skippedLines = count;
  }

  async #readText(): Promise<string> {
    try {
      return await Deno.readTextFile(this.location);
    } catch (error) {
      if (isNotFound(error)) return "";
      throw error;
    }
  }

  async append(rows: readonly SnapshotRow[]): Promise<void> {
    validateRows(rows);
    if (rows.length === 0) return;
    const body = encodeRows(rows);
    return await this.#serial(async () => {
      try {
        await appendCsv(this.location, CSV_HEADER, encoder.encode(body));
      } catch (error) {
        throw storeError(`Cannot append ${rows.length} snapshot rows to "${this.location}"`, error);
      }
    });
  }

  async history(query: HistoryQuery): Promise<SnapshotRow[]> {
    validateQuery(query);
    if (query.limit === 0) return [];
    // The encoded `signal,window_sec,` that follows computed_at (which holds no comma or quote) on our lines.
    const key = `${stringify([[query.signal, String(query.windowSec)]]).slice(0, -1)},`;
    const since = query.sinceMs ?? -Infinity;
    return await this.#serial(async () => {
      let lines: string[];
      try {
        lines = dataLines(await this.#readText(), this.location);
      } catch (error) {
        throw storeError(`Cannot read snapshot history from "${this.location}"`, error);
      }
      let skipped = 0;
      // Candidates: complete lines of the series, with computed_at (the unquoted first field) ≥ since.
      const candidates: { line: string; ms: number }[] = [];
      for (const line of lines) {
        if (line === "") continue;
        if (!looksComplete(line)) {
          skipped++;
          continue;
        }
        const comma = line.indexOf(",");
        if (comma <= 0 || !line.startsWith(key, comma + 1)) continue;
        const ms = Date.parse(line.slice(0, comma));
        if (Number.isNaN(ms)) skipped++;
        else if (ms >= since) candidates.push({ line, ms });
      }
      // Stable: rows with equal times keep file (insertion) order. Then parse and validate from the newest
      // back, only as many lines as the limit needs (more if some turn out invalid).
      candidates.sort((a, b) => a.ms - b.ms);
      const chunks: SnapshotRow[][] = [];
      let found = 0;
      for (let end = candidates.length; end > 0 && found < query.limit;) {
        const start = Math.max(0, end - (query.limit - found));
        const chunk: SnapshotRow[] = [];
        for (const fields of parseLines(candidates.slice(start, end).map((c) => c.line))) {
          const row = toRow(fields);
          if (row === null) skipped++;
          else if (row.signal === query.signal && row.window_sec === query.windowSec) chunk.push(row);
        }
        chunks.unshift(chunk);
        found += chunk.length;
        end = start;
      }
      this.#noteSkipped(skipped);
      return newest(chunks.flat(), query.limit);
    });
  }

  async prune(beforeMs: number): Promise<number> {
    validateBeforeMs(beforeMs);
    return await this.#serial(async () => {
      try {
        const lines = dataLines(await this.#readText(), this.location);
        const complete = lines.filter((line) => line !== "" && looksComplete(line));
        let skipped = lines.filter((line) => line !== "").length - complete.length;
        const parsed = parseLines(complete);
        const kept: string[] = [];
        let deleted = 0;
        for (let i = 0; i < complete.length; i++) {
          const row = toRow(parsed[i]);
          if (row === null) skipped++;
          else if (computedAtMs(row) < beforeMs) deleted++;
          else kept.push(complete[i]);
        }
        this.#noteSkipped(skipped);
        if (deleted === 0 && skipped === 0) return 0;
        await replaceAtomically(
          this.location,
          `${CSV_HEADER}\n${kept.map((line) => `${line}\n`).join("")}`,
        );
        this.skippedLines = 0;
        return deleted;
      } catch (error) {
        throw storeError(`Cannot prune snapshots in "${this.location}"`, error);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const pending = this.#queue;
    this.#closed = true;
    await pending;
  }
}

/**
 * Opens the CSV store at `path`, creating the file with the header if it is missing or empty. Throws
 * {@linkcode SnapshotStoreError} if the file has another header (the file is left untouched) or cannot be read
 * or created.
 */
export async function openCsvStore(path: string): Promise<CsvSnapshotStore> {
  try {
    let head: string | null;
    try {
      const file = await Deno.open(path, { read: true });
      try {
        // The header is 118 bytes; 4 KiB holds it and tells whether the file continues.
        const buffer = new Uint8Array(4096);
        const read = await file.read(buffer);
        head = read === null ? "" : decoder.decode(buffer.subarray(0, read));
      } finally {
        file.close();
      }
    } catch (error) {
      if (!isNotFound(error)) throw error;
      head = null;
    }
    if (head === null || head === "") {
      await Deno.writeTextFile(path, `${CSV_HEADER}\n`, { append: true });
    } else {
      if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
      if (!checkHeader(head, path, CSV_HEADER, "snapshot store")) {
        await replaceAtomically(path, `${CSV_HEADER}\n`); // a torn header, nothing else
      }
    }
  } catch (error) {
    throw storeError(`Cannot open snapshot store "${path}"`, error);
  }
  return new CsvSnapshotStore(path);
}
