// One call to Persona's API, as plain async code: one AbortSignal for the deadline (with the
// caller's and the client's own for close()), retries as a loop with one Idempotency-Key, and the
// body read and counted up to the size cap. What the answer means is the caller's business.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher, errors } from 'undici';
import { PersonaOAuthError } from './errors.js';
import type { ClientSettings } from './settings.js';

/** A response header's first value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What an answer's body is when it was over the size cap (never buffered). */
export class TooLarge {}

/** One request to Persona, relative to the base URL. */
export interface PersonaCall {
  method: 'GET' | 'POST';
  /** The path under the base URL, without a leading slash, with its query if any. */
  path: string;
  /** The form-encoded body of a POST. */
  form?: string;
  /** The bearer credential, when not the API key (an access token). */
  bearer?: string;
  /** What is called, for messages: "Persona's token endpoint". */
  what: string;
}

/** Persona's answer, its body read up to the cap. */
export interface PersonaAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | TooLarge;
}

/** What a call has seen so far, kept up to date for the caller's report, whatever the outcome. */
export interface CallRecord {
  attempts: number;
  /** The last response's status and headers, once one arrived. */
  last?: { status: number; headers: IncomingHttpHeaders } | undefined;
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
const EMPTY = Buffer.alloc(0);
// Why a call's signal aborted: the deadline, close(), or the caller's own signal.
const DEADLINE = new Error('the deadline passed');
const CLOSED = new Error('the client was closed');
const CALLER = new Error('the caller aborted');

/** Seconds from a header holding a small non-negative integer; undefined otherwise. */
export function readSeconds(value: string | undefined): number | undefined {
  if (value === undefined || !/^\s*\d{1,9}\s*$/.test(value)) return undefined;
  return Number(value);
}

/** How long Persona asks a rate-limited client to wait, in seconds, when it says. */
export function retryAfter(headers: IncomingHttpHeaders): number | undefined {
  return readSeconds(header(headers, 'ratelimit-reset')) ?? readSeconds(header(headers, 'retry-after'));
}

/** Exponential backoff with jitter before retry `attempt`, or Persona's wait after a 429. */
function retryDelay(attempt: number, waitSeconds?: number): number {
  const backoff = BASE_BACKOFF_MS * 2 ** (attempt - 1);
  if (waitSeconds === undefined) return backoff * (0.5 + Math.random() / 2);
  const base = waitSeconds * 1000;
  return base + Math.random() * Math.min(250, base / 2 + 50);
}

/**
 * One attempt's response, collected through `dispatch()`: the status, the headers, and the body
 * up to `limit` bytes. A redirect or a body declared or received over the limit ends the request
 * (its connection closed) without reading more. `end()` ends it from outside (the call's
 * signal), at once, even while it still waits for a connection: undici settles a request
 * aborted there only once that connection is made or fails (nodejs/undici#386), and then
 * `onRequestStart` aborts it before anything is sent.
 */
class Collector implements Dispatcher.DispatchHandler {
  readonly answer: Promise<PersonaAnswer>;
  #status = 0;
  #headers: IncomingHttpHeaders = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #done = false;
  #controller: Dispatcher.DispatchController | undefined;
  #settle: (answer: PersonaAnswer | undefined, error?: unknown) => void = () => {};

  constructor(
    readonly limit: number,
    readonly record: CallRecord,
  ) {
    this.answer = new Promise((resolve, reject) => {
      this.#settle = (answer, error) => (answer ? resolve(answer) : reject(error));
    });
  }

  end(reason: unknown): void {
    this.#finish(undefined, reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#done) controller.abort(new errors.RequestAbortedError());
    else this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.#status = status;
    this.#headers = headers;
    this.record.last = { status, headers };
    const declared = header(headers, 'content-length');
    // A redirect is never followed; a body declared over the cap is never read.
    if (status >= 300 && status < 400) this.#finish({ status, headers, body: EMPTY });
    else if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > this.limit) {
      this.#finish({ status, headers, body: new TooLarge() });
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size <= this.limit) this.#chunks.push(chunk);
    else this.#finish({ status: this.#status, headers: this.#headers, body: new TooLarge() });
  }

  onResponseEnd(): void {
    if (this.#done) return;
    const chunks = this.#chunks;
    const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size);
    // Complete: nothing to abort.
    this.#controller = undefined;
    this.#finish({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#controller = undefined;
    this.#finish(undefined, error);
  }

