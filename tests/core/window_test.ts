import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { formatWindow, parseWindow, parseWindowList, WindowError } from "../../src/core/window.ts";

/** Runs `fn`, asserts it throws a WindowError, and returns the message. */
function windowErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    ok(error instanceof WindowError, `expected a WindowError, got ${error}`);
    equal(error.name, "WindowError");
    return error.message;
  }
  throw new Error("expected a WindowError, but nothing was thrown");
}

Deno.test("parseWindow() reads each unit: 30s, 5m, 1h, 24h, 7d", () => {
  equal(parseWindow("30s"), 30);
  equal(parseWindow("5m"), 300);
  equal(parseWindow("1h"), 3600);
  equal(parseWindow("24h"), 86_400);
  equal(parseWindow("7d"), 604_800);
});

Deno.test("parseWindow() reads plain digits as seconds", () => {
  equal(parseWindow("3600"), 3600);
  equal(parseWindow("1"), 1);
  equal(parseWindow("90"), 90);
});

Deno.test("parseWindow() ignores surrounding whitespace and letter case", () => {
  equal(parseWindow("  1h  "), 3600);
  equal(parseWindow("\t5M\n"), 300);
  equal(parseWindow("7D"), 604_800);
  equal(parseWindow(" 30S"), 30);
});

Deno.test("parseWindow() accepts leading zeros", () => {
  equal(parseWindow("01h"), 3600);
  equal(parseWindow("0030"), 30);
});

Deno.test("parseWindow() refuses the empty string and says what is accepted", () => {
  const message = windowErrorOf(() => parseWindow(""));
  match(message, /^Cannot parse window "":/);
  match(message, /expected a number followed by s, m, h or d/);
  match(message, /plain seconds/);
  windowErrorOf(() => parseWindow("   "));
});

Deno.test("parseWindow() refuses an unknown unit such as 5x and quotes the input", () => {
  const message = windowErrorOf(() => parseWindow("5x"));
  match(message, /^Cannot parse window "5x": expected a number followed by s, m, h or d/);
  match(message, /30s, 5m, 1h, 7d/);
});

Deno.test("parseWindow() refuses negative and fractional windows", () => {
  match(windowErrorOf(() => parseWindow("-1h")), /^Cannot parse window "-1h"/);
  match(windowErrorOf(() => parseWindow("1.5h")), /^Cannot parse window "1\.5h"/);
  match(windowErrorOf(() => parseWindow("+1h")), /^Cannot parse window "\+1h"/);
});

Deno.test("parseWindow() refuses text with inner spaces or several units", () => {
  windowErrorOf(() => parseWindow("1 h"));
  windowErrorOf(() => parseWindow("1h30m"));
  windowErrorOf(() => parseWindow("h"));
  windowErrorOf(() => parseWindow("1e3"));
});

Deno.test("parseWindow() refuses zero with or without a unit as an empty window", () => {
  for (const text of ["0", "0h", "0s", "00d"]) {
    const message = windowErrorOf(() => parseWindow(text));
    equal(message, `Window "${text}" is empty: a window must be at least 1 second`);
  }
});

Deno.test("parseWindow() accepts a window equal to maxSec and refuses one just above it", () => {
  equal(parseWindow("30d", { maxSec: 30 * 86_400 }), 2_592_000);
  equal(parseWindow("2592000", { maxSec: 2_592_000 }), 2_592_000);
  const message = windowErrorOf(() => parseWindow("2592001", { maxSec: 2_592_000 }));
  equal(message, `Window "2592001" is too long: the maximum is 30d (2592000 s)`);
  match(windowErrorOf(() => parseWindow("31d", { maxSec: 2_592_000 })), /^Window "31d" is too long/);
});

Deno.test("parseWindow() checks the window in seconds, not the digits, against maxSec", () => {
  // 1h = 3600 s is above a 59m maximum even though "1" is small.
  match(windowErrorOf(() => parseWindow("1h", { maxSec: 3540 })), /maximum is 59m \(3540 s\)/);
  equal(parseWindow("59m", { maxSec: 3540 }), 3540);
});

