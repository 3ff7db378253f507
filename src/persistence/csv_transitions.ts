/**
 * The transitions log in CSV (`PERSISTENCE=csv`): `DATA_DIR/risk_transitions.csv`, the header
 * ({@linkcode TRANSITION_COLUMNS}) once, then one line per transition; `nearest_boundary` is JSON text (`null`
 * or the object) and, as the last field, always quoted. Delivery cursors in `DATA_DIR/alert_delivery.json`.
 *
 * - Writing and crash safety are the snapshot CSV's (`csv_file.ts`): an append is one write of whole lines;
 *   a torn last line (a crash mid-write) is skipped on reading and the next append starts on a fresh line. A
 *   torn line never reads as valid: its last field is cut, so it is not whole JSON, or the line lacks it.
 * - An index held in memory, built once at open: per transition its `(at, id)`, key and byte range in the file,
 *   sorted in log order; the set of ids (so a retried append is skipped); the newest transition of every key.
 *   `append` and `latest` touch no file reads; `list` and `after` read only the lines they return (one ranged
 *   read); `countAfter` and `cursor` read nothing. The index costs ~150 bytes per transition and is bounded
 *   by `prune()`, which rewrites the file atomically (temp file, fsync, rename) without the pruned and unreadable
 *   lines.
 * - Cursors: the whole JSON file rewritten atomically (temp file, fsync, rename) on every `setCursor`.
 * - One operation at a time per log (they queue); one process should write the files. A file with another
 *   header, or a cursor file that is not ours, is a {@linkcode SnapshotStoreError} at open, and is left as it was.
 */
import { join } from "node:path";
import { stringify } from "csv-stringify/sync";
import { getLogger } from "@logtape/logtape";
import { alertKeyId, type Transition } from "../core/alerts.ts";
import {
  appendCsv,
  checkHeader,
  fieldValue,
  isNotFound,
  looksComplete,
  parseLines,
  replaceAtomically,
} from "./csv_file.ts";
import { SnapshotStoreError, storeError } from "./snapshot.ts";
import { DeliveryCursorSchema, parseCursor, validateLimit, validateTarget } from "./transition_checks.ts";
import { fromRecord, toRecord, validateTransitions } from "./transition_records.ts";
import {
  compareTransitions,
  type DeliveryCursor,
  TRANSITION_COLUMNS,
  type TransitionLog,
  type TransitionQuery,
  TRANSITIONS_CSV,
} from "./transitions.ts";
import { z } from "zod";

const log = getLogger(["coherence", "persistence"]);

/** The header line, without its newline. */
export const TRANSITIONS_CSV_HEADER = TRANSITION_COLUMNS.join(",");
/** The cursor file's name under `DATA_DIR`. */
export const DELIVERY_JSON = "alert_delivery.json";

const LAST_FIELD = TRANSITION_COLUMNS.length - 1;
const NEWLINE = 0x0a;
/** Lines closer than this share one read. */
const SPAN_GAP = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const STRINGIFY_OPTIONS = {
  cast: {
    string: (value: string, context: { index: number }) =>
      context.index === LAST_FIELD ? { value, quoted: true } : value,
  },
};
const CursorFileSchema = z.record(z.string(), DeliveryCursorSchema);

/** A transition's place in the log and in the file. */
interface Entry {
  atMs: number;
  id: string;
  signal: string;
  windowSec: number;
  /** Byte range of its line in the file, without the newline. */
  offset: number;
  length: number;
}

