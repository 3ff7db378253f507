/**
 * The transitions log, opened so that a failure to open it (an unusable DATA_DIR, a locked database) never
 * stops the service, as {@linkcode openRetryingStore} does for the snapshots: every operation tries to open the
 * log again and, while it cannot, rejects with the reason. The alert evaluation then holds its states back and
 * retries (counted in /status), and delivery backs off; nothing is lost, nothing fires twice.
 */
import type { StoreMode } from "../core/vocabulary.ts";
import { openTransitionLog, type OpenTransitionLogOptions } from "./open_transitions.ts";
import { errorMessage } from "./snapshot.ts";
import type { TransitionLog } from "./transitions.ts";

export interface RetryingTransitionLog extends TransitionLog {
  /** The last error opening the log, or null once it is open. */
  readonly openError: string | null;
}

/** Opens the log now if it can; otherwise keeps trying on each use. */
export async function openRetryingTransitionLog(
  mode: StoreMode,
  options: OpenTransitionLogOptions,
  open: typeof openTransitionLog = openTransitionLog,
): Promise<RetryingTransitionLog> {
  let log: TransitionLog | null = null;
  let opening: Promise<TransitionLog> | null = null;
  let openError: string | null = null;
  let closed = false;

  function ready(): Promise<TransitionLog> {
    if (log) return Promise.resolve(log);
    if (closed) return Promise.reject(new Error("The transitions log is closed"));
    // One open at a time: concurrent callers (evaluation, each delivery target) share it.
    opening ??= open(mode, options).then((opened) => {
      log = opened;
      openError = null;
      return opened;
    }, (error) => {
      openError = errorMessage(error);
      throw error;
    }).finally(() => {
      opening = null;
    });
    return opening;
  }
  await ready().catch(() => {});

  return {
    get openError() {
      return openError;
    },
    append: async (transitions) => await (await ready()).append(transitions),
    list: async (query) => await (await ready()).list(query),
    latest: async () => await (await ready()).latest(),
    after: async (cursor, limit) => await (await ready()).after(cursor, limit),
    countAfter: async (cursor) => await (await ready()).countAfter(cursor),
    cursor: async (target) => await (await ready()).cursor(target),
    setCursor: async (target, cursor) => await (await ready()).setCursor(target, cursor),
    prune: async (beforeMs) => await (await ready()).prune(beforeMs),
    async close() {
      closed = true;
      await opening?.catch(() => {});
      await log?.close();
      log = null;
    },
  };
}