  // Settles once; a request still running (a cut-off body, an end from outside) is aborted.
  #finish(answer: PersonaAnswer | undefined, error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    this.#controller?.abort(new errors.RequestAbortedError());
    this.#settle(answer, error);
  }
}

// What buildConnector's connector returns at run time (its declared type says void): the socket.
type SocketConnector = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket | undefined;

/**
 * The owned pool's connector: one for the pool's whole life (it holds the TLS session cache, so a
 * new connection resumes a session), each connection attempt ended after `timeoutMs` on a timer
 * of its own (undici's connect timeout runs on a coarse clock, up to a second late), so a TLS
 * handshake that never completes holds no socket past the call that started it.
 */
function boundedConnector(timeoutMs: number): buildConnector.connector {
  const connect = buildConnector({ timeout: timeoutMs }) as unknown as SocketConnector;
  return (options, callback) => {
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const socket = connect(options, (...outcome) => {
      settled = true;
      clearTimeout(timer);
      callback(...outcome);
    });
    if (!settled) timer = setTimeout(() => socket?.destroy(new errors.ConnectTimeoutError()), timeoutMs);
  };
}

/**
 * Calls Persona's API with the settings' key, headers and bounds. Owns a keep-alive pool unless
 * given a dispatcher; `close()` aborts every call in flight (`closed`) and closes that pool.
 */
export class PersonaHttp {
  readonly #settings: ClientSettings;
  readonly #dispatcher: Dispatcher;
  readonly #owned: Agent | undefined;
  /** The calls in flight, each by its own controller, for close() to abort. */
  readonly #inFlight = new Set<AbortController>();
  readonly #headers: Record<string, string>;
  readonly #keyAuthorization: string;
  readonly #urls = new Map<string, { origin: string; path: string }>();
  #closed: Promise<void> | undefined;

