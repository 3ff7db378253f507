/** `onError`: every error becomes one problem+json answer, each HTTPException status its own problem type. */
import { deepEqual, equal } from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { HTTP_EXCEPTION_KINDS, onError } from "../../src/http/errors.ts";
import type { AppEnv } from "../../src/http/env.ts";
import { PROBLEM_BASE } from "../../src/http/problem.ts";
import { ProblemSchema } from "../../src/schemas.ts";
import { captureLogs } from "../helpers.ts";

/** An app whose `/throw/:status` throws an HTTPException with that status (and `message` when given). */
function throwingApp() {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set("requestId", "req-errors");
    await next();
  });
  app.get("/throw/:status", (c) => {
    const status = Number(c.req.param("status")) as ContentfulStatusCode;
    const message = c.req.query("message");
    const res = c.req.query("allow")
      ? new Response(null, { status, headers: { Allow: "GET, HEAD" } })
      : undefined;
    throw new HTTPException(status, { message, res });
  });
  app.onError(onError);
  return app;
}

async function problemOf(app: Hono<AppEnv>, path: string) {
  const response = await app.request(path);
  equal(response.headers.get("content-type"), "application/problem+json", path);
  return { response, body: ProblemSchema.parse(await response.json()) };
}

Deno.test("onError maps each HTTPException status to its own problem type and title", async () => {
  const app = throwingApp();
  const expected: [number, string, string][] = [
    [400, "bad-request", "Bad request"],
    [401, "unauthorized", "Unauthorized"],
    [404, "not-found", "Not found"],
    [405, "method-not-allowed", "Method not allowed"],
    [413, "payload-too-large", "Payload too large"],
    [414, "uri-too-long", "URI too long"],
    [415, "unsupported-media-type", "Unsupported media type"],
    [429, "too-many-requests", "Too many requests"],
  ];
  deepEqual(Object.keys(HTTP_EXCEPTION_KINDS).map(Number), expected.map(([status]) => status));
  for (const [status, kind, title] of expected) {
    const { response, body } = await problemOf(app, `/throw/${status}?message=why+${status}`);
    equal(response.status, status);
    deepEqual(body, {
      type: `${PROBLEM_BASE}${kind}`,
      title,
      status,
      detail: `why ${status}`,
      requestId: "req-errors",
    });
  }
});

Deno.test("onError: a 405 is not an invalid parameter, and keeps the exception's Allow header", async () => {
  const { response, body } = await problemOf(throwingApp(), "/throw/405?allow=1");
  equal(response.status, 405);
  equal(body.type, `${PROBLEM_BASE}method-not-allowed`);
  equal(body.detail, "Method not allowed", "without a message the detail is the title");
  equal(response.headers.get("allow"), "GET, HEAD");
});

Deno.test("onError: another 4xx is an about:blank problem with the status text; a 5xx is internal and logged", async () => {
  const app = throwingApp();
  const teapot = await problemOf(app, "/throw/418");
  equal(teapot.response.status, 418);
  deepEqual(teapot.body, {
    type: "about:blank",
    title: "I'm a Teapot",
    status: 418,
    detail: "I'm a Teapot",
    requestId: "req-errors",
  });
  const { result, records } = await captureLogs(() => problemOf(app, "/throw/503?message=down"));
  equal(result.response.status, 500);
  equal(result.body.type, `${PROBLEM_BASE}internal`);
  equal(records.filter((r) => r.level === "error").length, 1);
});
