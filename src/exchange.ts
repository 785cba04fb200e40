import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, buildConnector, type Dispatcher, errors } from 'undici';
import { reportExchange } from './diagnostics.js';
import { PersonaOAuthError, redact, redactError, type PersonaErrorDetail } from './errors.js';
import { parseTokenResponse, type PersonaTokenSet } from './token.js';

/** Casing Persona uses for response keys, sent as `Key-Inflection`. */
export type KeyInflection = 'kebab' | 'snake' | 'camel';

/** Everything one code exchange needs; built once per strategy. */
export interface ExchangeConfig {
  /** Absolute URL of `POST /api/v1/oauth/token`. */
  tokenURL: URL;
  apiKey: string;
  personaVersion?: string | undefined;
  keyInflection?: KeyInflection | undefined;
  /** One deadline for the whole exchange, retries included. */
  timeoutMs: number;
  maxResponseBytes: number;
  /** How many times a connection failure or a 429 may be retried. */
  retries: number;
  dispatcher: Dispatcher;
  userAgent: string;
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
const MAX_PERSONA_ERRORS = 10;
const MAX_ERROR_TEXT = 500;

/**
 * A new `Idempotency-Key` for one exchange: 128 random bits, reused only by that exchange's own
 * retries. A key derived from the code would make Persona replay its stored 201 (the same access
 * token) to anyone presenting a used code within 24 hours; a fresh key gets the refusal instead.
 */
function newIdempotencyKey(): string {
  return `pwp2-${randomBytes(16).toString('base64url')}`;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// Request ids go into logs and error messages: keep them short and printable, and free of any
// echo of what was sent.
function readRequestId(headers: IncomingHttpHeaders, secrets: readonly string[]): string | undefined {
  const value = header(headers, 'request-id');
  return value !== undefined && /^[\x21-\x7e]{1,128}$/.test(value) ? redact(value, secrets) : undefined;
}

// The access token a 2xx body carries, in any inflection, so that an error about that body
// redacts its echoes too.
function accessTokenIn(parsed: unknown): string | undefined {
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const record = parsed as Record<string, unknown>;
  const token = record['access-token'] ?? record.access_token ?? record.accessToken;
  return typeof token === 'string' ? token : undefined;
}

function readSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class TooLarge {}

// Destroying undici's body emits an AbortError; without a listener it would crash the process.
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

// Plain stream events rather than `for await`: this runs once per login, and the async
// iterator costs measurably more per response.
function readBody(
  body: Dispatcher.ResponseData['body'],
  limit: number,
  declared: string | undefined,
): Promise<Buffer | TooLarge> {
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > limit) {
    discard(body);
    return Promise.resolve(new TooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    body.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        settled = true;
        discard(body);
        resolve(new TooLarge());
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    body.on('error', (error) => {
      if (settled) return;
      settled = true;
      reject(error);
    });
    body.on('close', () => {
      if (settled) return;
      settled = true;
      reject(new Error('the response body closed before its end'));
    });
  });
}

const PASSED = Symbol('deadline passed');

/**
 * The exchange's deadline, in the EventEmitter form undici accepts as a `signal`: much cheaper
 * per request than an AbortController, which matters on a login hot path.
 */
class Deadline extends EventEmitter {
  aborted = false;
  readonly #timer: NodeJS.Timeout;
  readonly #passed: Promise<typeof PASSED>;