Deno.test("parseWindow() without maxSec refuses windows beyond safe integers with a finite maximum", () => {
  const message = windowErrorOf(() => parseWindow("99999999999999999999d"));
  match(message, /^Window "99999999999999999999d" is too long: the maximum is /);
  ok(!message.includes("Infinity"), `the message names an unusable maximum: ${message}`);
  match(message, /9007199254740991/);
});

Deno.test("parseWindow() refuses very long input and truncates it in the message", () => {
  const long = "1".repeat(10_000) + "h";
  const message = windowErrorOf(() => parseWindow(long));
  match(message, /^Cannot parse window "1{32}…"/);
  ok(message.length < 200, `message is ${message.length} characters long`);
  // 33 digits is one past the limit even though it would otherwise match the pattern.
  windowErrorOf(() => parseWindow("0".repeat(32) + "1"));
});

Deno.test("parseWindow() takes 32 characters of digits as the longest parsable text", () => {
  equal(parseWindow("0".repeat(31) + "5"), 5);
});

Deno.test("formatWindow() picks the largest exact unit, days only from 2 days on", () => {
  equal(formatWindow(30), "30s");
  equal(formatWindow(90), "90s");
  equal(formatWindow(60), "1m");
  equal(formatWindow(300), "5m");
  equal(formatWindow(5400), "90m");
  equal(formatWindow(3600), "1h");
  equal(formatWindow(86_400), "24h");
  equal(formatWindow(90_000), "25h");
  equal(formatWindow(172_800), "2d");
  equal(formatWindow(604_800), "7d");
  equal(formatWindow(3601), "3601s");
});

Deno.test("formatWindow() shows non-finite values as text instead of looping or throwing", () => {
  equal(formatWindow(Number.POSITIVE_INFINITY), "Infinity");
  equal(formatWindow(Number.NaN), "NaN");
});

Deno.test("formatWindow() output parses back to the same seconds", () => {
  const samples = [1, 2, 30, 59, 60, 61, 90, 120, 300, 3599, 3600, 3601, 5400, 7200, 86_399, 86_400, 90_000];
  samples.push(172_800, 604_800, 2_592_000, 31_536_000, 123_456_789);
  for (const seconds of samples) {
    equal(parseWindow(formatWindow(seconds)), seconds, `round trip of ${seconds}`);
  }
});

Deno.test("parseWindow() output formats back to the canonical text", () => {
  for (const text of ["30s", "5m", "1h", "7d", "90s", "25h"]) {
    equal(formatWindow(parseWindow(text)), text);
  }
  equal(formatWindow(parseWindow("24h")), "24h");
  equal(formatWindow(parseWindow("60m")), "1h");
  equal(formatWindow(parseWindow("3600")), "1h");
});

Deno.test("parseWindowList() keeps the given order", () => {
  deepEqual(parseWindowList("24h,1h,5m"), [86_400, 3600, 300]);
});

Deno.test("parseWindowList() drops duplicates by value and keeps the first occurrence", () => {
  deepEqual(parseWindowList("1h,5m,60m,3600,5m,1d"), [3600, 300, 86_400]);
});

Deno.test("parseWindowList() ignores spaces and empty items", () => {
  deepEqual(parseWindowList(" 1h , ,24h,"), [3600, 86_400]);
  deepEqual(parseWindowList("1h"), [3600]);
});

Deno.test("parseWindowList() refuses an empty list", () => {
  for (const text of ["", " ", ",", " , , "]) {
    equal(windowErrorOf(() => parseWindowList(text)), "Window list is empty: expected e.g. 1h,24h");
  }
});

Deno.test("parseWindowList() refuses the list when one item is bad and names that item", () => {
  match(windowErrorOf(() => parseWindowList("1h,5x,24h")), /^Cannot parse window "5x"/);
  match(windowErrorOf(() => parseWindowList("1h,0")), /^Window "0" is empty/);
});

Deno.test("parseWindowList() applies maxSec to every item", () => {
  deepEqual(parseWindowList("1h,24h", { maxSec: 86_400 }), [3600, 86_400]);
  match(windowErrorOf(() => parseWindowList("1h,7d", { maxSec: 86_400 })), /^Window "7d" is too long/);
});

Deno.test("WindowError is an Error subclass", () => {
  throws(() => parseWindow("x"), Error);
  throws(() => parseWindow("x"), WindowError);
});
