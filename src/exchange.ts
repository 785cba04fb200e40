import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Agent, Dispatcher } from 'undici';
import { reportExchange } from './diagnostics.js';
import { PersonaOAuthError, redactError, type PersonaOAuthErrorCode } from './errors.js';
import { integerOption } from './options.js';
import type { PersonaTokenSet } from './token.js';
import { readRequestId, readTokenResponse, type PersonaContext, type Refusal } from './token-response.js';
import { createOwnedAgent, Deadline, ResponseReader, send } from './transport.js';
import { VERSION } from './version.js';

/** Persona's production API. */
export const DEFAULT_BASE_URL = 'https://api.withpersona.com';
const TOKEN_PATH = 'api/v1/oauth/token';
const DEFAULT_TIMEOUT_MS = 10_000;
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
  /** One deadline for the whole exchange, retries included, in ms (default 10000). */
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
   * Identical codes in flight at once share one request (each caller gets its own copy).
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
    timeoutMs: integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS),
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function copyTokens(tokens: PersonaTokenSet): PersonaTokenSet {
  return { ...tokens, scopes: tokens.scopes.map((s) => ({ ...s })) };
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

/** One exchange in progress: what its attempts share, and the errors they build. */
class ExchangeRun implements PersonaContext {
  readonly startedAt = performance.now();
  readonly deadline: Deadline;
  attempts = 0;
  personaStatus: number | undefined;
  requestId: string | undefined;

  /** `secrets`: what an error about this exchange must not echo (the key, the code, then the token). */
  constructor(
    readonly timeoutMs: number,
    readonly secrets: string[],
  ) {
    this.deadline = new Deadline(timeoutMs);
  }

  /** An error with what is known of Persona's side so far. */
  error(code: PersonaOAuthErrorCode, message: string, cause?: unknown): PersonaOAuthError {
    return new PersonaOAuthError(code, message, {
      personaStatus: this.personaStatus,
      requestId: this.requestId,
      cause,
    });
  }

  /** Keeps what a response says of Persona's side, for every later error of this exchange. */
  noteResponse(status: number, headers: IncomingHttpHeaders): void {
    this.personaStatus = status;
    this.requestId = readRequestId(headers, this.secrets);
  }

  timeout(cause?: unknown): PersonaOAuthError {
    return this.error('timeout', `Persona's token endpoint did not answer within ${this.timeoutMs} ms`, cause);
  }

  /** Sleeps before a retry when the wait ends before the deadline; false when it would not. */
  async waitToRetry(ms: number): Promise<boolean> {
    if (ms >= this.timeoutMs - (performance.now() - this.startedAt)) return false;
    await sleep(ms);
    return true;
  }

  /** Publishes (and logs) how the exchange ended: Persona's side as the failure, if any, saw it. */
  report(failure?: PersonaOAuthError): void {
    const durationMs = performance.now() - this.startedAt;
    const { attempts } = this;
    if (!failure) {
      reportExchange({
        outcome: 'success',
        personaStatus: this.personaStatus,
        requestId: this.requestId,
        durationMs,
        attempts,
      });
      return;
    }
    const { code, personaStatus, requestId } = failure;
    reportExchange({ outcome: 'error', code, personaStatus, requestId, durationMs, attempts });
  }
}

/**
 * Exchanges authorization codes at Persona's token endpoint.
 *
 * Holds the long-lived parts of the job: the settings, the prepared headers, the pool, and the
 * map of exchanges in flight, so that two identical callbacks racing in one process (a double
 * click) make one request to Persona and share its outcome. All of it is #private: the pool
 * holds each request in flight (the API key in its headers, the code in its body), so none of it
 * may be reachable by util.inspect.
 */
class Exchanger implements CodeExchanger {
  readonly #settings: ExchangeSettings;
  readonly #dispatcher: Dispatcher;
  readonly #ownedAgent: Agent | undefined;
  #closing: Promise<void> | undefined;
  readonly #inFlight = new Map<string, Promise<PersonaTokenSet>>();
  readonly #baseHeaders: Readonly<Record<string, string>>;
  readonly #origin: string;
  readonly #path: string;

  constructor(settings: ExchangeSettings, dispatcher: Dispatcher | undefined) {
    this.#settings = settings;
    if (dispatcher) {
      this.#dispatcher = dispatcher;
    } else {
      this.#ownedAgent = createOwnedAgent(settings.timeoutMs);
      this.#dispatcher = this.#ownedAgent;
    }
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
    // Keyed on the code itself: the map is private and nothing derived from it is ever sent.
    const pending = this.#inFlight.get(code);
    // A joiner gets its own copy, so one request's verify cannot change another's token set.
    if (pending) return pending.then(copyTokens);
    const started = this.#run(code).finally(() => this.#inFlight.delete(code));
    this.#inFlight.set(code, started);
    return started;
  }

  /** Attempts until tokens, a refusal no retry can help, or the deadline; reports the outcome. */
  async #run(code: string): Promise<PersonaTokenSet> {
    const run = new ExchangeRun(this.#settings.timeoutMs, [this.#settings.apiKey, code]);
    const request = this.#request(code, newIdempotencyKey());
    try {
      for (;;) {
        run.attempts += 1;
        const result = await this.#attempt(run, request);
        if (!isRefusal(result)) {
          run.report();
          return result;
        }
        const delay = run.attempts <= this.#settings.retries ? retryDelay(result, run.attempts) : undefined;
        if (delay === undefined || !(await run.waitToRetry(delay))) throw result.error;
      }
    } catch (error) {
      // Whatever Persona echoed of the key, the code or the token, in any part of the error.
      const failure = redactError(this.#asPersonaError(run, error), run.secrets);
      run.report(failure);
      throw failure;
    } finally {
      run.deadline.clear();
    }
  }

  #asPersonaError(run: ExchangeRun, error: unknown): PersonaOAuthError {
    if (error instanceof PersonaOAuthError) return error;
    if (run.deadline.passed) return run.timeout(error);
    return new PersonaOAuthError('network', 'The token exchange failed unexpectedly', { cause: error });
  }

  /** The request every attempt of one exchange sends: same body, same Idempotency-Key. */
  #request(code: string, idempotencyKey: string): Dispatcher.DispatchOptions {
    const { timeoutMs } = this.#settings;
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

  /** One HTTP attempt within the deadline: the token set, or why not (and whether to retry). */
  async #attempt(run: ExchangeRun, request: Dispatcher.DispatchOptions): Promise<PersonaTokenSet | Refusal> {
    if (run.deadline.passed) return { error: run.timeout() };
    const { maxResponseBytes } = this.#settings;
    const response = new ResponseReader(maxResponseBytes);
    try {
      await send(this.#dispatcher, request, response, run.deadline);
    } catch (error) {
      const responded = response.status !== 0;
      if (responded) run.noteResponse(response.status, response.headers);
      if (run.deadline.passed) return { error: run.timeout(error) };
      if (responded) {
        return {
          error: run.error('network', 'The connection to Persona broke while reading the token response', error),
        };
      }
      const unreachable = `Could not reach Persona's token endpoint (${this.#origin})`;
      const refusal: Refusal = { error: new PersonaOAuthError('network', unreachable, { cause: error }) };
      return isConnectionFailure(error) ? { ...refusal, retry: 'connection' } : refusal;
    }
    const { status } = response;
    run.noteResponse(status, response.headers);
    if (status >= 300 && status < 400) {
      const why = `Persona's token endpoint answered with a redirect (HTTP ${status}); redirects are not followed`;
      return { error: run.error('invalid_response', why) };
    }
    const context = { personaStatus: status, requestId: run.requestId };
    return readTokenResponse(response, context, run.secrets, maxResponseBytes);
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
