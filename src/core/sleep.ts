/**
 * Waiting with an abort: the default `sleep` that modules inject-with-default (tests pass a fake). No I/O
 * beyond a timer; nothing in the core calls it.
 */

/**
 * Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts (at once if it already has),
 * clearing the timer. The shape of std's `delay(ms, { signal })`.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Resolves on the next macrotask: what a long synchronous job awaits between slices so that timers and I/O
 * (HTTP requests) run in between. The default `pause` of the ingest and snapshot paths.
 */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
