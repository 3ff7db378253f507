/**
 * Child process for the transitions log crash tests (not a test file itself).
 *
 *   transitions_crash_writer.ts <mode> <dataDir>   append forever (the parent kills it with SIGKILL)
 *
 * Append i writes transition i for "alpha" and "beta", moves the "webhook" cursor to alpha's transition i - 1,
 * then prints "appended i".
 */
import { join } from "node:path";
import { openTransitionLog } from "../../src/persistence/open_transitions.ts";
import { cursorOf } from "../../src/persistence/transitions.ts";
import { STORE_MODES } from "../../src/core/vocabulary.ts";
import { transition } from "./transition_rows.ts";

const [modeArg, dataDir] = Deno.args;
const mode = STORE_MODES.find((m) => m === modeArg);
if (mode === undefined || dataDir === undefined) {
  throw new Error("Usage: transitions_crash_writer.ts <mode> <dataDir>");
}

const log = await openTransitionLog(mode, { dataDir, kvPath: join(dataDir, "rolling_store.kv") });
for (let i = 0;; i++) {
  await log.append([transition(i), transition(i, { signal: "beta" })]);
  if (i > 0) await log.setCursor("webhook", cursorOf(transition(i - 1)));
  console.log(`appended ${i}`);
}
