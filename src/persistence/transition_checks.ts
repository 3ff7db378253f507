/** Argument checks every transitions log shares (they throw; the logs reject with what they throw). */
import { z } from "zod";
import type { DeliveryCursor } from "./transitions.ts";

/** A delivery cursor as stored (SQLite row, JSON file, KV value) and as passed to `setCursor`. */
export const DeliveryCursorSchema = z.object({ atMs: z.number().finite(), id: z.string().min(1) });

export function validateLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0) {
    throw new RangeError(`limit is ${limit}, expected a non-negative integer`);
  }
}

export function validateTarget(target: string): void {
  if (typeof target !== "string" || !/^[A-Za-z0-9_.-]{1,100}$/.test(target)) {
    throw new RangeError(`delivery target ${JSON.stringify(target)} is not a name of letters, digits, _ . -`);
  }
}

/** `cursor` as a fresh {@linkcode DeliveryCursor}, or a TypeError. */
export function parseCursor(cursor: unknown): DeliveryCursor {
  const parsed = DeliveryCursorSchema.safeParse(cursor);
  if (!parsed.success) {
    throw new TypeError(`delivery cursor ${JSON.stringify(cursor)} is not {atMs: number, id: string}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
