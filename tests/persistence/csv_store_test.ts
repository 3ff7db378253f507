import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { STORE_FILE_NAMES } from "../../src/core/vocabulary.ts";
import { join } from "node:path";
import {
  CSV_HEADER,
  type CsvSnapshotStore,
  encodeRows,
  openCsvStore,
} from "../../src/persistence/csv_store.ts";
import { SNAPSHOT_COLUMNS, SnapshotStoreError } from "../../src/persistence/snapshot.ts";
import { row, spawnWriter, trickyRows, watchWriter, withTempDir } from "./rows.ts";

const ALL = { signal: "alpha", windowSec: 3600, limit: 10_000 };

async function withCsv(
  fn: (store: CsvSnapshotStore, path: string, dir: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.csv);
    const store = await openCsvStore(path);
    try {
      await fn(store, path, dir);
    } finally {
      await store.close();
    }
  });
}

Deno.test("csv store writes the header once, then one line per row, numbers as String(x), null as empty", () =>
  withCsv(async (store, path) => {
    equal(CSV_HEADER, SNAPSHOT_COLUMNS.join(","));
    equal(await Deno.readTextFile(path), `${CSV_HEADER}\n`);
    await store.append([row(0, { mean: 0.1 + 0.2, stdev: 1e-17, volatility_index: null })]);
    await store.append([row(1, { signal: 'a,"b"', source: "x, y" })]);
    await store.close();
    const reopened = await openCsvStore(path);
    await reopened.append([row(2, { risk: "unknown", mean: null, stdev: null, volatility_index: null })]);
    await reopened.close();
    equal(
      await Deno.readTextFile(path),
      `${CSV_HEADER}\n` +
        `2024-05-01T12:00:00Z,alpha,3600,2024-05-01T11:00:00Z,2024-05-01T12:00:00Z,100,0.30000000000000004,1e-17,,` +
        `low,mock_file:fixtures/points.json,"0.1.0"\n` +
        `2024-05-01T12:01:00Z,"a,""b""",3600,2024-05-01T11:01:00Z,2024-05-01T12:01:00Z,101,0.501,0.02,0.02,` +
        `low,"x, y","0.1.0"\n` +
        `2024-05-01T12:02:00Z,alpha,3600,2024-05-01T11:02:00Z,2024-05-01T12:02:00Z,102,,,,` +
        `unknown,mock_file:fixtures/points.json,"0.1.0"\n`,
    );
  }));

Deno.test("csv store skips a torn last line, and the next append starts on a fresh line", () =>
  withCsv(async (store, path) => {
    await store.append([row(0), row(1)]);
    const full = encodeRows([row(2)]);
    await Deno.writeTextFile(path, full.slice(0, 70), { append: true }); // a crash mid-write
    await store.close();

    const reopened = await openCsvStore(path);
    try {
      deepEqual(await reopened.history(ALL), [row(0), row(1)]);
      equal(reopened.skippedLines, 1);
      await reopened.append([row(3)]);
      deepEqual(await reopened.history(ALL), [row(0), row(1), row(3)]);
      equal(reopened.skippedLines, 1);
      const lines = (await Deno.readTextFile(path)).split("\n");
      equal(lines[3], full.slice(0, 70));
      equal(lines[4], encodeRows([row(3)]).slice(0, -1));
    } finally {
      await reopened.close();
    }
  }));

Deno.test("csv store detects a line torn inside its last field, or inside a multi-byte character", () =>
  withCsv(async (store, path) => {
    await store.append([row(0)]);
    const line = encodeRows([row(1)]);
    await Deno.writeTextFile(path, line.slice(0, line.indexOf('"0.1') + 4), { append: true }); // …,"0.1
    await store.append([row(2)]);
    const unicode = new TextEncoder().encode(
      encodeRows([row(3, { signal: "alpha", source: "ünïcödé 信号" })]),
    );
    const cut = unicode.indexOf(0xe4); // the first byte of 信
    const file = await Deno.open(path, { append: true });
    await file.write(unicode.subarray(0, cut + 1));
    file.close();
    await store.append([row(4)]);
    deepEqual(await store.history(ALL), [row(0), row(2), row(4)]);
    equal(store.skippedLines, 2);
  }));

Deno.test("csv store reads a complete last line that only lacks its newline", () =>
  withCsv(async (store, path) => {
    await store.append([row(0)]);
    await Deno.writeTextFile(path, encodeRows([row(1)]).slice(0, -1), { append: true });
    deepEqual(await store.history(ALL), [row(0), row(1)]);
    equal(store.skippedLines, 0);
    await store.append([row(2)]);
    deepEqual(await store.history(ALL), [row(0), row(1), row(2)]);
  }));

