import { equal, ok } from "node:assert/strict";
import { configure, dispose, getLogger, reset } from "@logtape/logtape";
import { configureLogging, levelEnabled } from "../src/logging.ts";

/** A sink stream that drops everything (each configuration locks its own). */
const discard = () => new WritableStream<Uint8Array>();

Deno.test("levelEnabled() follows the configured level and notices reconfiguration", async () => {
  const info = levelEnabled(["coherence", "http"], "info");
  const error = levelEnabled(["coherence", "http"], "error");
  try {
    await configureLogging({ level: "warning", stream: discard() });
    equal(info(), false);
    equal(error(), true);
    await configureLogging({ level: "info", stream: discard() });
    equal(info(), true);
    await configureLogging({ level: "fatal", stream: discard() });
    equal(error(), false);
  } finally {
    await reset();
  }
});

Deno.test("levelEnabled() is true when LogTape is not configured (nothing is skipped)", async () => {
  await reset();
  equal(levelEnabled(["coherence"], "debug")(), true);
});

Deno.test("levelEnabled() applies LogTape's chain: the most specific logger's level, then a parent's sinks", async () => {
  try {
    await configure({
      reset: true,
      sinks: { mem: () => {} },
      loggers: [
        { category: "coherence", lowestLevel: "debug", sinks: ["mem"] },
        { category: ["coherence", "http"], lowestLevel: "error" },
        { category: ["coherence", "quiet"], lowestLevel: "trace", parentSinks: "override" },
        { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["mem"] },
      ],
    });
    equal(levelEnabled(["coherence", "http"], "info")(), false);
    equal(levelEnabled(["coherence", "http", "deep"], "error")(), true);
    equal(levelEnabled(["coherence", "metrics"], "debug")(), true);
    equal(levelEnabled(["coherence", "quiet"], "fatal")(), false);
    equal(levelEnabled(["other"], "fatal")(), false);
  } finally {
    await reset();
  }
});

Deno.test("configureLogging() never writes the user info of a URL, whoever logs it", async () => {
  let line = "";
  const decoder = new TextDecoder();
  const stream = new WritableStream<Uint8Array>({
    write: (chunk) => void (line += decoder.decode(chunk, { stream: true })),
  });
  try {
    await configureLogging({ level: "info", stream });
    getLogger(["coherence", "test"]).error("delivery to {url} failed", {
      url: "https://hook:P4ssw0rd@alerts.example/v1",
      error: "fetch https://hook:P4ssw0rd@alerts.example/v1 refused",
    });
  } finally {
    await dispose(); // flushes the buffered sink
  }
  ok(line.includes("https://***@alerts.example/v1"), line);
  ok(!line.includes("P4ssw0rd"), line);
});
