/**
 * The optional inbound token (`API_TOKEN`). API clients send `Authorization: Bearer <token>`; a person using
 * the verification page signs in once with the token through a form and gets a session cookie (HttpOnly,
 * SameSite=Strict) holding an HMAC of the token — never the token itself. Both are checked in constant time.
 * `/health`, the sign-in route and the page's static assets stay open.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "hono/utils/buffer";
import { escapeHtml, toHex } from "./encoding.ts";
import { ProblemError } from "./problem.ts";

export const SESSION_COOKIE = "ce_session";
const OPEN_PATHS = new Set(["/health", "/auth/login", "/auth/logout"]);

/** Paths that answer without the token: `/health`, sign-in and sign-out, and the page's assets (`/static/*`). */
export function isPublicPath(path: string): boolean {
  return OPEN_PATHS.has(path) || path.startsWith("/static/");
}

/** The session cookie's value for a token: HMAC-SHA256(token, "coherence-engine session"), hex. */
export async function sessionValue(token: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(token),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("coherence-engine session"));
  return toHex(mac);
}

function wantsHtml(accept: string | undefined): boolean {
  return (accept ?? "").includes("text/html");
}

/** A small sign-in page (no inline script or style: it passes the service's CSP). */
export function signInPage(message: string, next = "/"): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Coherence Engine</title><link rel="stylesheet" href="/static/page.css"></head>
<body><main class="signin">
<h1>Coherence Engine</h1>
<p role="alert">${escapeHtml(message)}</p>
<form method="post" action="/auth/login">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<button type="submit">Sign in</button>
</form>
</main></body></html>`;
}

/** C0 and C1 control characters (a browser drops tab and newline from a URL: `/\t/evil.com` is `//evil.com`). */
const CONTROL = /\p{Cc}/u;
/** A path on this origin: one leading `/`, not followed by `/` or `\` (which would name another host). */
const LOCAL_PATH = /^\/(?![/\\])/;
const SAME_ORIGIN = "http://same-origin.invalid";

/**
 * Where to go after sign-in: `next` when it is a path on this origin, else `/`. A path has one leading `/` not
 * followed by `/` or `\`, no control characters and no scheme, checked on the value and again after
 * percent-decoding it (`/%09/evil.com`, `/%2F/evil.com`), and it must resolve to this origin.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || next.length > 4096) return "/";
  let decoded: string;
  try {
    decoded = decodeURIComponent(next);
  } catch {
    return "/"; // a malformed escape: not a path we wrote
  }
  for (const text of [next, decoded]) {
    if (!LOCAL_PATH.test(text) || CONTROL.test(text)) return "/";
  }
  return new URL(next, SAME_ORIGIN).origin === SAME_ORIGIN ? next : "/";
}

/** Requires the token (bearer header or session cookie) on every path but /health, sign-in and /static/*. */
export function tokenAuth({ token }: { token: string }): MiddlewareHandler {
  const expected = sessionValue(token);
  return async (c, next) => {
    const path = c.req.path;
    if (isPublicPath(path)) return await next();
    const header = c.req.header("authorization") ?? "";
    const bearer = /^Bearer\s+(.+)$/i.exec(header);
    if (bearer && (await timingSafeEqual(bearer[1].trim(), token))) return await next();
    const cookie = getCookie(c, SESSION_COOKIE);
    if (!bearer && cookie && (await timingSafeEqual(cookie, await expected))) return await next();
    if (c.req.method === "GET" && wantsHtml(c.req.header("accept")) && !path.startsWith("/coherence/")) {
      const url = new URL(c.req.url);
      return c.html(
        signInPage("This service needs its API token.", safeNext(url.pathname + url.search)),
        401,
      );
    }
    throw new ProblemError(
      "unauthorized",
      bearer ? "The bearer token is not valid" : "This service requires Authorization: Bearer <API_TOKEN>",
    );
  };
}

/** `POST /auth/login` (form: token, next) and `POST /auth/logout`. */
export function authRoutes({ token }: { token: string }): Hono {
  const app = new Hono();
  app.post("/auth/login", async (c) => {
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const given = typeof form.token === "string" ? form.token : "";
    const next = safeNext(form.next);
    if (!given || !(await timingSafeEqual(given, token))) {
      return c.html(signInPage("That token is not valid.", next), 401);
    }
    setCookie(c, SESSION_COOKIE, await sessionValue(token), {
      httpOnly: true,
      sameSite: "Strict",
      secure: new URL(c.req.url).protocol === "https:",
      path: "/",
    });
    return c.redirect(next, 303);
  });
  app.post("/auth/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.redirect("/", 303);
  });
  return app;
}
