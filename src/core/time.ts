/**
 * Time stamps as the upstream and the API accept them: RFC 3339 with a zone, or epoch seconds or milliseconds.
 * Pure: no I/O.
 */

/** RFC 3339 date-time with a zone (Z or ±hh:mm); fractional seconds allowed. */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** Largest epoch ms a JavaScript Date can hold; beyond it `new Date(ms).toISOString()` throws. */
const MAX_DATE_MS = 8.64e15;
/** Epoch numbers above this are milliseconds, below seconds (1e11 s is the year 5138; 1e11 ms is 1973). */
export const EPOCH_MS_THRESHOLD = 1e11;

/** Parses an RFC 3339 string or epoch seconds/milliseconds into integer epoch ms; null when invalid. */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return null;
    const ms = Math.round(value > EPOCH_MS_THRESHOLD ? value : value * 1000);
    return ms <= MAX_DATE_MS ? ms : null;
  }
  if (typeof value !== "string") return null;
  const match = RFC3339.exec(value);
  if (match === null) return null;
  // Date.parse rolls impossible dates over (2025-02-30 → 2 March) and accepts hour 24; RFC 3339 allows neither.
  const [year, month, day, hour] = match.slice(1, 5).map(Number);
  if (hour > 23 || day > daysInMonth(year, month)) return null;
  const ms = Date.parse(value.replace(" ", "T"));
  return Number.isFinite(ms) ? ms : null;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
