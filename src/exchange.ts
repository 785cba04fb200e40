import { randomFillSync } from 'node:crypto';
import type { Agent, Dispatcher } from 'undici';
import { reportExchange } from './diagnostics.js';
import { PersonaOAuthError, redactError, type PersonaOAuthErrorCode } from './errors.js';
import { integerOption } from './options.js';
import type { PersonaTokenSet } from './token.js';
import {
  readRateLimitRemaining,
  readRequestId,
  readTokenResponse,
  type PersonaContext,
  type Refusal,
} from './token-response.js';
import { type AttemptListener, createOwnedAgent, Deadline, ResponseReader, send } from './transport.js';
import { VERSION } from './version.js';

/** Persona's production API. */
export const DEFAULT_BASE_URL = 'https://api.withpersona.com';
const TOKEN_PATH = 'api/v1/oauth/token';
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
  keyInflection?: KeyInflection | undefined;
  /** One deadline for the whole exchange, retries included, in ms (default 10000, at most 600000). */
  timeoutMs?: number | undefined;
  /** Largest token response accepted, in bytes (default 65536). */
  maxResponseBytes?: number | undefined;
  /** Retries after a connection failure or a 429, each with the same Idempotency-Key (default 2). */
  retries?: number | undefined;
  /** An undici 7 Dispatcher (proxy, custom pool, MockAgent), used through its `dispatch()`. Default: one keep-alive Agent per exchanger. */
  dispatcher?: Dispatcher | undefined;
}

/**
 * Exchanges Persona authorization codes for access tokens, without Passport: what
 * {@link PersonaStrategy} runs on its callback route, for a code that reaches you another way (an
 * API call from the data owner, a job). Made by {@link createCodeExchanger}.
 */
export interface CodeExchanger {
  /**
   * Exchanges `code` at Persona's `POST /api/v1/oauth/token` and resolves to its token set.
   * Every call makes its own request, with its own Idempotency-Key: a code presented twice is
   * refused by Persona the second time, even while the first exchange is in flight.
   *
   * @throws {PersonaOAuthError} (as a rejection) with the code describing the failure: see the
   * README's Errors table.
   */
  exchange(code: string): Promise<PersonaTokenSet>;
  /**
   * Closes the connection pool the exchanger created (not a `dispatcher` you passed in). Call it
   * on shutdown so no keep-alive socket holds the process open; calling it again is harmless.
   */
  close(): Promise<void>;
}

/** Everything one code exchange needs, resolved from {@link CodeExchangerOptions} once. */
export interface ExchangeSettings {
  /** Absolute URL of `POST /api/v1/oauth/token`. */
  tokenURL: URL;
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
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  url.search = '';
  url.hash = '';
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
export function resolveExchangeSettings(options: CodeExchangerOptions): ExchangeSettings {
  if (!options || typeof options !== 'object') {
    throw new TypeError('passport-withpersona: options are required ({ apiKey })');
  }
  checkHeaderValues(options);
  return {
    tokenURL: new URL(TOKEN_PATH, resolveBaseURL(options.baseURL)),
    apiKey: options.apiKey,
    personaVersion: options.personaVersion,
    keyInflection: options.keyInflection,
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS),
    maxResponseBytes: integerOption('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
    retries: integerOption('retries', options.retries, DEFAULT_RETRIES, 0),
    userAgent: USER_AGENT,
  };
}

const CONNECTION_FAILURES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const BASE_BACKOFF_MS = 200;

const KEY_BYTES = 16;
// Drawn 256 keys at a time, each part used once: a call into OpenSSL per key (randomBytes) cost
// 2 to 4 µs of CPU per login in the loopback benchmark.
const keyPool = Buffer.alloc(256 * KEY_BYTES);
let keyOffset = keyPool.length;

/**
 * A new `Idempotency-Key` for one exchange: 128 random bits, reused only by that exchange's own
 * retries. A key derived from the code would make Persona replay its stored 201 (the same access
 * token) to anyone presenting a used code within 24 hours; a fresh key gets the refusal instead.
 */
function newIdempotencyKey(): string {
  if (keyOffset === keyPool.length) {
    randomFillSync(keyPool);
    keyOffset = 0;
  }
  const start = keyOffset;
  keyOffset += KEY_BYTES;
  return `pwp2-${keyPool.toString('base64url', start, keyOffset)}`;
}

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_FAILURES.has(code);
}

function isRefusal(result: PersonaTokenSet | Refusal): result is Refusal {
  return 'error' in result;
}

/**
 * How long to wait before retrying after `refusal`, the `attempt`-th: exponential backoff with
 * jitter, or Persona's `RateLimit-Reset` after a 429; undefined when a retry cannot help.
 */
