/**
 * Start-up checks and the one-line messages for what stops the service from starting: an unusable DATA_DIR, a
 * missing or malformed MOCK_PATH, a port it cannot listen on. Each is a {@linkcode StartupError} naming the
 * variable or resource and the cause; `main()` prints its message alone (no stack trace) and exits with 2.
 */
import type { Config } from "./config.ts";
import { DIALECTS } from "./ingest/dialect.ts";
import { checkMockFile, MockFileError } from "./ingest/mock_source.ts";

/** Exit code for a configuration or start-up problem the operator must fix. */
export const STARTUP_EXIT_CODE = 2;

/** Something the operator must fix before the service can start; the message is the whole story. */
export class StartupError extends Error {
  override name = "StartupError";
  /** `message` on one line: control characters (a JSON parser's quoted excerpt may hold a newline) become spaces. */
  constructor(message: string, options?: ErrorOptions) {
    super(message.replace(/\p{Cc}+/gu, " "), options);
  }
}

/**
 * The cause of a file-system or network error in a few words. Deno's permission errors end with advice to run
 * again with a flag (`--allow-all` for `/proc/…`), which is not the fix for a misconfigured path: the advice is
 * dropped and the denial said plainly.
 */
export function causeOf(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    const reason = error.message.replace(/,?\s*run again with the --allow-[\w-]+ flag\.?$/i, "");
    return `Deno's permissions do not allow it (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`;
  }
  if (error instanceof Deno.errors.AddrInUse) return "the address is already in use by another process";
  if (error instanceof Deno.errors.AddrNotAvailable) return "the address is not one of this machine's";
  return error instanceof Error ? error.message : String(error);
}

/**
 * DATA_DIR must exist or be creatable, and be a readable directory, when a file store uses it (sqlite, csv,
 * local kv). One that later fills up or turns read-only is not checked here: the store retries and `/status`
 * says why.
 */
export async function checkDataDir(
  config: Pick<Config, "dataDir" | "persistence" | "deploy">,
): Promise<void> {
  if (config.deploy || config.persistence === "none") return;
  const dir = config.dataDir;
  try {
    const info = await Deno.stat(dir).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return null;
      throw error;
    });
    if (info === null) await Deno.mkdir(dir, { recursive: true });
    else if (!info.isDirectory) throw new Error("it is a file, not a directory");
    for await (const _ of Deno.readDir(dir)) break;
  } catch (error) {
    throw new StartupError(`Cannot use DATA_DIR "${dir}": ${causeOf(error)}`, { cause: error });
  }
}

/** MOCK_PATH, when it is the source (no DARSHAN_BASE_URL), must be a readable file of mock records. */
export async function checkMockPath(config: Pick<Config, "darshan" | "mock">): Promise<void> {
  const path = config.mock.path;
  if (config.darshan.baseUrl || path === undefined) return;
  try {
    await checkMockFile(path, { dialect: DIALECTS[config.darshan.dialect] });
  } catch (error) {
    if (!(error instanceof MockFileError)) throw error;
    throw new StartupError(`Cannot use MOCK_PATH "${path}": ${error.message}`, { cause: error });
  }
}

/** The error for a listener that could not be opened on HOST:PORT. */
export function listenError(error: unknown, config: Pick<Config, "host" | "port">): StartupError {
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return new StartupError(`Cannot listen on ${host}:${config.port} (HOST, PORT): ${causeOf(error)}`, {
    cause: error,
  });
}
