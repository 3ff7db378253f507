/**
 * What a delivery target is to the dispatcher (`dispatcher.ts`): a name (its cursor in the transitions log
 * and its `target` label), a URL shown only as `scheme://host[:port]`, and `send()` for a batch of
 * transitions in log order. The webhook (`webhook_target.ts`) and Alertmanager (`alertmanager_target.ts`)
 * targets POST JSON with {@linkcode postJson}.
 */
import { parseRetryAfter } from "../core/backoff.ts";
import { redactUserInfo } from "../core/redact.ts";
import type { Transition } from "../core/alerts.ts";

/** The outcome of one attempt: acknowledged (2xx), or failed with a message safe to show. */
export type SendResult =
  | { ok: true }
  | {
    ok: false;
    /** Safe to log and show: no credentials, path, query or secret. */
    error: string;
    /** The receiver's `Retry-After`, ms, when it sent one. */
    retryAfterMs?: number | null;
  };

/** A state re-send that needs no cursor (Alertmanager's active alerts, every `ALERT_RESEND_S`). */
export interface Resend {
  intervalMs: number;
  run(signal: AbortSignal): Promise<SendResult>;
}

export interface DeliveryTarget {
  /** `webhook` or `alertmanager`: the cursor's name in the log and the `target` label of the metrics. */
  readonly name: string;
  /** The configured URL; the dispatcher shows only {@linkcode urlOrigin} of it. */
  readonly url: string;
  /** Most transitions per `send()` (the webhook: 1). */
  readonly batchSize: number;
  /** Delivers `transitions` (in log order, at least one); resolves, never rejects. */
  send(transitions: readonly Transition[], signal: AbortSignal): Promise<SendResult>;
  readonly resend?: Resend;
}

/** `scheme://host[:port]` of a configured URL (no credentials, path or query); a placeholder when invalid. */
export function urlOrigin(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.host === "" ? `${parsed.protocol}` : `${parsed.protocol}//${parsed.host}`;
  } catch {
    return "(invalid URL)";
  }
}

/** Any URL in a text, cut to `scheme://host[:port]`: credentials, path, query and fragment go. */
const ANY_URL = /([a-z][a-z\d+.-]*:\/\/)(?:[^\s/?#"'<>\\]*@)?([^\s/?#"'<>\\@]+)[^\s"'<>)]*/gi;

/**
 * A message safe to log or show: every URL in it reduced to its origin, user info redacted (`core/redact.ts`)
 * and each of `secrets` (non-empty) replaced by `***`.
 */
export function safeMessage(message: string, secrets: readonly string[] = []): string {
  let text = message;
  for (const secret of secrets) if (secret !== "") text = text.replaceAll(secret, "***");
  return redactUserInfo(text).replace(ANY_URL, "$1$2");
}

/** The innermost useful message of a fetch failure (Deno's `TypeError` carries the cause in `cause`). */
function describeError(error: unknown): string {
  if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
  const messages: string[] = [];
  for (let e = error, depth = 0; depth < 8 && e !== undefined && e !== null; depth++) {
    messages.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  const all = messages.join(": ");
  if (/connection refused/i.test(all)) return "connection refused";
  if (/connection reset/i.test(all)) return "connection reset";
  return all.replace(/\s*\(os error \d+\)/g, "") || "fetch failed";
}

export interface PostJsonOptions {
  fetch: typeof globalThis.fetch;
  /** Per request; the request is aborted after it. */
  timeoutMs: number;
  /** Aborts the request (the dispatcher's stop()). */
  signal: AbortSignal;
  now: () => number;
  headers?: Record<string, string>;
  /** Strings never to show in an error (a secret). */
  secrets?: readonly string[];
}

/**
 * POSTs `body` (JSON text) to `url`: 2xx is `ok` (the body is drained); anything else is a failure saying
 * the status (or the network error) and the origin, with `Retry-After` when the receiver sent one.
 */
export async function postJson(url: string, body: string, options: PostJsonOptions): Promise<SendResult> {
  const origin = urlOrigin(url);
  const secrets = options.secrets ?? [];
  try {
    const response = await options.fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...options.headers },
      signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
    });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
    const retryAfter = response.headers.get("retry-after");
    return {
      ok: false,
      error: safeMessage(`POST ${origin}: HTTP ${status}`, secrets),
      retryAfterMs: retryAfter === null ? null : parseRetryAfter(retryAfter, options.now()),
    };
  } catch (error) {
    if (options.signal.aborted) return { ok: false, error: "stopped" };
    const message = describeError(error).replaceAll(url, origin);
    return { ok: false, error: safeMessage(`POST ${origin}: ${message}`, secrets) };
  }
}