function retryDelay(refusal: Refusal, attempt: number): number | undefined {
  const backoff = BASE_BACKOFF_MS * 2 ** (attempt - 1);
  if (refusal.retry === 'connection') return backoff * (0.5 + Math.random() / 2);
  if (refusal.retry !== 'rate-limit') return undefined;
  const retryAfter = refusal.error.retryAfter;
  const base = retryAfter !== undefined ? retryAfter * 1000 : backoff;
  return base + Math.random() * Math.min(250, base / 2 + 50);
}

/** What every exchange of one exchanger shares, set up once. */
interface ExchangerParts {
  settings: ExchangeSettings;
  dispatcher: Dispatcher;
}

/**
 * One exchange in progress, driven by its attempts' ends rather than awaited step by step (a
 * promise per step cost CPU on every login): each attempt's answer is read when it ends, a
 * retry is scheduled when one can help and fits before the deadline, and `done` settles once,
 * with the outcome reported.
 */
class ExchangeRun implements PersonaContext, AttemptListener {
  readonly done: Promise<PersonaTokenSet>;
  personaStatus: number | undefined;
  requestId: string | undefined;
  readonly #parts: ExchangerParts;
  readonly #request: Dispatcher.DispatchOptions;
  readonly #deadline: Deadline;
  readonly #startedAt = performance.now();
  /** What an error about this exchange must not echo: the key, the code, then the token. */
  readonly #secrets: string[];
  #attempts = 0;
  #rateLimitRemaining: number | undefined;
  readonly #resolve: (tokens: PersonaTokenSet) => void;
  readonly #reject: (error: PersonaOAuthError) => void;

  constructor(parts: ExchangerParts, code: string, request: Dispatcher.DispatchOptions) {
    this.#parts = parts;
    this.#request = request;
    this.#secrets = [parts.settings.apiKey, code];
    this.#deadline = new Deadline(parts.settings.timeoutMs);
    let resolve: (tokens: PersonaTokenSet) => void = () => {};
    let reject: (error: PersonaOAuthError) => void = () => {};
    this.done = new Promise((fulfil, refuse) => {
      resolve = fulfil;
      reject = refuse;
    });
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** Sends an attempt, unless the deadline has passed. */
  attempt(): void {
    if (this.#deadline.passed) {
      this.#fail(this.#timeout());
      return;
    }
    this.#attempts += 1;
    const response = new ResponseReader(this.#parts.settings.maxResponseBytes, this);
    try {
      send(this.#parts.dispatcher, this.#request, response, this.#deadline);
    } catch (error) {
      response.end(error);
    }
  }

  /** What to do after an attempt: succeed, retry, or fail. */
  attemptEnded(response: ResponseReader, error: unknown): void {
    let result: PersonaTokenSet | Refusal;
    try {
      result = error === undefined ? this.#read(response) : this.#failed(response, error);
    } catch (unexpected) {
      result = { error: this.#asPersonaError(unexpected) };
    }
    if (!isRefusal(result)) {
      this.#settle();
      this.#report();
      this.#resolve(result);
      return;
    }
    const { retries, timeoutMs } = this.#parts.settings;
    const delay = this.#attempts <= retries ? retryDelay(result, this.#attempts) : undefined;
    if (delay === undefined || delay >= timeoutMs - (performance.now() - this.#startedAt)) {
      this.#fail(result.error);
      return;
    }
    setTimeout(() => this.attempt(), delay);
  }

  /** A whole response: the token set, or the refusal its status means. */
  #read(response: ResponseReader): PersonaTokenSet | Refusal {
    this.#noteResponse(response);
    const context = { personaStatus: response.status, requestId: this.requestId };
    const result = readTokenResponse(response, context, this.#secrets, this.#parts.settings.maxResponseBytes);
    // Read again once the body's access token joined the secrets.
    this.requestId = context.requestId;
    return result;
  }

  /** An attempt without a whole response: a timeout, a broken connection, or one never made. */
  #failed(response: ResponseReader, error: unknown): Refusal {
    const responded = response.status !== 0;
    if (responded) this.#noteResponse(response);
    if (this.#deadline.passed) return { error: this.#timeout(error) };
    if (responded) {
      return {
        error: this.#error('network', 'The connection to Persona broke while reading the token response', error),
      };
    }
    const unreachable = `Could not reach Persona's token endpoint (${this.#parts.settings.tokenURL.origin})`;
    const refusal: Refusal = { error: new PersonaOAuthError('network', unreachable, { cause: error }) };
    return isConnectionFailure(error) ? { ...refusal, retry: 'connection' } : refusal;
  }

  /** Keeps what a response says of Persona's side, for every later error of this exchange. */
  #noteResponse(response: ResponseReader): void {
    this.personaStatus = response.status;
    this.requestId = readRequestId(response.headers, this.#secrets);
    this.#rateLimitRemaining = readRateLimitRemaining(response.headers);
  }

  /** An error with what is known of Persona's side so far. */
  #error(code: PersonaOAuthErrorCode, message: string, cause?: unknown): PersonaOAuthError {
    return new PersonaOAuthError(code, message, {
      personaStatus: this.personaStatus,
      requestId: this.requestId,
      cause,
    });
  }

  #timeout(cause?: unknown): PersonaOAuthError {
    const { timeoutMs } = this.#parts.settings;
    return this.#error('timeout', `Persona's token endpoint did not answer within ${timeoutMs} ms`, cause);
  }

  #asPersonaError(error: unknown): PersonaOAuthError {
    if (error instanceof PersonaOAuthError) return error;
    if (this.#deadline.passed) return this.#timeout(error);
    return new PersonaOAuthError('network', 'The token exchange failed unexpectedly', { cause: error });
  }

  #fail(error: PersonaOAuthError): void {
    // Whatever Persona echoed of the key, the code or the token, in any part of the error.
    const failure = redactError(error, this.#secrets);
    this.#settle();
    this.#report(failure);
    this.#reject(failure);
  }

  #settle(): void {
    this.#deadline.clear();
  }

  /** Publishes (and logs) how the exchange ended: Persona's side as the failure, if any, saw it. */
  #report(failure?: PersonaOAuthError): void {
    const durationMs = performance.now() - this.#startedAt;
    const attempts = this.#attempts;
    const rateLimitRemaining = this.#rateLimitRemaining;
    if (!failure) {
      reportExchange({
        outcome: 'success',
        personaStatus: this.personaStatus,
        requestId: this.requestId,
        durationMs,
        attempts,
        rateLimitRemaining,
      });
      return;
    }
    const { code, personaStatus, requestId } = failure;
    reportExchange({ outcome: 'error', code, personaStatus, requestId, durationMs, attempts, rateLimitRemaining });
  }
}

/**
 * Exchanges authorization codes at Persona's token endpoint.
 *
 * Holds the long-lived parts of the job: the settings, the prepared headers and the pool. All
 * of it is #private: the pool
 * holds each request in flight (the API key in its headers, the code in its body), so none of it
 * may be reachable by util.inspect.
 */
class Exchanger implements CodeExchanger {
  readonly #parts: ExchangerParts;
  readonly #ownedAgent: Agent | undefined;
  #closing: Promise<void> | undefined;
  readonly #baseHeaders: Readonly<Record<string, string>>;
  readonly #origin: string;
  readonly #path: string;

