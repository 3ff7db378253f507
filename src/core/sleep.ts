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

/** Default wall time between two pauses of a job run in slices, ms. */
export const SLICE_MS = 8;

/**
 * Paces a long job run in slices: the returned function, called at each slice boundary, awaits `pause` only
 * once `sliceMs` of wall time have passed since the last pause. A pause costs a timer's turn (1–4 ms), so a
 * job pauses about once per `sliceMs` however fast its slices are; `sliceMs: 0` pauses at every boundary.
 */
export function pacer(
  { sliceMs = SLICE_MS, pause = nextMacrotask, now = () => performance.now() }: {
    sliceMs?: number;
    pause?: () => Promise<void>;
    now?: () => number;
  } = {},
): () => Promise<void> {
  let since = now();
  return async () => {
    if (now() - since < sliceMs) return;
    await pause();
    since = now();
  };
}