Deno.test("csv store skips malformed lines without disturbing their neighbours", () =>
  withCsv(async (store, path) => {
    await store.append([row(0)]);
    const good = encodeRows([row(1)]);
    await Deno.writeTextFile(
      path,
      [
        good.replace(",0.501,", ",0.5.1,"), // bad number
        good.replace("low", "lowish"), // bad risk
        good.replace(",low,", ',"lo"w,'), // balanced quotes that csv-parse still rejects
        good.replace("alpha", 'al"pha'), // stray quote: csv-parse fails on it
        `"unterminated,${good}`, // an unbalanced quote swallowing a whole row
        "",
        good,
      ].join("\n"),
      { append: true },
    );
    await store.append([row(2)]);
    deepEqual(await store.history(ALL), [row(0), row(1), row(2)]);
    equal(store.skippedLines, 5);
  }));

Deno.test("csv store reads files with CRLF line ends and a byte order mark", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.csv);
    await Deno.writeTextFile(
      path,
      `\ufeff${CSV_HEADER}\r\n${encodeRows([row(0), row(1)]).replaceAll("\n", "\r\n")}`,
    );
    const store = await openCsvStore(path);
    try {
      deepEqual(await store.history(ALL), [row(0), row(1)]);
      await store.append([row(2)]);
      deepEqual(await store.history(ALL), [row(0), row(1), row(2)]);
    } finally {
      await store.close();
    }
  }));

Deno.test("openCsvStore() refuses a CSV with another header and never writes to it", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.csv);
    const foreign = "timestamp,signal,score\n2024-01-01T00:00:00Z,alpha,0.9\n";
    await Deno.writeTextFile(path, foreign);
    await rejects(openCsvStore(path), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(`"${path}"`), error.message);
      ok(error.message.includes('its CSV header is "timestamp,signal,score"'), error.message);
      ok(error.message.includes(`expected "${CSV_HEADER}"`), error.message);
      ok(error.message.includes("left unchanged"), error.message);
      return true;
    });
    equal(await Deno.readTextFile(path), foreign);
  }));

Deno.test("openCsvStore() completes a torn header and writes the header into an empty file", () =>
  withTempDir(async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.csv);
    await Deno.writeTextFile(path, CSV_HEADER.slice(0, 30));
    const store = await openCsvStore(path);
    equal(await Deno.readTextFile(path), `${CSV_HEADER}\n`);
    await store.append([row(0)]);
    deepEqual(await store.history(ALL), [row(0)]);
    await store.close();

    await Deno.writeTextFile(path, "");
    const again = await openCsvStore(path);
    equal(await Deno.readTextFile(path), `${CSV_HEADER}\n`);
    await again.close();
  }));

Deno.test("csv store append rejects when the file cannot be written, and works again once it can", () =>
  withCsv(async (store, path, dir) => {
    await store.append([row(0)]);
    await Deno.remove(path);
    await Deno.mkdir(path); // the store's path is now a directory: every write fails
    await rejects(store.append([row(1)]), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.includes(`Cannot append 1 snapshot rows to "${path}"`), error.message);
      ok(error.cause instanceof Error);
      return true;
    });
    await rejects(store.history(ALL), SnapshotStoreError);

    const healthy = await openCsvStore(join(dir, "healthy.csv"));
    await healthy.append([row(2)]);
    deepEqual(await healthy.history(ALL), [row(2)]);
    await healthy.close();

    await Deno.remove(path);
    await store.append([row(3)]); // the same store, usable again: a new file with its header
    equal((await Deno.readTextFile(path)).split("\n")[0], CSV_HEADER);
    deepEqual(await store.history(ALL), [row(3)]);
  }));

