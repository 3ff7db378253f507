import { equal, match, notEqual, ok } from "node:assert/strict";
import { safeNext, SESSION_COOKIE, sessionValue } from "../../src/http/auth.ts";
import { series, T0, testApp } from "../helpers.ts";

const TOKEN = "page-token-81c4";
const points = series("alpha", T0, 60, (i) => 85 + (i % 3));

function login(app: ReturnType<typeof testApp>["app"], token: string, next = "/") {
  return app.request("/auth/login", {
    method: "POST",
    body: new URLSearchParams({ token, next }),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
}

Deno.test("with API_TOKEN, a browser asking for the page without the token gets a sign-in form, not the data", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  const res = await app.request("/?window=1h", { headers: { accept: "text/html" } });
  equal(res.status, 401);
  const html = await res.text();
  match(html, /<form method="post" action="\/auth\/login">/);
  match(html, /name="next" value="\/\?window=1h"/);
  ok(!html.includes("coherenceMean"));
  // Assets and /health stay open so the form renders.
  equal((await app.request("/health")).status, 200);
  equal((await app.request("/static/page.css")).status, 200);
  // API clients still get problem+json.
  const api = await app.request("/coherence/metrics", { headers: { accept: "text/html" } });
  equal(api.status, 401);
  equal(api.headers.get("content-type"), "application/problem+json");
});

Deno.test("signing in with the token sets an HttpOnly SameSite=Strict session cookie that is not the token", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  const res = await login(app, TOKEN, "/?window=24h");
  equal(res.status, 303);
  equal(res.headers.get("location"), "/?window=24h");
  const cookie = res.headers.get("set-cookie") ?? "";
  match(cookie, new RegExp(`^${SESSION_COOKIE}=[0-9a-f]{64}; Path=/; HttpOnly; SameSite=Strict`));
  ok(!cookie.includes(TOKEN));
  const session = cookie.split(";")[0];
  equal(session, `${SESSION_COOKIE}=${await sessionValue(TOKEN)}`);
  const page = await app.request("/", { headers: { cookie: session, accept: "text/html" } });
  equal(page.status, 200);
  const metrics = await app.request("/coherence/metrics?signal=alpha", { headers: { cookie: session } });
  equal(metrics.status, 200);
  equal((await metrics.json()).signal, "alpha");
});

Deno.test("a wrong token or a forged cookie is refused, and sign-in never redirects off-site", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  const wrong = await login(app, "nope");
  equal(wrong.status, 401);
  match(await wrong.text(), /That token is not valid/);
  equal(wrong.headers.get("set-cookie"), null);
  const forged = await app.request("/coherence/metrics", {
    headers: { cookie: `${SESSION_COOKIE}=${"0".repeat(64)}` },
  });
  equal(forged.status, 401);
  const offsite = await login(app, TOKEN, "//evil.example/steal");
  equal(offsite.headers.get("location"), "/");
  notEqual(offsite.headers.get("location"), "//evil.example/steal");
});

const UNSAFE_NEXT = [
  "//evil.example/steal",
  "/\\evil.example",
  "/\t/evil.example", // a browser drops the tab: //evil.example
  "/%09/evil.example",
  "/%2F/evil.example",
  "/%5Cevil.example",
  "/\n/evil.example",
  "/%0A",
  "/a\r\nSet-Cookie: x=1",
  "/%E0%A4%A", // a malformed escape
  "https://evil.example/",
  "javascript:alert(1)",
  "evil.example",
  "",
];

Deno.test("safeNext() keeps same-origin paths and turns everything else into /", () => {
  for (const next of ["/", "/?window=24h&signal=alpha", "/docs#top", "/a/b%20c", "/a//b", "/a\\b"]) {
    equal(safeNext(next), next);
  }
  for (const next of UNSAFE_NEXT) equal(safeNext(next), "/", JSON.stringify(next));
  equal(safeNext(undefined), "/");
  equal(safeNext(new File(["/x"], "x")), "/");
});

Deno.test("sign-in redirects an unsafe next to /, and a wrong token does not echo it into the form", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  for (const next of UNSAFE_NEXT) {
    const ok303 = await login(app, TOKEN, next);
    equal(ok303.status, 303, JSON.stringify(next));
    equal(ok303.headers.get("location"), "/", JSON.stringify(next));
    const wrong = await login(app, "nope", next);
    equal(wrong.status, 401, JSON.stringify(next));
    match(await wrong.text(), /<input type="hidden" name="next" value="\/">/, JSON.stringify(next));
  }
  // The form a browser is shown for a planted path carries / rather than the path.
  const planted = await app.request("/%09/evil.example", { headers: { accept: "text/html" } });
  equal(planted.status, 401);
  match(await planted.text(), /<input type="hidden" name="next" value="\/">/);
});

Deno.test("signing out clears the session cookie", async () => {
  const { app } = testApp({ points, env: { API_TOKEN: TOKEN } });
  const res = await app.request("/auth/logout", { method: "POST" });
  equal(res.status, 303);
  match(res.headers.get("set-cookie") ?? "", new RegExp(`^${SESSION_COOKIE}=; Max-Age=0`));
});

Deno.test("without API_TOKEN there are no sign-in routes and everything is open", async () => {
  const { app } = testApp({ points });
  equal((await app.request("/coherence/metrics")).status, 200);
  equal((await login(app, "x")).status, 404);
});
