// Persona's response headers, read: a header's first value, a count of seconds, the wait it asks
// for after a 429, the requests left in its rate-limit window, and a usable Request-Id.
import type { IncomingHttpHeaders } from 'node:http';

/** A response header's first value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Seconds from a header holding a small non-negative integer; undefined otherwise. */
export function readSeconds(value: string | undefined): number | undefined {
  return value !== undefined && /^\s*\d{1,9}\s*$/.test(value) ? Number(value) : undefined;
}

/** How long Persona asks a rate-limited client to wait, in seconds, when it says. */
export function retryAfter(headers: IncomingHttpHeaders): number | undefined {
  return readSeconds(header(headers, 'ratelimit-reset')) ?? readSeconds(header(headers, 'retry-after'));
}

/** Persona's `RateLimit-Remaining`: requests left in the current window, when sent. */
export function readRateLimitRemaining(headers: IncomingHttpHeaders): number | undefined {
  return readSeconds(header(headers, 'ratelimit-remaining'));
}

/**
 * The Request-Id when it is short and printable (it goes into logs and error messages), not yet
 * redacted: whoever reads it knows which secrets it must not echo.
 */
export function requestIdOf(headers: IncomingHttpHeaders): string | undefined {
  const value = header(headers, 'request-id');
  return value !== undefined && /^[\x21-\x7e]{1,128}$/.test(value) ? value : undefined;
}
