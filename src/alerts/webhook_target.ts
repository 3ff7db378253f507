/**
 * Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com): each transition is POSTed on its own,
 * in log order, as
 *
 * ```json
 * { "type": "coherence.risk.transition", "timestamp": "<transition at>", "data": <Transition> }
 * ```
 *
 * with `webhook-id` = the transition id (the same on every retry: receivers deduplicate on it),
 * `webhook-timestamp` = the attempt's time in epoch seconds and `webhook-signature` = `v1,<base64
 * HMAC-SHA256 of "id.timestamp.body">`, made by `npm:standardwebhooks`. Every attempt is signed afresh (a
 * receiver rejects timestamps older than five minutes); the body is the same bytes each time.
 *
 * The secret is Standard Webhooks' `whsec_<base64>`; any other value is taken as the raw key and base64-encoded
 * (a receiver verifies with `new Webhook(rawSecret, { format: "raw" })`, or with `whsec_` + base64 of it).
 * Without a secret the requests go unsigned (no `webhook-signature`).
 */
import { Webhook } from "standardwebhooks";
import type { Transition } from "../core/alerts.ts";
import { type DeliveryTarget, postJson, type SendResult } from "./target.ts";

/** The Standard Webhooks event type of a transition. */
export const TRANSITION_EVENT = "coherence.risk.transition";

/** The JSON body of one webhook request. */
export interface TransitionEvent {
  type: typeof TRANSITION_EVENT;
  /** When the transition happened (its `at`), RFC 3339. */
  timestamp: string;
  data: Transition;
}

export interface WebhookTargetOptions {
  /** `ALERT_WEBHOOK_URL`. */
  url: string;
  /** `ALERT_WEBHOOK_SECRET`: `whsec_<base64>`, or a raw secret (base64-encoded here). */
  secret?: string;
  /** Per request, ms. Default 10 000. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
}

/** The secret in Standard Webhooks' `whsec_<base64>` form: as given when it has the prefix, else encoded. */
export function standardSecret(secret: string): string {
  if (secret.startsWith("whsec_")) return secret;
  const bytes = new TextEncoder().encode(secret);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `whsec_${btoa(binary)}`;
}

/** The body of the request for `transition`. */
export function transitionEvent(transition: Transition): TransitionEvent {
  return { type: TRANSITION_EVENT, timestamp: transition.at, data: transition };
}

export function createWebhookTarget(options: WebhookTargetOptions): DeliveryTarget {
  const { url, secret, timeoutMs = 10_000, fetch = globalThis.fetch, now = Date.now } = options;
  // Fails at start-up (not at the first alert) when the secret is not valid base64 after `whsec_`.
  const webhook = secret ? new Webhook(standardSecret(secret)) : null;
  const secrets = secret ? [secret, standardSecret(secret)] : [];
  return {
    name: "webhook",
    url,
    batchSize: 1,
    async send(transitions, signal): Promise<SendResult> {
      for (const transition of transitions) {
        const body = JSON.stringify(transitionEvent(transition));
        const at = new Date(now());
        const headers: Record<string, string> = {
          "webhook-id": transition.id,
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        };
        if (webhook !== null) headers["webhook-signature"] = webhook.sign(transition.id, at, body);
        const result = await postJson(url, body, { fetch, timeoutMs, signal, now, headers, secrets });
        if (!result.ok) return result;
      }
      return { ok: true };
    },
  };
}
