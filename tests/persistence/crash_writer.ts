/**
 * Child process for the crash tests (not a test file itself).
 *
 *   crash_writer.ts <mode> <dataDir> loop        append forever (the parent kills it with SIGKILL)
 *   crash_writer.ts <mode> <dataDir> exit <n>    append n times, then exit without closing the store
 *
 * Each append writes rows i for "alpha" and "beta", then prints "appended i".
 */
import { join } from "node:path";
import { openSnapshotStore } from "../../src/persistence/open_store.ts";
import { STORE_MODES } from "../../src/core/vocabulary.ts";
import { row } from "./rows.ts";

const [modeArg, dataDir, behaviour, countArg] = Deno.args;
const mode = STORE_MODES.find((m) => m === modeArg);
if (mode === undefined || dataDir === undefined) {
  throw new Error(`Usage: crash_writer.ts <mode> <dataDir> loop|exit [n]`);
}

const store = await openSnapshotStore(mode, { dataDir, kvPath: join(dataDir, "rolling_store.kv") });
const count = behaviour === "exit" ? Number(countArg) : Infinity;
for (let i = 0; i < count; i++) {
  await store.append([row(i), row(i, { signal: "beta" })]);
  console.log(`appended ${i}`);
}
Deno.exit(0);