  constructor(settings: ClientSettings, dispatcher: Dispatcher | undefined) {
    this.#settings = settings;
    this.#owned = dispatcher
      ? undefined
      : new Agent({ keepAliveTimeout: 10_000, connect: boundedConnector(settings.timeoutMs) });
    this.#dispatcher = dispatcher ?? (this.#owned as Agent);
    this.#headers = { accept: 'application/json', 'user-agent': settings.userAgent };
    this.#keyAuthorization = `Bearer ${settings.apiKey}`;
    if (settings.personaVersion) this.#headers['persona-version'] = settings.personaVersion;
    if (settings.keyInflection) this.#headers['key-inflection'] = settings.keyInflection;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      for (const call of this.#inFlight) call.abort(CLOSED);
      this.#closed = this.#owned ? this.#owned.close() : Promise.resolve();
    }
    return this.#closed;
  }

  /**
   * Sends `call`, retrying a connection that failed before any response and a 429 (each time with
   * the same Idempotency-Key, a random one per call), all within one deadline. Resolves to the
   * last answer, a 429 included when no retry fits; `record` follows every attempt.
   *
   * @throws {PersonaOAuthError} `timeout`, `network`, `closed` or `aborted`, unredacted: the
   * caller knows which secrets to redact.
   */
  async send(call: PersonaCall, record: CallRecord, signal?: AbortSignal): Promise<PersonaAnswer> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(DEADLINE), this.#settings.timeoutMs);
    const onCaller = () => abort.abort(CALLER);
    signal?.addEventListener('abort', onCaller);
    if (signal?.aborted) onCaller();
    if (this.#closed) abort.abort(CLOSED);
    this.#inFlight.add(abort);
    try {
      return await this.#attempts(call, record, abort.signal, signal);
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(abort);
      signal?.removeEventListener('abort', onCaller);
    }
  }

  async #attempts(
    call: PersonaCall,
    record: CallRecord,
    abort: AbortSignal,
    caller?: AbortSignal,
  ): Promise<PersonaAnswer> {
    const endsAt = performance.now() + this.#settings.timeoutMs;
    const options = this.#options(call);
    for (;;) {
      if (abort.aborted) throw this.#aborted(call, record, abort.reason, caller);
      record.attempts += 1;
      let answer: PersonaAnswer;
      try {
        answer = await this.#attempt(options, record, abort);
      } catch (error) {
        if (abort.aborted) throw this.#aborted(call, record, abort.reason, caller, error);
        const failure = this.#failure(call, record, error);
        if (!failure.retry || !(await this.#wait(record.attempts, undefined, endsAt, abort))) throw failure.error;
        continue;
      }
      if (answer.status !== 429 || !(await this.#wait(record.attempts, retryAfter(answer.headers), endsAt, abort))) {
        return answer;
      }
    }
  }

  /** Waits before a retry when one is left and fits before the deadline; false otherwise. */
  async #wait(attempt: number, waitSeconds: number | undefined, endsAt: number, abort: AbortSignal): Promise<boolean> {
    if (attempt > this.#settings.retries) return false;
    const delay = retryDelay(attempt, waitSeconds);
    if (delay >= endsAt - performance.now()) return false;
    await sleep(delay, undefined, { signal: abort }).catch(() => {});
    return true;
  }

  /** One attempt: its answer, or why it ended without one (the call's signal, the network). */
  #attempt(options: Dispatcher.DispatchOptions, record: CallRecord, signal: AbortSignal): Promise<PersonaAnswer> {
    const collector = new Collector(this.#settings.maxResponseBytes, record);
    const onAbort = () => collector.end(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      this.#dispatcher.dispatch(options, collector);
    } catch (error) {
      collector.end(error);
    }
    const done = () => signal.removeEventListener('abort', onAbort);
    collector.answer.then(done, done);
    return collector.answer;
  }

  #options(call: PersonaCall): Dispatcher.DispatchOptions {
    const url = this.#urls.get(call.path) ?? this.#resolve(call.path);
    const headers: Record<string, string> = {
      ...this.#headers,
      authorization: call.bearer === undefined ? this.#keyAuthorization : `Bearer ${call.bearer}`,
    };
    const options: Dispatcher.DispatchOptions = {
      origin: url.origin,
      path: url.path,
      method: call.method,
      headers,
      // The deadline ends the call; these only stop undici's own 300 s defaults.
      headersTimeout: this.#settings.timeoutMs + 1000,
      bodyTimeout: this.#settings.timeoutMs + 1000,
    };
    if (call.method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      // Random, never derived from what is sent: a key derived from a code would make Persona
      // replay its stored answer (the token) to anyone presenting that code again.
      headers['idempotency-key'] = `pwp3-${randomUUID()}`;
      options.body = call.form ?? '';
    }
    return options;
  }

  // Paths are few (the token and authorize endpoints; one per object read): parsed once each.
  #resolve(path: string): { origin: string; path: string } {
    const url = new URL(path, this.#settings.baseURL);
    const resolved = { origin: url.origin, path: `${url.pathname}${url.search}` };
    if (this.#urls.size < 64) this.#urls.set(path, resolved);
    return resolved;
  }

  /** An attempt that ended without a response read whole: retry only a failed connection. */
  #failure(call: PersonaCall, record: CallRecord, error: unknown): { error: PersonaOAuthError; retry: boolean } {
    if (record.last) {
      const message = `The connection to Persona broke while reading the answer of ${call.what}`;
      return { error: new PersonaOAuthError('network', message, { ...seen(record), cause: error }), retry: false };
    }
    const code = (error as { code?: unknown } | null)?.code;
    const message = `Could not reach ${call.what} (${this.#settings.baseURL.origin})`;
    const retry = typeof code === 'string' && CONNECTION_FAILURES.has(code);
    return { error: new PersonaOAuthError('network', message, { cause: error }), retry };
  }

  #aborted(
    call: PersonaCall,
    record: CallRecord,
    reason: unknown,
    caller?: AbortSignal,
    cause?: unknown,
  ): PersonaOAuthError {
    if (reason === CLOSED) {
      return new PersonaOAuthError('closed', `The client was closed while calling ${call.what}`, {
        ...seen(record),
        cause,
      });
    }
    if (reason === CALLER) {
      const message = `The call to ${call.what} was aborted by its caller`;
      return new PersonaOAuthError('aborted', message, { ...seen(record), cause: caller?.reason });
    }
    const message = `${call.what} did not answer within ${this.#settings.timeoutMs} ms`;
    return new PersonaOAuthError('timeout', message, { ...seen(record), cause });
  }
}

/** What the last response said of Persona's side, for an error (redacted by the caller). */
function seen(record: CallRecord): { personaStatus?: number; requestId?: string } {
  if (!record.last) return {};
  const id = header(record.last.headers, 'request-id');
  const requestId = id !== undefined && /^[\x21-\x7e]{1,128}$/.test(id) ? id : undefined;
  return requestId === undefined
    ? { personaStatus: record.last.status }
    : { personaStatus: record.last.status, requestId };
}
