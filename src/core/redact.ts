/**
 * Credentials in URLs never get printed: `scheme://user:password@host` is shown as `scheme://***@host`.
 * Configuration errors, log lines, `/status` and error messages pass URLs (or whole texts that may hold them)
 * through these before printing.
 */

/** What replaces the user info of a URL. */
export const REDACTED = "***";

/**
 * `scheme://user info@` (and a scheme-relative `//user info@`) anywhere in `text`, with the user info replaced
 * by `***`. The user info runs to the last `@` before the host ends (passwords may hold a raw `@`); quotes,
 * white space, `/`, `?`, `#` and `\` end it, so a URL inside JSON or a sentence is found too.
 *
 * @example
 * ```ts
 * redactUserInfo('Cannot reach "ftp://svc:P4ssw0rd@host/x"'); // 'Cannot reach "ftp://***@host/x"'
 * ```
 */
export function redactUserInfo(text: string): string {
  // Both are needed for a match; every JSON log line has "@timestamp", few have "//".
  if (!text.includes("@") || !text.includes("//")) return text;
  return text.replace(/((?:[a-z][a-z\d+.-]*:)?\/\/)[^\s/?#"'<>\\]*@/gi, `$1${REDACTED}@`);
}

/**
 * One URL as configured (which may not even parse), safe to show: its user info, if any, is `***`. A value
 * without `//` that still holds an `@` before any `/` (`svc:P4ssw0rd@host`) is taken as user info too, since
 * a mistyped URL is exactly where a password shows up.
 */
export function redactUrl(value: string | URL): string {
  if (value instanceof URL) {
    if (value.username === "" && value.password === "") return value.href;
    const copy = new URL(value);
    copy.username = REDACTED;
    copy.password = "";
    return copy.href;
  }
  const scheme = /^\s*(?:[a-z][a-z\d+.-]*:)?\/\//i.exec(value);
  const start = scheme === null ? 0 : scheme[0].length;
  const end = value.slice(start).search(/[/?#\\]/);
  const authority = end === -1 ? value.slice(start) : value.slice(start, start + end);
  const at = authority.lastIndexOf("@");
  if (at === -1) return value;
  return value.slice(0, start) + REDACTED + value.slice(start + at);
}
