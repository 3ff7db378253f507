import { equal } from "node:assert/strict";
import { redactUrl, redactUserInfo } from "../../src/core/redact.ts";

Deno.test("redactUserInfo() replaces the user info of every URL in a text and leaves the rest alone", () => {
  equal(
    redactUserInfo('Cannot reach "ftp://svc:P4ssw0rd@host/x" or https://a@b.example:8443?q=1'),
    'Cannot reach "ftp://***@host/x" or https://***@b.example:8443?q=1',
  );
  equal(redactUserInfo("http://svc:p@ss@host/"), "http://***@host/", "up to the last @ of the authority");
  equal(redactUserInfo('{"url":"//user:pw@host"}'), '{"url":"//***@host"}');
  equal(
    redactUserInfo("http://host/path@x and mail bob@example.com"),
    "http://host/path@x and mail bob@example.com",
  );
  equal(redactUserInfo("no urls here"), "no urls here");
});

Deno.test("redactUrl() hides the user info of one configured URL, even one that does not parse", () => {
  equal(redactUrl("ftp://svc:P4ssw0rd@host"), "ftp://***@host");
  equal(redactUrl("https://user@darshan.example.com/api"), "https://***@darshan.example.com/api");
  equal(redactUrl("svc:P4ssw0rd@host"), "***@host", "a URL without // still hides what precedes @");
  equal(redactUrl("https://darshan.example.com/a@b"), "https://darshan.example.com/a@b");
  equal(redactUrl("not a url"), "not a url");
  equal(redactUrl(new URL("https://svc:P4ssw0rd@host/x")), "https://***@host/x");
  equal(redactUrl(new URL("https://host/x")), "https://host/x");
});
