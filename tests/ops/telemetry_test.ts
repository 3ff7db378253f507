/**
 * Tracing: the span helpers against a recording fake, and the real export — the service run with
 * `OTEL_DENO=true` against a fake OTLP/HTTP collector must send an `ingest.cycle` span and a request span named
 * after its route, both carrying the request id.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type Span, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import {
  annotateRequestSpan,
  cycleAttributes,
  INGEST_SPAN_NAME,
  REQUEST_ID_ATTRIBUTE,
  traceIngestCycle,
} from "../../src/telemetry.ts";
import type { IngestCycle } from "../../src/schemas.ts";
import { spawnMain } from "../helpers.ts";

const cycle: IngestCycle = {
  requestId: "ingest-7",
  startedAt: "2025-10-29T17:00:00Z",
  finishedAt: "2025-10-29T17:00:01Z",
  ok: true,
  range: { from: "2025-10-28T17:00:00Z", to: "2025-10-29T17:00:00Z" },
  durationMs: 1000,
  upstreamLatencyMs: 250,
  pages: 3,
  retries: 1,
  retryAfterWaitsMs: [],
  received: 10,
  accepted: 9,
  inserted: 7,
  updated: 1,
  duplicates: 1,
  rejected: 1,
  rejectedByReason: { invalid_score: 1 },
  outOfWindow: 0,
  loopGuardStops: 0,
  evicted: 0,
  error: null,
};

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  status?: { code: SpanStatusCode; message?: string };
  ended: boolean;
}

function fakeSpan(record: Recorded): Span {
  const span = {
    setAttribute(key: string, value: unknown) {
      record.attributes[key] = value;
      return span;
    },
    setAttributes(values: Record<string, unknown>) {
      Object.assign(record.attributes, values);
      return span;
    },
    setStatus(status: { code: SpanStatusCode; message?: string }) {
      record.status = status;
      return span;
    },
    updateName(name: string) {
      record.name = name;
      return span;
    },
    end() {
      record.ended = true;
    },
    isRecording: () => true,
  };
  return span as unknown as Span;
}

function fakeTracer(spans: Recorded[]): Tracer {
  return {
    startSpan(name: string) {
      const record: Recorded = { name, attributes: {}, ended: false };
      spans.push(record);
      return fakeSpan(record);
    },
  } as unknown as Tracer;
}

Deno.test("traceIngestCycle() ends one ingest.cycle span with the cycle's request id, range and counts", async () => {
  const spans: Recorded[] = [];
  const result = await traceIngestCycle(() => Promise.resolve(cycle), fakeTracer(spans));
  equal(result, cycle);
  equal(spans.length, 1);
  equal(spans[0].name, INGEST_SPAN_NAME);
  equal(spans[0].ended, true);
  equal(spans[0].attributes[REQUEST_ID_ATTRIBUTE], "ingest-7");
  equal(spans[0].attributes["ingest.range.from"], "2025-10-28T17:00:00Z");
  equal(spans[0].attributes["ingest.inserted"], 7);
  equal(spans[0].status, undefined);
});

Deno.test("traceIngestCycle() marks a failed or throwing cycle with an error status and still ends the span", async () => {
  const spans: Recorded[] = [];
  await traceIngestCycle(
    () => Promise.resolve({ ...cycle, ok: false, range: null, error: "upstream 503" }),
    fakeTracer(spans),
  );
  deepEqual(spans[0].status, { code: SpanStatusCode.ERROR, message: "upstream 503" });
  equal(spans[0].attributes["ingest.range.from"], undefined);
  await traceIngestCycle(() => Promise.reject(new Error("boom")), fakeTracer(spans)).catch(() => {});
  deepEqual(spans[1].status, { code: SpanStatusCode.ERROR, message: "boom" });
  equal(spans[1].ended, true);
});

Deno.test("cycleAttributes() uses only primitive attribute values", () => {
  for (const value of Object.values(cycleAttributes(cycle))) {
    ok(["string", "number", "boolean"].includes(typeof value));
  }
});

Deno.test("annotateRequestSpan() sets the request id, http.route and the span name METHOD /route", () => {
  const record: Recorded = { name: "GET", attributes: {}, ended: false };
  const span = fakeSpan(record);
  annotateRequestSpan({ requestId: "req-1" }, span);
  annotateRequestSpan({ method: "GET", route: "/coherence/metrics" }, span);
  equal(record.attributes[REQUEST_ID_ATTRIBUTE], "req-1");
  equal(record.attributes["http.route"], "/coherence/metrics");
  equal(record.name, "GET /coherence/metrics");
  annotateRequestSpan({ requestId: "ignored" }, undefined); // no active span (OTEL_DENO unset): a no-op
});

/** A fake OTLP/HTTP collector: keeps the printable text of every protobuf payload per signal path. */
function fakeCollector() {
  const received: Record<string, string[]> = {};
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const bytes = new Uint8Array(await request.arrayBuffer());
    // Protobuf stores strings as raw UTF-8: the printable runs are enough to find names and attribute values.
    const text = new TextDecoder("latin1").decode(bytes).replace(/[^\x20-\x7e]+/g, "|");
    (received[new URL(request.url).pathname] ??= []).push(text);
    return Response.json({});
  });
  return { server, received, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test({
  name:
    "with OTEL_DENO=true the service exports request spans named by route and ingest spans, with request ids",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const collector = fakeCollector();
    const dir = await Deno.makeTempDir();
    const { child, reader, out, url } = await spawnMain({
      env: {
        PORT: "0",
        HOST: "127.0.0.1",
        PERSISTENCE: "none",
        DATA_DIR: dir,
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        OTEL_SERVICE_NAME: "coherence-engine-test",
        OTEL_DENO_CONSOLE: "ignore",
      },
    });
    try {
      ok(url, "listening line");
      const response = await fetch(`${url}/coherence/metrics?window=1h`, {
        headers: { "X-Request-ID": "trace-me-4f2a" },
      });
      await response.body?.cancel();
      equal(response.headers.get("x-request-id"), "trace-me-4f2a");
      const ingestId = /"requestId":"(ingest-[^"]+)"/.exec(out)?.[1];
      ok(ingestId, "ingest request id in the log");
      child.kill("SIGTERM");
      equal((await child.status).code, 0);
      reader.releaseLock();
      // Deno flushes its exporter on exit; the collector may still be reading the last POST.
      const deadline = Date.now() + 5000;
      const traces = () => (collector.received["/v1/traces"] ?? []).join("\n");
      while (Date.now() < deadline && !(traces().includes("trace-me-4f2a") && traces().includes(ingestId))) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const text = traces();
      ok(text.includes("coherence-engine-test"), "service name");
      ok(text.includes(INGEST_SPAN_NAME), "ingest span");
      ok(text.includes(ingestId), "ingest request id attribute");
      ok(text.includes("GET /coherence/metrics"), "request span named by route");
      ok(text.includes(REQUEST_ID_ATTRIBUTE) && text.includes("trace-me-4f2a"), "request id attribute");
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.stdout.cancel().catch(() => {});
      await collector.server.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