function compareEntries(a: Entry, b: Entry): number {
  return a.atMs - b.atMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The transition as one CSV line, without its newline. */
function encodeLine(t: Transition): string {
  const record = toRecord(t);
  return stringify([TRANSITION_COLUMNS.map((c) => String(record[c] ?? ""))], STRINGIFY_OPTIONS).slice(0, -1);
}

/** Parsed CSV fields as a validated transition, or null. */
function decodeFields(fields: string[] | null): Transition | null {
  if (fields === null || fields.length !== TRANSITION_COLUMNS.length) return null;
  return fromRecord(Object.fromEntries(TRANSITION_COLUMNS.map((c, i) => [c, fieldValue(c, fields[i])])));
}

/** The data lines of a file (after the header line), with their byte ranges; the unterminated tail apart. */
function splitLines(bytes: Uint8Array): { lines: { offset: number; length: number }[]; tail: number } {
  const lines: { offset: number; length: number }[] = [];
  let start = bytes.indexOf(NEWLINE) + 1; // the header line's end (0 when there is none)
  if (start === 0) return { lines, tail: 0 };
  for (let end = bytes.indexOf(NEWLINE, start); end !== -1; end = bytes.indexOf(NEWLINE, start)) {
    let length = end - start;
    if (length > 0 && bytes[end - 1] === 0x0d) length--;
    if (length > 0) lines.push({ offset: start, length });
    start = end + 1;
  }
  return { lines, tail: bytes.length - start };
}

export class CsvTransitionLog implements TransitionLog {
  readonly location: string;
  readonly cursorFile: string;
  /** Lines found unreadable (torn or invalid) and skipped when the file was last indexed. */
  skippedLines = 0;
  #entries: Entry[] = [];
  #ids = new Set<string>();
  #newest = new Map<string, Transition>();
  #cursors: Record<string, DeliveryCursor> = {};
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(path: string, cursorFile: string) {
    this.location = path;
    this.cursorFile = cursorFile;
  }

  /** Runs `op` after every earlier operation of this log has settled; its failures as store errors. */
  #serial<T>(doing: string, op: () => Promise<T> | T): Promise<T> {
    const run = this.#queue.then(async () => {
      if (this.#closed) throw new SnapshotStoreError(`Transitions log "${this.location}" is closed`);
      try {
        return await op();
      } catch (error) {
        throw storeError(doing, error);
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Builds the index from the file's bytes (header already checked). */
  index(bytes: Uint8Array): void {
    const { lines, tail } = splitLines(bytes);
    const texts = lines.map(({ offset, length }) => decoder.decode(bytes.subarray(offset, offset + length)));
    const complete: number[] = [];
    for (let i = 0; i < texts.length; i++) if (looksComplete(texts[i])) complete.push(i);
    const parsed = parseLines(complete.map((i) => texts[i]));
    const entries: Entry[] = [];
    const ids = new Set<string>();
    const newest = new Map<string, Transition>();
    for (let k = 0; k < complete.length; k++) {
      const t = decodeFields(parsed[k]);
      if (t === null || ids.has(t.id)) continue;
      const { offset, length } = lines[complete[k]];
      ids.add(t.id);
      entries.push({
        atMs: Date.parse(t.at),
        id: t.id,
        signal: t.signal,
        windowSec: t.windowSec,
        offset,
        length,
      });
      const key = alertKeyId(t);
      const held = newest.get(key);
      if (held === undefined || compareTransitions(held, t) < 0) newest.set(key, t);
    }
    entries.sort(compareEntries);
    this.#entries = entries;
    this.#ids = ids;
    this.#newest = newest;
    const skipped = lines.length - entries.length + (tail > 0 ? 1 : 0);
    if (skipped > 0) {
      log.warn("Skipped {count} unreadable lines (torn or invalid) in {path}", {
        count: skipped,
        path: this.location,
      });
    }
    this.skippedLines = skipped;
  }

  /** Loads the cursor file (missing: no cursors). */
  async loadCursors(): Promise<void> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.cursorFile);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new SnapshotStoreError(
        `Cannot open transitions log "${this.location}": its cursor file "${this.cursorFile}" is not JSON; ` +
          `the file was left unchanged (move it away)`,
        { cause: error },
      );
    }
    const parsed = CursorFileSchema.safeParse(json);
    if (!parsed.success) {
      throw new SnapshotStoreError(
        `Cannot open transitions log "${this.location}": its cursor file "${this.cursorFile}" is not ` +
          `{target: {atMs, id}}; the file was left unchanged (move it away)`,
        { cause: parsed.error },
      );
    }
    this.#cursors = parsed.data;
  }

  /**
   * The transitions of `entries` (in that order), read from the file in ranged reads (lines less than 64 KiB
   * apart share one read). A line that no longer holds its transition (the file changed under us) is an error.
   */
  async #read(entries: readonly Entry[]): Promise<Transition[]> {
    if (entries.length === 0) return [];
    const byOffset = entries.slice().sort((a, b) => a.offset - b.offset);
    const texts = new Map<Entry, string>();
    const file = await Deno.open(this.location, { read: true });
    try {
      for (let i = 0; i < byOffset.length;) {
        const from = byOffset[i].offset;
        let to = from + byOffset[i].length;
        let j = i + 1;
        while (j < byOffset.length && byOffset[j].offset - to < SPAN_GAP) {
          to = Math.max(to, byOffset[j].offset + byOffset[j].length);
          j++;
        }
        const bytes = new Uint8Array(to - from);
        await file.seek(from, Deno.SeekMode.Start);
        for (let got = 0; got < bytes.length;) {
          const n = await file.read(bytes.subarray(got));
          if (n === null) throw new Error(`the file ends before byte ${to}: did another process change it?`);
          got += n;
        }
        for (; i < j; i++) {
          const e = byOffset[i];
          texts.set(e, decoder.decode(bytes.subarray(e.offset - from, e.offset - from + e.length)));
        }
      }
    } finally {
      file.close();
    }
    const parsed = parseLines(entries.map((e) => texts.get(e) ?? ""));
    return entries.map((e, i) => {
      const t = decodeFields(parsed[i]);
      if (t === null || t.id !== e.id) {
        throw new Error(
          `the line at byte ${e.offset} no longer holds transition ${e.id}: did another process change it?`,
        );
      }
      return t;
    });
  }

  append(transitions: readonly Transition[]): Promise<void> {
    const doing = `Cannot append ${transitions.length} transitions to "${this.location}"`;
    return this.#serial(doing, async () => {
      const fresh: Transition[] = [];
      const batch = new Set<string>();
      for (const t of validateTransitions(transitions, doing)) {
        if (this.#ids.has(t.id) || batch.has(t.id)) continue;
        batch.add(t.id);
        fresh.push(t);
      }
      if (fresh.length === 0) return;
      const lines = fresh.map(encodeLine);
      const encoded = lines.map((line) => encoder.encode(`${line}\n`));
      const body = new Uint8Array(encoded.reduce((sum, b) => sum + b.length, 0));
      let at = 0;
      for (const b of encoded) {
        body.set(b, at);
        at += b.length;
      }
      let offset = await appendCsv(this.location, TRANSITIONS_CSV_HEADER, body);
      let sorted = true;
      for (let i = 0; i < fresh.length; i++) {
        const t = fresh[i];
        const entry = {
          atMs: Date.parse(t.at),
          id: t.id,
          signal: t.signal,
          windowSec: t.windowSec,
          offset,
          length: encoded[i].length - 1,
        };
        offset += encoded[i].length;
        const last = this.#entries[this.#entries.length - 1];
        if (last !== undefined && compareEntries(last, entry) > 0) sorted = false;
        this.#entries.push(entry);
        this.#ids.add(t.id);
        const key = alertKeyId(t);
        const held = this.#newest.get(key);
        if (held === undefined || compareTransitions(held, t) < 0) this.#newest.set(key, structuredClone(t));
      }
      if (!sorted) this.#entries.sort(compareEntries);
    });
  }

  list({ signal, windowSec, sinceMs, limit }: TransitionQuery): Promise<Transition[]> {
    return this.#serial(`Cannot list transitions in "${this.location}"`, () => {
      validateLimit(limit);
      const picked: Entry[] = [];
      for (let i = this.#entries.length - 1; i >= 0 && picked.length < limit; i--) {
        const e = this.#entries[i];
        if (sinceMs !== undefined && e.atMs < sinceMs) break;
        if (
          (signal === undefined || e.signal === signal) &&
          (windowSec === undefined || e.windowSec === windowSec)
        ) {
          picked.push(e);
        }
      }
      return this.#read(picked.reverse());
    });
  }

  latest(): Promise<Transition[]> {
    return this.#serial(
      `Cannot read the latest transitions in "${this.location}"`,
      () => structuredClone([...this.#newest.values()].sort(compareTransitions)),
    );
  }

  /** Index of the first entry strictly after `cursor`. */
  #firstAfter(cursor: DeliveryCursor | null): number {
    if (cursor === null) return 0;
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.#entries[mid];
      if (e.atMs > cursor.atMs || (e.atMs === cursor.atMs && e.id > cursor.id)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  after(cursor: DeliveryCursor | null, limit: number): Promise<Transition[]> {
    return this.#serial(`Cannot read transitions after a cursor in "${this.location}"`, () => {
      validateLimit(limit);
      const c = cursor === null ? null : parseCursor(cursor);
      const start = this.#firstAfter(c);
      return this.#read(this.#entries.slice(start, start + limit));
    });
  }

  countAfter(cursor: DeliveryCursor | null): Promise<number> {
    return this.#serial(`Cannot count transitions after a cursor in "${this.location}"`, () => {
      const c = cursor === null ? null : parseCursor(cursor);
      return this.#entries.length - this.#firstAfter(c);
    });
  }

  cursor(target: string): Promise<DeliveryCursor | null> {
    return this.#serial(`Cannot read the delivery cursor of ${JSON.stringify(target)}`, () => {
      validateTarget(target);
      const c = Object.hasOwn(this.#cursors, target) ? this.#cursors[target] : undefined;
      return c === undefined ? null : { ...c };
    });
  }

  setCursor(target: string, cursor: DeliveryCursor): Promise<void> {
    const doing = `Cannot move the delivery cursor of ${JSON.stringify(target)} in "${this.cursorFile}"`;
    return this.#serial(doing, async () => {
      validateTarget(target);
      const cursors = { ...this.#cursors, [target]: parseCursor(cursor) };
      await replaceAtomically(this.cursorFile, `${JSON.stringify(cursors, null, 2)}\n`);
      this.#cursors = cursors;
    });
  }

  prune(beforeMs: number): Promise<number> {
    return this.#serial(`Cannot prune transitions in "${this.location}"`, async () => {
      if (Number.isNaN(beforeMs)) throw new RangeError("beforeMs is NaN");
      const keep = new Set([...this.#newest.values()].map((t) => t.id));
      const kept = this.#entries.filter((e) => e.atMs >= beforeMs || keep.has(e.id));
      const deleted = this.#entries.length - kept.length;
      if (deleted === 0 && this.skippedLines === 0) return 0;
      const bytes = await Deno.readFile(this.location);
      // Kept lines in file order, so the rewrite is the old file minus the pruned and unreadable lines.
      const lines = kept.slice().sort((a, b) => a.offset - b.offset).map((e) =>
        bytes.subarray(e.offset, e.offset + e.length)
      );
      const header = encoder.encode(`${TRANSITIONS_CSV_HEADER}\n`);
      const out = new Uint8Array(header.length + lines.reduce((sum, l) => sum + l.length + 1, 0));
      out.set(header);
      let at = header.length;
      for (const line of lines) {
        out.set(line, at);
        out[at + line.length] = NEWLINE;
        at += line.length + 1;
      }
      await replaceAtomically(this.location, out);
      this.index(out);
      return deleted;
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
 * Opens the CSV transitions log in `dataDir` ({@linkcode TRANSITIONS_CSV}, cursors in
 * {@linkcode DELIVERY_JSON}), creating the CSV file with its header if missing or empty, and indexes it. Throws
 * {@linkcode SnapshotStoreError} for a file with another header or a cursor file that is not ours.
 */
export async function openCsvTransitionLog(dataDir: string): Promise<CsvTransitionLog> {
  const path = join(dataDir, TRANSITIONS_CSV);
  const logFile = new CsvTransitionLog(path, join(dataDir, DELIVERY_JSON));
  try {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      bytes = new Uint8Array();
    }
    const head = decoder.decode(bytes.subarray(0, 4096));
    if (head === "" || !checkHeader(head, path, TRANSITIONS_CSV_HEADER, "transitions log")) {
      // Missing, empty or a torn header only.
      bytes = encoder.encode(`${TRANSITIONS_CSV_HEADER}\n`);
      await replaceAtomically(path, bytes);
    }
    await logFile.loadCursors();
    logFile.index(bytes);
  } catch (error) {
    throw storeError(`Cannot open transitions log "${path}"`, error);
  }
  return logFile;
}
