/**
 * Reads the records of a large upstream-shaped JSON document (`{ "data": [...] }` or a bare array) from a
 * byte stream in batches, without ever holding the whole text or the whole parsed document: a byte-level scan
 * finds where each record starts and ends (tracking strings, escapes and nesting), and each chunk's complete
 * records are parsed together with JSON.parse. Pure: no I/O.
 *
 * Used for large mock files (JSON.parse of a 130 MB text blocks the event loop for over a second and needs
 * several hundred MB at its peak, which the allocator then keeps) and for upstream pages (a gzip bomb of
 * whitespace inside the records array is scanned and dropped, never held). Record text is validated by
 * JSON.parse; so is the envelope, the document outside the records (see {@linkcode recordBatches}), by whoever
 * reads it; the scan checks that strings and brackets are balanced and that nothing follows the document.
 */

/** The document is not JSON, or not JSON in a shape that holds records. */
export class RecordStreamError extends Error {
  override name = "RecordStreamError";
  constructor(message: string, readonly kind: "syntax" | "no_records", options?: ErrorOptions) {
    super(message, options);
  }
}

const OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** The bytes of the document outside its records array, whitespace outside strings left out. */
class Envelope {
  #bytes = new Uint8Array(256);
  #length = 0;
  push(b: number): void {
    if (this.#length === this.#bytes.length) {
      const grown = new Uint8Array(this.#bytes.length * 2);
      grown.set(this.#bytes);
      this.#bytes = grown;
    }
    this.#bytes[this.#length++] = b;
  }
  text(): string {
    return new TextDecoder().decode(this.#bytes.subarray(0, this.#length));
  }
}

/**
 * Yields the records of the document in `chunks`, one array per chunk that completed any. `dataNames` are the
 * body fields that may hold the records (the dialect's `body.data`); in an object, the first such field whose
 * value is an array is used.
 *
 * Returns the envelope: the document's text with the records array emptied and whitespace outside strings
 * dropped (`{"next_cursor":"2","data":[]}`, or `[]` for a bare array), for the caller to JSON.parse when it
 * needs the other fields. A chunk may be reused by the caller once the next one is asked for.
 */
export async function* recordBatches(
  chunks: AsyncIterable<Uint8Array>,
  dataNames: readonly string[],
): AsyncGenerator<unknown[], string> {
  const decoder = new TextDecoder();
  const envelope = new Envelope();
  let held = new Uint8Array(0);
  let length = 0;
  /** Bytes of the document before `buffer` (for messages). */
  let offset = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let started = false;
  let finished = false;
  /** Depth inside the records array (elements begin at this depth), or -1 before/after it. */
  let arrayDepth = -1;
  let arrayDone = false;
  /** Top-level object: expecting a key, the key just read, and whether the next value starts now. */
  let expectKey = false;
  let keyStart = -1;
  let lastKey: string | null = null;
  let valueNext = false;
  /** Start of the element being read (index in `buffer`), or -1; true right after a separating comma. */
  let elementStart = -1;
  let needElement = false;

  for await (const chunk of chunks) {
    // The unfinished element (or key) of the last chunk stays at the front of `held`, which grows by doubling:
    // an element spread over many chunks costs linear time, not a copy of all of it per chunk.
    if (length + chunk.length > held.length) {
      const grown = new Uint8Array(Math.max(length + chunk.length, held.length * 2));
      grown.set(held.subarray(0, length));
      held = grown;
    }
    held.set(chunk, length);
    let i = length;
    length += chunk.length;
    const buffer = held.subarray(0, length);
    let batchStart = -1;
    let batchEnd = -1;
    for (; i < buffer.length; i++) {
      const b = buffer[i];
      // Outside the records array (its brackets included), every byte but whitespace between tokens is kept.
      const outside = arrayDepth < 0 || depth < arrayDepth ||
        (depth === arrayDepth && b === CLOSE_BRACKET && !inString);
      if (outside && (inString || !isSpace(b))) envelope.push(b);
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) {
          inString = false;
          if (keyStart >= 0) {
            lastKey = decoder.decode(buffer.subarray(keyStart, i));
            keyStart = -1;
          }
        }
        continue;
      }
      if (isSpace(b)) continue;
      // A UTF-8 byte order mark (EF BB BF) before the document is skipped, as TextDecoder does.
      if (!started && offset + i < 3 && b === BOM[offset + i]) continue;
      if (finished) throw syntax(`unexpected text after the document at byte ${offset + i}`);
      if (!started) {
        started = true;
        if (b === OPEN_BRACKET) arrayDepth = 1;
        else if (b !== OPEN_BRACE) throw noRecords();
      }
      if (arrayDepth >= 0 && depth === arrayDepth && elementStart < 0) {
        if (b !== COMMA && b !== CLOSE_BRACKET) {
          elementStart = i;
          needElement = false;
        } else if (needElement || b === COMMA) {
          throw syntax(`missing record before "${String.fromCharCode(b)}" at byte ${offset + i}`);
        }
      }
      if (depth === 1 && arrayDepth !== 1 && valueNext) {
        valueNext = false;
        if (b === OPEN_BRACKET && !arrayDone && lastKey !== null && dataNames.includes(lastKey)) {
          arrayDepth = 2;
        }
      }
      switch (b) {
        case QUOTE:
          inString = true;
          if (depth === 1 && expectKey && arrayDepth !== 1) keyStart = i + 1;
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          depth++;
          if (depth === 1 && b === OPEN_BRACE) expectKey = true;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (depth === arrayDepth && b === CLOSE_BRACKET) {
            if (elementStart >= 0) {
              if (batchStart < 0) batchStart = elementStart;
              batchEnd = i;
              elementStart = -1;
            }
            arrayDepth = -1;
            arrayDone = true;
          }
          depth--;
          if (depth < 0) throw syntax(`unbalanced "${String.fromCharCode(b)}" at byte ${offset + i}`);
          if (depth === 0) finished = true;
          break;
        case COMMA:
          if (depth === arrayDepth && elementStart >= 0) {
            if (batchStart < 0) batchStart = elementStart;
            batchEnd = i;
            elementStart = -1;
            needElement = true;
          }
          if (depth === 1) expectKey = true;
          break;
        case COLON:
          if (depth === 1) {
            expectKey = false;
            valueNext = true;
          }
          break;
      }
    }
    if (batchStart >= 0) {
      const text = decoder.decode(buffer.subarray(batchStart, batchEnd));
      let records: unknown;
      try {
        records = JSON.parse(`[${text}]`);
      } catch (error) {
        throw syntax(`${(error as Error).message} (in the records before byte ${offset + batchEnd})`, error);
      }
      if (Array.isArray(records)) yield records;
    }
    // Keep the unfinished element (or the key being read) for the next chunk.
    const keep = elementStart >= 0 ? elementStart : keyStart >= 0 ? keyStart : buffer.length;
    if (keep > 0) held.copyWithin(0, keep, length);
    length -= keep;
    offset += keep;
    if (elementStart >= 0) elementStart -= keep;
    if (keyStart >= 0) keyStart -= keep;
  }
  if (!started) throw syntax("the document is empty");
  if (inString || depth !== 0) throw syntax("unexpected end of the document");
  if (!arrayDone) throw noRecords();
  return envelope.text();
}

function syntax(message: string, cause?: unknown): RecordStreamError {
  return new RecordStreamError(message, "syntax", cause === undefined ? undefined : { cause });
}

function noRecords(): RecordStreamError {
  return new RecordStreamError("no records array", "no_records");
}
