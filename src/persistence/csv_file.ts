/**
 * The file handling the CSV stores share (snapshots in `csv_store.ts`, transitions in `csv_transitions.ts`):
 * one header line, then one record per line, every field free of line breaks, the last field always quoted.
 *
 * - {@linkcode appendCsv} writes complete lines in one append; a file whose last line is torn (a crash
 *   mid-write) gets a "\n" first, so new lines never glue onto the torn one; a failed write is cut back off.
 * - {@linkcode looksComplete} tells a whole line from a torn one before parsing; {@linkcode parseLines} parses.
 * - {@linkcode checkHeader} refuses a file that is not ours; {@linkcode replaceAtomically} rewrites a file via a
 *   fsynced temp file and a rename.
 */
import { basename, dirname } from "node:path";
import { parse } from "csv-parse/sync";
import { errorMessage, SnapshotStoreError } from "./snapshot.ts";

const QUOTE = 0x22;
const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/** True when the line can be a whole record: it ends with a closing quote and its quotes are balanced. */
export function looksComplete(line: string): boolean {
  if (line.charCodeAt(line.length - 1) !== QUOTE) return false;
  let quotes = 0;
  for (let i = 0; i < line.length; i++) if (line.charCodeAt(i) === QUOTE) quotes++;
  return quotes % 2 === 0;
}

/**
 * Parses complete-looking lines with csv-parse: all at once, or line by line if that fails (a malformed line
 * then fails alone). Result i is line i's fields, or null.
 */
export function parseLines(lines: readonly string[]): (string[] | null)[] {
  if (lines.length === 0) return [];
  try {
    const records: string[][] = parse(lines.join("\n"), { relax_column_count: true });
    if (records.length === lines.length) return records;
  } catch {
    // fall through to line by line
  }
  return lines.map((line) => {
    try {
      const records: string[][] = parse(line, { relax_column_count: true });
      return records.length === 1 ? records[0] : null;
    } catch {
      return null;
    }
  });
}

/** Decimal literals as `String(x)` writes them (and only those: no hex, blanks or Infinity). */
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const NUMBER_COLUMNS = new Set<string>(["window_sec", "n"]);
const NULLABLE_NUMBER_COLUMNS = new Set<string>(["mean", "stdev", "volatility_index"]);

/**
 * A field read back as its column's type: `window_sec` and `n` numbers; `mean`, `stdev`, `volatility_index`
 * numbers or null (an empty field); anything else text. A number column's field that is not a number: undefined.
 */
export function fieldValue(column: string, field: string): string | number | null | undefined {
  const number = NUMBER.test(field) ? Number(field) : undefined;
  if (NULLABLE_NUMBER_COLUMNS.has(column)) return field === "" ? null : number;
  return NUMBER_COLUMNS.has(column) ? number : field;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound;
}

/**
 * The header check: true when the first line of `text` (a file's start, BOM removed, holding at least that
 * line) is `header`; false when the text is only a torn prefix of it; otherwise throws a
 * {@linkcode SnapshotStoreError} naming the file (`what`, e.g. `snapshot store`) and the header found.
 */
export function checkHeader(
  text: string,
  path: string,
  header: string,
  what: string,
  verb = "open",
): boolean {
  const newline = text.indexOf("\n");
  const first = newline === -1 ? text : text.slice(0, newline);
  const found = first.endsWith("\r") ? first.slice(0, -1) : first;
  if (found === header) return true;
  if (newline === -1 && header.startsWith(text)) return false;
  const shown = found.length > 200 ? `${found.slice(0, 200)}…` : found;
  throw new SnapshotStoreError(
    `Cannot ${verb} ${what} "${path}": its CSV header is ${JSON.stringify(shown)}, expected ` +
      `${JSON.stringify(header)}; the file was left unchanged (move it away or point DATA_DIR elsewhere)`,
  );
}

export async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let written = 0; written < data.length;) written += await file.write(data.subarray(written));
}

/**
 * Writes `data` to a temp file beside `path`, fsyncs it and renames it over `path`, keeping its mode (a new
 * file gets 0644).
 */
export async function replaceAtomically(path: string, data: string | Uint8Array): Promise<void> {
  let mode: number | null = 0o644;
  try {
    mode = (await Deno.stat(path)).mode;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const temp = await Deno.makeTempFile({ dir: dirname(path), prefix: `.${basename(path)}.`, suffix: ".tmp" });
  try {
    if (mode !== null) await Deno.chmod(temp, mode & 0o777); // temp files are created 0600
    const file = await Deno.open(temp, { write: true, truncate: true });
    try {
      await writeAll(file, typeof data === "string" ? encoder.encode(data) : data);
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/**
 * Appends `body` (complete lines, each ending in "\n") to the CSV file at `path` in one write: after the header
 * when the file is empty or new, after a "\n" when its last line is torn. A failed write is cut back off, so
 * it lands nothing. Resolves to the byte offset at which `body` starts in the file.
 */
export async function appendCsv(path: string, header: string, body: Uint8Array): Promise<number> {
  const file = await Deno.open(path, { read: true, append: true, create: true });
  try {
    let prefix = "";
    const size = (await file.stat()).size;
    if (size === 0) {
      prefix = `${header}\n`;
    } else {
      const last = new Uint8Array(1);
      await file.seek(-1, Deno.SeekMode.End);
      // A torn last line: start on a fresh line rather than glue the new rows onto it.
      if (await file.read(last) !== 1 || last[0] !== NEWLINE) prefix = "\n";
    }
    const head = encoder.encode(prefix);
    const data = new Uint8Array(head.length + body.length);
    data.set(head);
    data.set(body, head.length);
    try {
      await writeAll(file, data);
    } catch (error) {
      // A failed append lands nothing: cut off whatever part of it did land (a full disk).
      await file.truncate(size).catch((cause) => {
        throw new Error(
          `${errorMessage(error)}; then cannot cut the file back to its ${size} bytes: ` +
            `${errorMessage(cause)} (the partial rows are kept; reads skip a torn last line)`,
          { cause: error },
        );
      });
      throw error;
    }
    return size + head.length;
  } finally {
    file.close();
  }
}