  constructor(ms: number) {
    super();
    let pass: (value: typeof PASSED) => void = () => {};
    this.#passed = new Promise((resolve) => {
      pass = resolve;
    });
    this.#timer = setTimeout(() => {
      this.aborted = true;
      this.emit('abort');
      pass(PASSED);
    }, ms);
  }

  /**
   * Settles with `work`, or rejects when the deadline passes first. Undici settles a request
   * aborted while it waits for a connection (a pool slot, DNS, a TLS handshake) only once that
   * connection is made or has failed (nodejs/undici#386): the race keeps the deadline in every
   * phase. `late` receives a result that arrives after the deadline, to release it.
   */
  async within<T>(work: Promise<T>, late: (value: T) => void = () => {}): Promise<T> {
    const first = await Promise.race([work, this.#passed]);
    if (first !== PASSED) return first as T;
    work.then(late, () => {});
    throw new Error('the deadline passed');
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

// The connection attempts each exchange causes in the strategy's own pool, so that its deadline
// can end them: undici keeps an attempt going after every request waiting for it was aborted,
// and a TLS handshake that never completes would hold a socket (and the process) until the
// connect timeout.
const connectionAttempts = new AsyncLocalStorage<Set<AbortController>>();

/**
 * The keep-alive pool a strategy creates when no `dispatcher` is given: undici's `Agent` with
 * a connector that gives each connection attempt its own abort signal, filed under the exchange
 * that caused it.
 */
export function createOwnedAgent(timeoutMs: number): Agent {
  return new Agent({
    keepAliveTimeout: 10_000,
    connect(options, callback) {
      const attempts = connectionAttempts.getStore();
      const controller = new AbortController();
      attempts?.add(controller);
      buildConnector({ timeout: timeoutMs, signal: controller.signal })(options, (error, socket) => {
        attempts?.delete(controller);
        if (error === null) callback(null, socket);
        // A timeout error, which undici (and our retry rule) treat as a failed connection.
        else if (controller.signal.aborted) callback(new errors.ConnectTimeoutError('Connect Timeout Error'), null);
        else callback(error, null);
      });
    },
  });
}

function clip(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

function readPersonaErrors(raw: Buffer | TooLarge, secrets: readonly string[]): PersonaErrorDetail[] {
  if (raw instanceof TooLarge) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return [];
  }
  const list = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return [];
  const out: PersonaErrorDetail[] = [];
  for (const item of list.slice(0, MAX_PERSONA_ERRORS)) {
    if (item === null || typeof item !== 'object') continue;
    const { title, details, source } = item as { title?: unknown; details?: unknown; source?: unknown };
    if (typeof title !== 'string') continue;
    // Clipped first, so that redaction only ever reads short texts; an echo cut by the clip is
    // still redacted when 12 or more of its characters remain.
    const detail: PersonaErrorDetail = { title: redact(clip(title), secrets) };
    if (typeof details === 'string') detail.details = redact(clip(details), secrets);
    const pointer = (source as { pointer?: unknown } | null | undefined)?.pointer;
    if (typeof pointer === 'string') detail.pointer = redact(clip(pointer), secrets);
    out.push(detail);
  }
  return out;
}

function describe(personaErrors: readonly PersonaErrorDetail[]): string {
  const first = personaErrors[0];
  if (!first) return '';
  return first.details ? `: ${first.title} (${first.details})` : `: ${first.title}`;
}

interface ErrorContext {
  personaStatus: number;
  requestId: string | undefined;
  personaErrors: PersonaErrorDetail[];
  retryAfter: number | undefined;
}

function errorForStatus(ctx: ErrorContext): PersonaOAuthError {
  const { personaStatus: status } = ctx;
  const why = describe(ctx.personaErrors);
  const init = {
    personaStatus: status,
    requestId: ctx.requestId,
    personaErrors: ctx.personaErrors,
  };
  if (status === 400 || status === 404 || status === 409 || status === 422) {
    return new PersonaOAuthError(
      'invalid_grant',
      `Persona refused the authorization code (HTTP ${status})${why}; it may be expired, already used or issued to another organization`,
      { ...init, status: 401 },
    );
  }
  if (status === 401) {
    return new PersonaOAuthError('invalid_api_key', `Persona rejected the API key (HTTP 401)${why}`, {
      ...init,
      status: 500,
    });
  }
  if (status === 403) {
    // Persona's 403 is either a missing permission or an exhausted quota: say which when its error does.
    const said = ctx.personaErrors.map((e) => `${e.title} ${e.details ?? ''}`).join(' ');
    const cause = /quota/i.test(said)
      ? 'a Persona quota is exhausted (not a missing permission)'
      : /permission/i.test(said)
        ? 'the API key lacks a permission (OAuth access)'
        : 'the API key may lack OAuth access or a quota is exhausted';
    return new PersonaOAuthError('forbidden', `Persona refused the token request (HTTP 403)${why}; ${cause}`, {
      ...init,
      status: 500,
    });
  }
  if (status === 429) {
    return new PersonaOAuthError('rate_limited', `Persona rate limit exceeded (HTTP 429)${why}`, {
      ...init,
      status: 503,
      retryAfter: ctx.retryAfter,
    });
  }
  if (status >= 500 && status <= 599) {
    return new PersonaOAuthError('persona_unavailable', `Persona failed to issue a token (HTTP ${status})${why}`, {
      ...init,
      status: 502,
    });
  }
  return new PersonaOAuthError('invalid_response', `Persona's token endpoint answered with unexpected HTTP ${status}`, {
    ...init,
    status: 502,
  });
}

function copyTokens(tokens: PersonaTokenSet): PersonaTokenSet {
  return { ...tokens, scopes: tokens.scopes.map((s) => ({ ...s })) };
}

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECTION_FAILURES.has(code);
}

/**
 * Exchanges authorization codes at Persona's token endpoint.
 *
 * Holds the long-lived parts of the job: the configuration, the prepared headers, and the map of
 * exchanges in flight, so that two identical callbacks racing in one process (a double click)
 * make one request to Persona and share its outcome.
 */
export class CodeExchanger {
  /**
   * The exchange's settings, without the API key and the dispatcher: both stay private, since the
   * dispatcher holds each request in flight (the key in its headers, the code in its body).
   */
  readonly config: Readonly<Omit<ExchangeConfig, 'apiKey' | 'dispatcher'>>;
  readonly #apiKey: string;
  readonly #dispatcher: Dispatcher;
  readonly #inFlight = new Map<string, Promise<PersonaTokenSet>>();
  // Flat [name, value, …] list, the form undici takes without copying an object per request.
  readonly #baseHeaders: readonly string[];
  readonly #origin: string;
  readonly #path: string;

  /** Prepares the headers once; `config.apiKey` and `config.dispatcher` are kept in private fields. */
  constructor(config: ExchangeConfig) {
    const { apiKey, dispatcher, ...rest } = config;
    this.config = Object.freeze(rest);
    this.#apiKey = apiKey;
    this.#dispatcher = dispatcher;
    this.#origin = config.tokenURL.origin;
    this.#path = `${config.tokenURL.pathname}${config.tokenURL.search}`;
    const headers = [
      'authorization',
      `Bearer ${config.apiKey}`,
      'content-type',
      'application/x-www-form-urlencoded',
      'accept',
      'application/json',
      'user-agent',
      config.userAgent,
    ];
    if (config.personaVersion) headers.push('persona-version', config.personaVersion);
    if (config.keyInflection) headers.push('key-inflection', config.keyInflection);
    this.#baseHeaders = headers;
  }

  /**
   * Exchanges `code` for a token set.
   *
   * @throws {PersonaOAuthError} with the code describing the failure (see the README's table).
   */
  exchange(code: string): Promise<PersonaTokenSet> {
    // Keyed on the code itself: the map is private and nothing derived from it is ever sent.
    const pending = this.#inFlight.get(code);
    // A joiner gets its own copy, so one request's verify cannot change another's token set.
    if (pending) return pending.then(copyTokens);
    const started = this.#run(code, newIdempotencyKey()).finally(() => this.#inFlight.delete(code));
    this.#inFlight.set(code, started);
    return started;
  }

  async #run(code: string, idempotencyKey: string): Promise<PersonaTokenSet> {
    const { timeoutMs, retries, maxResponseBytes } = this.config;
    const dispatcher = this.#dispatcher;
    const secrets: string[] = [this.#apiKey, code];
    const startedAt = performance.now();
    const deadline = new Deadline(timeoutMs);
    const connecting = new Set<AbortController>();
    deadline.once('abort', () => {
      for (const attempt of connecting) attempt.abort();
    });
    const body = `code=${encodeURIComponent(code)}&grant-type=authorization_code`;
    const headers = this.#baseHeaders.concat('idempotency-key', idempotencyKey);
    let attempts = 0;
    let personaStatus: number | undefined;
    let requestId: string | undefined;

    const timeout = (cause?: unknown): PersonaOAuthError =>
      new PersonaOAuthError('timeout', `Persona's token endpoint did not answer within ${timeoutMs} ms`, {
        status: 504,
        personaStatus,
        requestId,
        cause,
      });
    // Sleeps before a retry when the wait ends before the deadline; false when it would not.
    const waitToRetry = async (ms: number): Promise<boolean> => {
      if (ms >= timeoutMs - (performance.now() - startedAt)) return false;
      await sleep(ms);
      return true;
    };

    try {
      for (;;) {
        attempts += 1;
        let response: Dispatcher.ResponseData;
        try {
          const sent = connectionAttempts.run(connecting, () =>
            dispatcher.request({
              origin: this.#origin,
              path: this.#path,
              method: 'POST',
              headers,
              body,
              signal: deadline,
              // The abort signal is the deadline; these only stop undici's own 300 s defaults.
              headersTimeout: timeoutMs + 1000,
              bodyTimeout: timeoutMs + 1000,
            }),
          );
          response = await deadline.within(sent, (lateResponse) => discard(lateResponse.body));
        } catch (error) {
          if (deadline.aborted) throw timeout(error);
          if (attempts <= retries && isConnectionFailure(error)) {
            const wait = BASE_BACKOFF_MS * 2 ** (attempts - 1) * (0.5 + Math.random() / 2);
            if (await waitToRetry(wait)) continue;
          }
          throw new PersonaOAuthError('network', `Could not reach Persona's token endpoint (${this.#origin})`, {
            status: 502,
            cause: error,
          });
        }

        const status = response.statusCode;
        personaStatus = status;
        requestId = readRequestId(response.headers, secrets);

        if (status >= 300 && status < 400) {
          discard(response.body);
          throw new PersonaOAuthError(
            'invalid_response',
            `Persona's token endpoint answered with a redirect (HTTP ${status}); redirects are not followed`,
            { status: 502, personaStatus, requestId },
          );
        }

        let raw: Buffer | TooLarge;
        try {
          raw = await deadline.within(
            readBody(response.body, maxResponseBytes, header(response.headers, 'content-length')),
          );
        } catch (error) {
          if (deadline.aborted) throw timeout(error);
          throw new PersonaOAuthError('network', `The connection to Persona broke while reading the token response`, {
            status: 502,
            personaStatus,
            requestId,
            cause: error,
          });
        }

        if (status >= 200 && status < 300) {
          if (raw instanceof TooLarge) {
            throw new PersonaOAuthError(
              'invalid_response',
              `Persona's token response is larger than ${maxResponseBytes} bytes`,
              { status: 502, personaStatus, requestId },
            );
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(raw.toString('utf8'));
          } catch {
            throw new PersonaOAuthError('invalid_response', `Persona's token response is not valid JSON`, {
              status: 502,
              personaStatus,
              requestId,
            });
          }
          const accessToken = accessTokenIn(parsed);
          if (accessToken !== undefined) secrets.push(accessToken);
          const tokens = parseTokenResponse(parsed, { requestId, personaStatus });
          reportExchange({
            outcome: 'success',
            personaStatus,
            requestId,
            durationMs: performance.now() - startedAt,
            attempts,
          });
          return tokens;
        }

        const retryAfter =
          readSeconds(header(response.headers, 'ratelimit-reset')) ??
          readSeconds(header(response.headers, 'retry-after'));
        const error = errorForStatus({
          personaStatus: status,
          requestId,
          personaErrors: readPersonaErrors(raw, secrets),
          retryAfter,
        });
        if (status === 429 && attempts <= retries) {
          // Persona does not store a 429 under the idempotency key, so a retry with the same key
          // really runs again.
          const base = retryAfter !== undefined ? retryAfter * 1000 : BASE_BACKOFF_MS * 2 ** (attempts - 1);
          const wait = base + Math.random() * Math.min(250, base / 2 + 50);
          if (await waitToRetry(wait)) continue;
        }
        throw error;
      }
    } catch (error) {
      // Whatever Persona echoed of the key, the code or the token, in any part of the error.
      const failure = redactError(
        error instanceof PersonaOAuthError
          ? error
          : deadline.aborted
            ? timeout(error)
            : new PersonaOAuthError('network', 'The token exchange failed unexpectedly', { status: 502, cause: error }),
        secrets,
      );
      reportExchange({
        outcome: 'error',
        code: failure.code,
        personaStatus: failure.personaStatus,
        requestId: failure.requestId,
        durationMs: performance.now() - startedAt,
        attempts,
      });
      throw failure;
    } finally {
      deadline.clear();
    }
  }
}
