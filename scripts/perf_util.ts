/**
 * Shared helpers for the performance scripts (`loadtest.ts`, `startup.ts`): start the real service as a child
 * process on loopback, wait for it, and stop exactly what was started.
 *
 * @module
 */
import { z } from "zod";

const ROOT = new URL("../", import.meta.url);
const DenoJson = z.object({ tasks: z.object({ start: z.string() }) });
const SignalsBody = z.object({ signals: z.array(z.object({ n: z.number() })) });

/** The `deno run …` arguments of `deno task start` (same permissions as production), from deno.json. */
async function startArgs(): Promise<string[]> {
  const task = DenoJson.parse(JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)))).tasks.start;
  const words = task.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "deno" || words[1] !== "run") throw new Error(`unexpected start task: ${task}`);
  return words.slice(1);
}

/** The value after `--<name>` on the command line, or `fallback`. */
export function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < Deno.args.length ? Deno.args[i + 1] : fallback;
}

/** Resident set size of a process, MB (Linux /proc), or NaN. */
export async function rssMb(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

export interface Child {
  process: Deno.ChildProcess;
  url: string;
  /** performance.now() when the process was spawned. */
  spawnedAt: number;
  stop(): Promise<void>;
}

/**
 * Starts `deno run <start task flags> src/main.ts` on 127.0.0.1 with `env` on top of the parent environment.
 * stdout (the JSON log lines) goes to /dev/null: their cost is paid, nothing collects them.
 */
export async function startService(env: Record<string, string>): Promise<Child> {
  const port = freePort();
  const command = new Deno.Command(Deno.execPath(), {
    args: await startArgs(),
    cwd: ROOT,
    env: { HOST: "127.0.0.1", PORT: String(port), PERSISTENCE: "none", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  });
  return spawn(command, `http://127.0.0.1:${port}`);
}

/** Spawns a command and returns a handle whose stop() ends that process (SIGTERM, then SIGKILL after 5 s). */
export function spawn(command: Deno.Command, url: string): Child {
  const spawnedAt = performance.now();
  const process = command.spawn();
  let stopped: Promise<void> | null = null;
  return {
    process,
    url,
    spawnedAt,
    stop() {
      stopped ??= (async () => {
        try {
          process.kill("SIGTERM");
        } catch {
          return; // already exited
        }
        const timer = setTimeout(() => {
          try {
            process.kill("SIGKILL");
          } catch { /* exited meanwhile */ }
        }, 5000);
        await process.status;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}

/** Polls `probe` every `intervalMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 10, what = "condition" } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch { /* not up yet */ }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** GET `url` → status and body text, or undefined on a network error. */
export async function get(
  url: string,
  timeoutMs = 5000,
): Promise<{ status: number; text: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text() };
  } catch {
    return undefined;
  }
}

/** Total points the service holds, from /coherence/signals. */
export async function heldPoints(url: string): Promise<number> {
  const res = await get(`${url}/coherence/signals`);
  if (res?.status !== 200) return 0;
  return SignalsBody.parse(JSON.parse(res.text)).signals.reduce((sum, s) => sum + s.n, 0);
}

/** CPU model and core count, for the figures' context. */
export async function machine(): Promise<{ cpu: string; cores: number }> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch { /* not Linux */ }
  return { cpu, cores: navigator.hardwareConcurrency };
}

/** `{"data":[` followed by `bytes` of spaces, gzipped with CompressionStream: a few hundred KB on the wire. */
export async function gzipBomb(bytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const piece = new TextEncoder().encode(" ".repeat(1024 * 1024));
  let sent = -1;
  const source = new ReadableStream<BufferSource>({
    pull(controller) {
      if (sent < 0) controller.enqueue(new TextEncoder().encode('{"data":['));
      else if (sent >= bytes) return controller.close();
      else controller.enqueue(piece);
      sent += sent < 0 ? 1 : piece.length;
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
}
