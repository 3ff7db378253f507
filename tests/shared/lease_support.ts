/** Test support for the lease: a shared fake clock, per-instance fake timers, and a KV that can be made to fail. */
import type { LeaseKv } from "../../src/shared/lease.ts";

export class FakeClock {
  constructor(public t = 1_700_000_000_000) {}
  now = () => this.t;
}

/** Timers on a {@linkcode FakeClock}: nothing fires until `runDue()` is called (a "killed" instance never is). */
export class FakeTimers {
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();
  constructor(private clock: FakeClock) {}
  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.clock.t + ms, fn });
    return id;
  };
  clearTimeout = (id: never): void => {
    this.#timers.delete(id as number);
  };
  get pending(): number {
    return this.#timers.size;
  }
  /** Fires every timer due by now, earliest first. */
  runDue(): void {
    const due = [...this.#timers].filter(([, t]) => t.at <= this.clock.t).sort((a, b) => a[1].at - b[1].at);
    for (const [id, timer] of due) {
      this.#timers.delete(id);
      timer.fn();
    }
  }
}

/** A KV handle whose calls can be made to throw, and whose calls in flight can be awaited. */
export class FaultyKv implements LeaseKv {
  failing = false;
  /** The next this many calls throw (as a KV file locked by another process does), then calls work again. */
  failNext = 0;
  #inflight = new Set<Promise<unknown>>();
  constructor(private kv: Deno.Kv) {}
  #track<T>(promise: Promise<T>): Promise<T> {
    this.#inflight.add(promise);
    promise.finally(() => this.#inflight.delete(promise)).catch(() => {});
    return promise;
  }
  get = (<T = unknown>(key: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) => {
    if (this.failing) return this.#track(Promise.reject(new Error("kv unreachable (injected)")));
    if (this.failNext > 0 && this.failNext--) {
      return this.#track(Promise.reject(new TypeError("database is locked")));
    }
    return this.#track(this.kv.get<T>(key, options));
  }) as Deno.Kv["get"];
  atomic = (): Deno.AtomicOperation => {
    const op = this.kv.atomic();
    const commit = op.commit.bind(op);
    op.commit = () => {
      if (this.failing) return this.#track(Promise.reject(new Error("kv unreachable (injected)")));
      return this.#track(commit());
    };
    return op;
  };
  /** Waits until no call is in flight and the continuations of finished ones have run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight]);
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.#inflight.size === 0) return;
    }
  }
}

/** A temp KV file opened `handles` times (as several instances of one process would). */
export async function sharedKv(handles: number): Promise<{ kvs: Deno.Kv[]; close(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "lease_test_" });
  const path = `${dir}/rolling_store.kv`;
  const kvs: Deno.Kv[] = [];
  for (let i = 0; i < handles; i++) kvs.push(await Deno.openKv(path));
  return {
    kvs,
    async close() {
      for (const kv of kvs) kv.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
