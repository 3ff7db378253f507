/**
 * Tracing through Deno's built-in OpenTelemetry export. With `OTEL_DENO=true` Deno instruments `Deno.serve`
 * (one span per request), `fetch` (one per upstream call, with `traceparent` sent) and `Deno.cron`, and
 * registers its tracer provider with `@opentelemetry/api`, which this module uses to:
 *
 * - name each request span after its route pattern (`GET /coherence/metrics`) and tag it with the request id;
 * - wrap each ingest cycle in an `ingest.cycle` span (upstream fetches become its children) carrying the
 *   cycle's request id, range and record counts.
 *
 * Without `OTEL_DENO` the API is a no-op and none of this costs more than a function call.
 */
import { context, type Span, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { IngestCycle } from "./schemas.ts";

const TRACER_NAME = "coherence-engine";
/** The attribute carrying the request id (X-Request-ID, or the ingest cycle's id) on every span we touch. */
export const REQUEST_ID_ATTRIBUTE = "coherence.request_id";
export const INGEST_SPAN_NAME = "ingest.cycle";

/**
 * Tags the active request span (the one `Deno.serve` opened) with the request id and, once routing is known,
 * the route: `http.route` and the span name `METHOD /route` (OpenTelemetry's HTTP naming).
 */
export function annotateRequestSpan(
  { requestId, method, route }: { requestId?: string; method?: string; route?: string },
  span: Span | undefined = trace.getActiveSpan(),
): void {
  if (span === undefined || !span.isRecording()) return;
  if (requestId) span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
  if (method && route) {
    span.setAttribute("http.route", route);
    span.updateName(`${method} ${route}`);
  }
}

/** The attributes an ingest cycle's span ends with. */
export function cycleAttributes(cycle: IngestCycle): Record<string, string | number | boolean> {
  const attributes: Record<string, string | number | boolean> = {
    [REQUEST_ID_ATTRIBUTE]: cycle.requestId,
    "ingest.ok": cycle.ok,
    "ingest.pages": cycle.pages,
    "ingest.retries": cycle.retries,
    "ingest.received": cycle.received,
    "ingest.inserted": cycle.inserted,
    "ingest.updated": cycle.updated,
    "ingest.duplicates": cycle.duplicates,
    "ingest.rejected": cycle.rejected,
    "ingest.evicted": cycle.evicted,
    "ingest.upstream_latency_ms": cycle.upstreamLatencyMs,
  };
  if (cycle.range) {
    attributes["ingest.range.from"] = cycle.range.from;
    attributes["ingest.range.to"] = cycle.range.to;
  }
  return attributes;
}

/**
 * Runs one ingest cycle inside an active `ingest.cycle` span, so the upstream fetches it makes are its
 * children; the span ends with the cycle's attributes, and an error status when the cycle failed.
 */
export async function traceIngestCycle(
  run: () => Promise<IngestCycle>,
  tracer: Tracer = trace.getTracer(TRACER_NAME),
): Promise<IngestCycle> {
  const span = tracer.startSpan(INGEST_SPAN_NAME);
  try {
    const cycle = await context.with(trace.setSpan(context.active(), span), run);
    span.setAttributes(cycleAttributes(cycle));
    if (!cycle.ok) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: cycle.error ?? "ingest cycle failed" });
    }
    return cycle;
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}
