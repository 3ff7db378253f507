/**
 * The `none` snapshot store (`PERSISTENCE=none`): keeps nothing. Appends are validated (so a bad row fails the
 * same way in every mode) and dropped; history is always empty.
 */
import { type SnapshotStore, validateBeforeMs, validateQuery, validateRows } from "./snapshot.ts";

export function createNoneStore(): SnapshotStore {
  return {
    mode: "none",
    location: "none",
    append: (rows) => Promise.try(() => validateRows(rows)),
    history: (query) =>
      Promise.try(() => {
        validateQuery(query);
        return [];
      }),
    prune: (beforeMs) =>
      Promise.try(() => {
        validateBeforeMs(beforeMs);
        return 0;
      }),
    close: () => Promise.resolve(),
  };
}
