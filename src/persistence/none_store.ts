/**
 * The `none` snapshot store (`PERSISTENCE=none`): keeps nothing. Appends are validated (so a bad row fails the
 * same way in every mode) and dropped; history is always empty.
 */
import {
  type HistoryQuery,
  type SnapshotRow,
  type SnapshotStore,
  validateBeforeMs,
  validateQuery,
  validateRows,
} from "./snapshot.ts";

export class NoneSnapshotStore implements SnapshotStore {
  readonly mode = "none";
  readonly location = "none";

  append(rows: readonly SnapshotRow[]): Promise<void> {
    try {
      validateRows(rows);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  history(query: HistoryQuery): Promise<SnapshotRow[]> {
    try {
      validateQuery(query);
      return Promise.resolve([]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  prune(beforeMs: number): Promise<number> {
    try {
      validateBeforeMs(beforeMs);
      return Promise.resolve(0);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export function createNoneStore(): NoneSnapshotStore {
  return new NoneSnapshotStore();
}
