/**
 * A writer in another process (tests/shared/kv_points_test.ts): opens the KV file given as the first argument,
 * holds `scatter("child", 500, …, seed)` points and commits them as one shared-points version. With `hang`, it
 * writes every chunk, prints `{"chunksWritten":true}` and waits before the version commit (to be killed).
 * Usage: deno run -A --unstable-kv kv_points_child.ts <kv path> <seed> [hang]
 */
import { PointStore } from "../../src/core/point_store.ts";
import { createKvPointWriter } from "../../src/shared/kv_points.ts";
import { BASE, HOUR, scatter } from "./points_fixture.ts";

const [path, seed, mode] = Deno.args;
const kv = await Deno.openKv(path);
const store = new PointStore();
store.apply(scatter("child", 500, BASE, BASE + 3 * HOUR, Number(seed)));
const beforeVersionCommit = mode === "hang"
  ? async () => {
    console.log(JSON.stringify({ chunksWritten: true }));
    await new Promise(() => {});
  }
  : undefined;
const result = await createKvPointWriter({ kv, store, beforeVersionCommit }).writeCycle("all", {
  holderId: "child",
});
kv.close();
console.log(JSON.stringify(result));