/** Runs `fn` with a directory on a fresh tmpfs of `size` (a real disk that fills up; needs root). */
async function withTmpfs(size: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const mount = await new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir] })
    .output();
  equal(mount.code, 0, `mounting a ${size} tmpfs needs root: ${new TextDecoder().decode(mount.stderr)}`);
  try {
    await fn(dir);
  } finally {
    await new Deno.Command("umount", { args: [dir] }).output();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("csv store append on a full disk leaves the file exactly as it was: no partial rows land", () =>
  withTmpfs("16k", async (dir) => {
    const path = join(dir, STORE_FILE_NAMES.csv!);
    const store = await openCsvStore(path);
    try {
      const acknowledged = [];
      let failures = 0;
      // Batches of 1 to 7 rows (about 180 bytes each), so the disk fills in the middle of a batch.
      for (let i = 0, next = 0; i < 200 && failures < 5; i++) {
        const batch = Array.from({ length: (i % 7) + 1 }, () => row(next++));
        const before = await Deno.readFile(path);
        try {
          await store.append(batch);
          acknowledged.push(...batch);
        } catch (error) {
          ok(error instanceof SnapshotStoreError);
          ok(/space|ENOSPC|full/i.test(error.message), error.message);
          failures++;
          deepEqual(
            await Deno.readFile(path),
            before,
            "a failed append leaves the file byte for byte as it was",
          );
        }
      }
      ok(failures > 0, "the 16 KiB disk filled up");
      ok(acknowledged.length > 0);
      deepEqual(await store.history(ALL), acknowledged);
      equal(store.skippedLines, 0, "no torn line was left behind");
    } finally {
      await store.close();
    }
  }));

Deno.test("csv store prune rewrites the kept lines atomically and drops unreadable ones", () =>
  withCsv(async (store, path, dir) => {
    await store.append([row(0), row(1), row(2, { signal: "*" })]);
    await Deno.writeTextFile(path, "torn,line", { append: true });
    await store.append(trickyRows());
    const untouched = await Deno.readTextFile(path);
    await Deno.chmod(path, 0o640);
    equal(await store.prune(Date.UTC(2024, 0, 1)), 0); // nothing to delete, but the torn line goes
    equal((await Deno.stat(path)).mode! & 0o777, 0o640); // the rewritten file keeps the mode
    ok(!(await Deno.readTextFile(path)).includes("torn,line"));
    equal(await store.prune(Date.parse(row(2).computed_at)), 4); // rows 0, 1 and tricky rows 0, 1
    equal(store.skippedLines, 0);
    deepEqual(await Array.fromAsync(Deno.readDir(dir), (e) => e.name), [STORE_FILE_NAMES.csv]); // no temp file left
    equal(
      await Deno.readTextFile(path),
      `${CSV_HEADER}\n${encodeRows([row(2, { signal: "*" }), ...trickyRows().slice(2)])}`,
    );
    ok(untouched.includes(encodeRows(trickyRows().slice(2))));
    deepEqual(await store.history({ signal: "*", windowSec: 3600, limit: 10 }), [row(2, { signal: "*" })]);
    equal(await store.prune(Date.parse(row(2).computed_at)), 0);
    const before = await Deno.readTextFile(path);
    equal(await store.prune(0), 0);
    equal(await Deno.readTextFile(path), before);
  }));

Deno.test("csv store keeps every acknowledged row when its writer is killed with SIGKILL", () =>
  withTempDir(async (dir) => {
    const { lastAcked, status } = await watchWriter(spawnWriter(["csv", dir, "loop"]), 40);
    equal(status.signal, "SIGKILL");
    const store = await openCsvStore(join(dir, STORE_FILE_NAMES.csv));
    try {
      await store.append([row(1000)]);
      const rows = await store.history(ALL);
      ok(rows.length >= lastAcked + 2, `${rows.length} rows, acked ${lastAcked}`);
      deepEqual(rows.slice(0, -1), rows.slice(0, -1).map((_, i) => row(i)));
      deepEqual(rows.at(-1), row(1000));
      ok(store.skippedLines <= 1);
    } finally {
      await store.close();
    }
  }));

Deno.test("csv store history with a small limit parses back past invalid newest lines", () =>
  withCsv(async (store, path) => {
    await store.append([0, 1, 2, 3, 4].map((i) => row(i)));
    const invalid = encodeRows([row(5), row(6)]).replaceAll(",low,", ",lowish,");
    await Deno.writeTextFile(path, invalid, { append: true });
    await store.append([row(0, { computed_at: "2024-05-01T11:00:00Z" })]); // older, appended last
    deepEqual(await store.history({ ...ALL, limit: 3 }), [row(2), row(3), row(4)]);
    equal(store.skippedLines, 2);
    deepEqual(await store.history({ ...ALL, limit: 2, sinceMs: Date.parse(row(3).computed_at) }), [
      row(3),
      row(4),
    ]);
    deepEqual(
      (await store.history({ ...ALL, limit: 100 }))[0],
      row(0, { computed_at: "2024-05-01T11:00:00Z" }),
    );
  }));

Deno.test("csv store history keeps the read failure as the cause of its SnapshotStoreError", () =>
  withCsv(async (store, path) => {
    await Deno.remove(path);
    await Deno.mkdir(path); // reading a directory fails
    await rejects(store.history(ALL), (error: Error) => {
      ok(error instanceof SnapshotStoreError);
      ok(error.message.startsWith(`Cannot read snapshot history from "${path}": `), error.message);
      ok(error.cause instanceof Error && !(error.cause instanceof SnapshotStoreError), String(error.cause));
      equal(error.message.endsWith(error.cause.message), true);
      return true;
    });
  }));
