/** Sign-in fuzz: no input to the sign-in routes gives a 5xx, and no answer points off-site. */
import { equal, ok } from "node:assert/strict";
import fc from "fast-check";
import { T0, testApp } from "../helpers.ts";

const TOKEN = "fuzz-token-5d1e";
const ORIGIN = "http://localhost";

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(
    TOKEN,
    "/",
    "//evil.example",
    "/\\evil.example",
    "/\t/evil.example",
    "/%09/evil.example",
    "/%0A",
    "%0A",
    "/\r\nSet-Cookie: x=1",
    "/%E0%A4%A",
    "javascript:alert(1)",
    "https://evil.example/",
    "\u0000",
    "/\u0085/evil.example",
    "%",
  ),
);

/** A form body: well-formed url-encoded, multipart, JSON, or bytes that are none of these. */
const body = fc.oneof(
  fc.record({ token: text, next: text }).map((form) => ({
    type: "application/x-www-form-urlencoded",
    data: new URLSearchParams(form).toString(),
  })),
  fc.record({ token: text, next: text }).map((form) => {
    const data = new FormData();
    data.set("token", form.token);
    data.set("next", form.next);
    return { type: undefined, data };
  }),
  fc.tuple(
    fc.constantFrom(
      "application/x-www-form-urlencoded",
      "multipart/form-data",
      "multipart/form-data; boundary=x",
      "application/json",
      "text/plain",
      "",
    ),
    fc.oneof(text, fc.constantFrom("token=%&next=%0A", "next=%E0%A4%A&token=", "--x\r\nbroken", "{")),
  ).map(([type, data]) => ({ type, data })),
);

/** Where a browser would go for a Location header, resolved against the service. */
function staysOnOrigin(location: string): boolean {
  return !/\p{Cc}/u.test(location) && new URL(location, ORIGIN).origin === ORIGIN;
}

Deno.test("the sign-in routes answer any method, next, token or body without a 5xx and never redirect off-site", async () => {
  const { app } = testApp({ env: { API_TOKEN: TOKEN }, now: T0 });
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "POST", "PUT"),
      fc.constantFrom("/auth/login", "/auth/logout", "/", "/docs"),
      fc.array(fc.tuple(fc.constantFrom("next", "token", "x"), text), { maxLength: 3 }),
      body,
      async (method, route, params, { type, data }) => {
        const query = new URLSearchParams(params).toString();
        const headers: Record<string, string> = { accept: "text/html" };
        if (type !== undefined) headers["content-type"] = type;
        const init: RequestInit = { method, headers };
        if (method !== "GET") init.body = data;
        const res = await app.request(`${route}?${query}`, init);
        const what = `${method} ${route}?${query} ${type} ${JSON.stringify(String(data))}`;
        ok(res.status < 500, `${what} → ${res.status}`);
        const location = res.headers.get("location");
        if (location !== null) ok(staysOnOrigin(location), `${what} → Location ${JSON.stringify(location)}`);
        const html = await res.text();
        const echoed = /name="next" value="([^"]*)"/.exec(html)?.[1];
        if (echoed !== undefined) {
          const next = echoed.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));
          ok(staysOnOrigin(next), `${what} → form next ${JSON.stringify(next)}`);
          equal(next.startsWith("/"), true);
        }
      },
    ),
    { numRuns: 2000 },
  );
});