  constructor(settings: ExchangeSettings, dispatcher: Dispatcher | undefined) {
    if (!dispatcher) this.#ownedAgent = createOwnedAgent(settings.timeoutMs);
    this.#parts = { settings, dispatcher: dispatcher ?? (this.#ownedAgent as Agent) };
    this.#origin = settings.tokenURL.origin;
    this.#path = `${settings.tokenURL.pathname}${settings.tokenURL.search}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${settings.apiKey}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      'user-agent': settings.userAgent,
    };
    if (settings.personaVersion) headers['persona-version'] = settings.personaVersion;
    if (settings.keyInflection) headers['key-inflection'] = settings.keyInflection;
    this.#baseHeaders = headers;
  }

  close(): Promise<void> {
    if (!this.#ownedAgent) return Promise.resolve();
    this.#closing ??= this.#ownedAgent.close();
    return this.#closing;
  }

  exchange(code: string): Promise<PersonaTokenSet> {
    const run = new ExchangeRun(this.#parts, code, this.#request(code, newIdempotencyKey()));
    run.attempt();
    return run.done;
  }

  /** The request every attempt of one exchange sends: same body, same Idempotency-Key. */
  #request(code: string, idempotencyKey: string): Dispatcher.DispatchOptions {
    const { timeoutMs } = this.#parts.settings;
    return {
      origin: this.#origin,
      path: this.#path,
      method: 'POST',
      headers: { ...this.#baseHeaders, 'idempotency-key': idempotencyKey },
      body: `code=${encodeURIComponent(code)}&grant-type=authorization_code`,
      // The deadline ends the attempt; these only stop undici's own 300 s defaults.
      headersTimeout: timeoutMs + 1000,
      bodyTimeout: timeoutMs + 1000,
    };
  }
}

/**
 * Builds a {@link CodeExchanger} from `options`: the token endpoint under `baseURL`, the headers
 * every exchange sends (API key, `User-Agent`, `Persona-Version`, `Key-Inflection`), the deadline,
 * size cap and retry budget, and a keep-alive pool of its own unless `dispatcher` is given.
 *
 * @throws {TypeError} when `apiKey` is missing or holds characters a header cannot carry,
 * `baseURL` is not https (or loopback http) or carries credentials, or another option is out of
 * range. The message names the option and never quotes the API key.
 */
export function createCodeExchanger(options: CodeExchangerOptions): CodeExchanger {
  return new Exchanger(resolveExchangeSettings(options), options.dispatcher);
}
