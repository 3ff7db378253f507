import { equal, match, ok, rejects } from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { causeOf, checkDataDir, checkMockPath, listenError, StartupError } from "../src/startup.ts";
import { MAIN } from "./helpers.ts";

/** The `deno task start` permissions: not --allow-all. */
const TASK_FLAGS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys=hostname"];

/** Runs src/main.ts to its end (at most 20 s) and returns its exit code and what it printed on stderr. */
async function runMain(env: Record<string, string>, flags = ["--allow-all"]) {
  const cwd = await Deno.makeTempDir();
  try {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...flags, MAIN],
      env: { HOST: "127.0.0.1", PORT: "0", DATA_DIR: join(cwd, "data"), LOG_LEVEL: "error", ...env },
      cwd,
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

/** One line, no stack trace, no advice to widen Deno's permissions. */
function assertOneClearLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  equal(lines.length, 1, `one line expected:\n${stderr}`);
  ok(!/\bat \S+:\d+:\d+|Stack backtrace|error: Uncaught/.test(stderr), `no stack trace:\n${stderr}`);
  ok(!stderr.includes("--allow"), `no advice about Deno flags:\n${stderr}`);
  return lines[0];
}

Deno.test("causeOf() drops Deno's advice to re-run with a flag and names address errors plainly", () => {
  equal(
    causeOf(
      new Deno.errors.NotCapable('Requires all access to "/proc/nope", run again with the --allow-all flag'),
    ),
    `Deno's permissions do not allow it (requires all access to "/proc/nope")`,
  );
  equal(
    causeOf(new Deno.errors.AddrInUse("Address in use")),
    "the address is already in use by another process",
  );
  equal(causeOf(new Error("boom")), "boom");
});

Deno.test("StartupError keeps its message on one line", () => {
  equal(new StartupError('it is not JSON ("a\nb")').message, 'it is not JSON ("a b")');
  equal(
    listenError(new Deno.errors.AddrInUse("x"), { host: "::1", port: 80 }).message.split(" (")[0],
    "Cannot listen on [::1]:80",
  );
});

Deno.test("checkDataDir() creates a missing DATA_DIR and refuses a file or an uncreatable path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const fresh = join(dir, "a", "b");
    await checkDataDir(loadConfig({ DATA_DIR: fresh, PERSISTENCE: "csv" }));
    ok((await Deno.stat(fresh)).isDirectory);
    const file = join(dir, "file");
    await Deno.writeTextFile(file, "x");
    await rejects(checkDataDir(loadConfig({ DATA_DIR: file })), (error: Error) => {
      ok(error instanceof StartupError);
      equal(error.message, `Cannot use DATA_DIR "${file}": it is a file, not a directory`);
      return true;
    });
    await rejects(
      checkDataDir(loadConfig({ DATA_DIR: join(file, "data") })),
      /^StartupError: Cannot use DATA_DIR/,
    );
    // Nothing is checked when no file store uses DATA_DIR.
    await checkDataDir(loadConfig({ DATA_DIR: file, PERSISTENCE: "none" }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("checkMockPath() accepts our JSON shapes and names what is wrong with anything else", async () => {
  const dir = await Deno.makeTempDir();
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    Deno.writeTextFileSync(path, text);
    return path;
  };
  try {
    const check = (path: string) => checkMockPath(loadConfig({ MOCK_PATH: path }));
    await check(file("bare.json", '[{"signal":"a","timestamp":1,"coherenceScore":5}]'));
    await check(file("wrapped.json", '{"data":[]}'));
    const cases: [string, RegExp][] = [
      [join(dir, "missing.json"), /: cannot read it: No such file or directory/],
      [dir, /: it is not a file$/],
      [file("text.json", "hello\nworld"), /: it is not JSON \(.*\): expected \{ "data": \[\.\.\.\] \}/],
      [file("object.json", '{"rows":[]}'), /: it has no records: expected/],
    ];
    for (const [path, expected] of cases) {
      await rejects(check(path), (error: Error) => {
        ok(error instanceof StartupError);
        ok(error.message.startsWith(`Cannot use MOCK_PATH "${path}": `), error.message);
        match(error.message, expected);
        ok(!error.message.includes("\n"));
        return true;
      });
    }
    // The live upstream wins over MOCK_PATH, so the file is not checked then.
    await checkMockPath(
      loadConfig({
        MOCK_PATH: join(dir, "missing.json"),
        DARSHAN_BASE_URL: "http://x",
        DARSHAN_API_KEY: "k",
      }),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the service exits 2 with one line naming DATA_DIR when it cannot use it (no --allow-all advice)", async () => {
  const allowed = await runMain({ DATA_DIR: "/proc/nope", PERSISTENCE: "csv" });
  equal(allowed.code, 2);
  equal(
    assertOneClearLine(allowed.stderr),
    `Cannot use DATA_DIR "/proc/nope": No such file or directory (os error 2): mkdir '/proc/nope'`,
  );
  const task = await runMain({ DATA_DIR: "/proc/nope" }, TASK_FLAGS);
  equal(task.code, 2);
  equal(
    assertOneClearLine(task.stderr),
    `Cannot use DATA_DIR "/proc/nope": Deno's permissions do not allow it (requires all access to "/proc/nope")`,
  );
});

Deno.test("the service exits 2 with one line naming MOCK_PATH when the file is missing or malformed", async () => {
  const missing = await runMain({ MOCK_PATH: "/nope/signals.json" });
  equal(missing.code, 2);
  match(
    assertOneClearLine(missing.stderr),
    /^Cannot use MOCK_PATH "\/nope\/signals.json": cannot read it: No such file/,
  );
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "signals.json");
    await Deno.writeTextFile(path, '{"data": [ {"signal": "a",\n');
    const malformed = await runMain({ MOCK_PATH: path });
    equal(malformed.code, 2);
    match(
      assertOneClearLine(malformed.stderr),
      new RegExp(`^Cannot use MOCK_PATH "${path}": it is not JSON \\(`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the service exits 2 with one line naming HOST and PORT when the port is already in use", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const result = await runMain({ PORT: String(taken.addr.port), PERSISTENCE: "sqlite" });
  equal(result.code, 2);
  equal(
    assertOneClearLine(result.stderr),
    `Cannot listen on 127.0.0.1:${taken.addr.port} (HOST, PORT): the address is already in use by another process`,
  );
});
