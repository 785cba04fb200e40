// What every call to Persona's API needs, checked once: where to send it, the headers it
// carries, and its bounds (deadline, response size, retries).
import { VERSION } from './version.js';
import { integerOption } from './options.js';
import type { Dispatcher } from 'undici';

/** Persona's production API. */
export const DEFAULT_BASE_URL = 'https://api.withpersona.com';
const DEFAULT_TIMEOUT_MS = 10_000;
// Ten minutes, the life of a code; a timer of more than 2^31 - 1 ms would fire at once.
const MAX_TIMEOUT_MS = 600_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_RETRIES = 2;
const USER_AGENT = `passport-withpersona/${VERSION} (node ${process.version})`;

/** Casing Persona uses for response keys, sent as `Key-Inflection`. */
export type KeyInflection = 'kebab' | 'snake' | 'camel';

/** Options of {@link createCodeExchanger}; {@link PersonaStrategyOptions} holds the same ones. */
export interface CodeExchangerOptions {
  /** The recipient organisation's Persona API key (required). Sent only to `baseURL`. */
  apiKey: string;
  /** Persona's API base URL (default `https://api.withpersona.com`); `http:` only on loopback. */
  baseURL?: string | URL | undefined;
  /** Sent as `Persona-Version` (e.g. `2023-01-05`). Default: the API key's configured version. */
  personaVersion?: string | undefined;
  /** Sent as `Key-Inflection`. The response is read in any inflection either way. */
  keyInflection?: 'kebab' | 'snake' | 'camel' | undefined;
  /** One deadline for the whole exchange, retries included, in ms (default 10000, at most 600000). */
  timeoutMs?: number | undefined;
  /** Largest token response accepted, in bytes (default 65536). */
  maxResponseBytes?: number | undefined;
  /** Retries after a connection failure or a 429, each with the same Idempotency-Key (default 2). */
  retries?: number | undefined;
  /** An undici 7 Dispatcher (proxy, custom pool, MockAgent), used through its `dispatch()`. Default: one keep-alive Agent per exchanger. */
  dispatcher?: Dispatcher | undefined;
}

/** Everything a call to Persona needs, resolved from {@link CodeExchangerOptions} once. */
export interface ClientSettings {
  /** Persona's API base URL, its path ending in `/` (its query and fragment are not used). */
  baseURL: URL;
  apiKey: string;
  personaVersion: string | undefined;
  keyInflection: KeyInflection | undefined;
  /** One deadline for the whole exchange, retries included. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** How many times a connection failure or a 429 may be retried. */
  retries: number;
  userAgent: string;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

// The API key crosses a network only over TLS, and never inside the URL itself.
function resolveBaseURL(value: string | URL | undefined): URL {
  let url: URL;
  try {
    url = new URL(value ?? DEFAULT_BASE_URL);
  } catch {
    throw new TypeError('passport-withpersona: baseURL is not a valid absolute URL');
  }
  if (url.username || url.password) {
    throw new TypeError('passport-withpersona: baseURL must not contain credentials');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new TypeError(
      `passport-withpersona: baseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1), got http://${url.host}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('passport-withpersona: baseURL must be an https URL');
  }
  // Calls go to `${origin}${pathname}<their path>`: a query or fragment of its own is never sent.
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

// Values that go into request headers: visible ASCII only, so nothing can split a header.
function checkHeaderValues(options: CodeExchangerOptions): void {
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('passport-withpersona: apiKey is required (the recipient organization’s Persona API key)');
  }
  if (!/^[\x21-\x7e]+$/.test(options.apiKey)) {
    throw new TypeError('passport-withpersona: apiKey holds characters that cannot be sent in a header');
  }
  if (options.keyInflection !== undefined && !['kebab', 'snake', 'camel'].includes(options.keyInflection)) {
    throw new TypeError('passport-withpersona: keyInflection must be kebab, snake or camel');
  }
  if (options.personaVersion !== undefined && !/^[\x21-\x7e]{1,64}$/.test(options.personaVersion)) {
    throw new TypeError('passport-withpersona: personaVersion must be a version date such as 2023-01-05');
  }
}

/**
 * Checks {@link CodeExchangerOptions} and fills in the defaults.
 *
 * @throws {TypeError} naming the option when one is missing or unsafe (never quoting the API key).
 */
export function resolveClientSettings(options: CodeExchangerOptions): ClientSettings {
  if (!options || typeof options !== 'object') {
    throw new TypeError('passport-withpersona: options are required ({ apiKey })');
  }
  checkHeaderValues(options);
  return {
    baseURL: resolveBaseURL(options.baseURL),
    apiKey: options.apiKey,
    personaVersion: options.personaVersion,
    keyInflection: options.keyInflection,
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
    maxResponseBytes: integerOption('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
    retries: integerOption('retries', options.retries, DEFAULT_RETRIES, 0),
    userAgent: USER_AGENT,
  };
}
