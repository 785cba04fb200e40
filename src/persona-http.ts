// One call to Persona's API, as plain async code: one AbortSignal for the deadline, close() and the
// caller's signal; retries as a loop with one Idempotency-Key; the body counted up to the size cap.
// What the answer means is the caller's business.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, buildConnector, type Dispatcher, errors } from 'undici';
import { PersonaOAuthError } from './errors.js';
import { header, requestIdOf, retryAfter } from './headers.js';
import type { ClientSettings } from './settings.js';

/** One request to Persona: `path` is under the base URL (no leading slash), with its query. */
export interface PersonaCall {
  method: 'GET' | 'POST';
  path: string;
  /** The form-encoded body of a POST. */
  form?: string;
  /** The bearer credential when it is not the API key (an access token). */
  bearer?: string;
  /** What is called, for messages: "Persona's token endpoint". */
  what: string;
}

/** What an answer's body is when it was over the size cap (never buffered). */
export class TooLarge {}

/** Persona's answer, its body read up to the cap. */
export interface PersonaAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | TooLarge;
}

/** What a call has seen so far (attempts, the last status and headers), for the caller's report. */
export interface CallRecord {
  attempts: number;
  last?: { status: number; headers: IncomingHttpHeaders } | undefined;
}

// A connection that failed before any response: safe to retry with the same Idempotency-Key.
const RETRYABLE = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const BASE_BACKOFF_MS = 200;
const EMPTY = Buffer.alloc(0);

/** Exponential backoff with jitter before retry `attempt`, or Persona's own wait after a 429. */
export function retryDelay(attempt: number, waitSeconds: number | undefined): number {
  if (waitSeconds === undefined) return BASE_BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
  return waitSeconds * 1000 + Math.random() * Math.min(250, waitSeconds * 500 + 50);
}

/**
 * One attempt's response, collected through `dispatch()`: the status, the headers, the body up to
 * `limit` bytes. A redirect, or a body declared or received over the limit, ends the request (its
 * connection closed) without reading more. `end()` settles it from outside at once, even while it
 * still waits for a connection (undici aborts a request there only once the connection is made or
 * fails, nodejs/undici#386; `onRequestStart` then aborts it before anything is sent).
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

  onResponseStart(_: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.#status = status;
    this.#headers = headers;
    this.record.last = { status, headers };
    const declared = header(headers, 'content-length');
    if (status >= 300 && status < 400) this.#finish({ status, headers, body: EMPTY });
    else if (declared && /^\d+$/.test(declared) && Number(declared) > this.limit) this.#tooLarge();
  }

  onResponseData(_: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.limit) this.#tooLarge();
    else if (!this.#done) this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    // Complete: nothing left to abort.
    this.#controller = undefined;
    const body = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
    this.#finish({ status: this.#status, headers: this.#headers, body });
  }

  onResponseError(_: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#controller = undefined;
    this.#finish(undefined, error);
  }

  #tooLarge(): void {
    this.#finish({ status: this.#status, headers: this.#headers, body: new TooLarge() });
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
 * The owned pool's connector, one for the pool's life (it holds the TLS session cache), each
 * connection attempt ended `timeoutMs` after it began on a timer of its own (undici's connect
 * timeout runs on a coarse clock, up to a second late): a stalled handshake holds no socket.
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
  readonly #inFlight = new Set<AbortController>();
  readonly #headers: Record<string, string>;
  #closed: Promise<void> | undefined;

  constructor(settings: ClientSettings, dispatcher: Dispatcher | undefined) {
    this.#settings = settings;
    this.#owned = dispatcher
      ? undefined
      : new Agent({ keepAliveTimeout: 10_000, connect: boundedConnector(settings.timeoutMs) });
    this.#dispatcher = dispatcher ?? (this.#owned as Agent);
    this.#headers = {
      accept: 'application/json',
      'user-agent': settings.userAgent,
      authorization: `Bearer ${settings.apiKey}`,
    };
    if (settings.personaVersion) this.#headers['persona-version'] = settings.personaVersion;
    if (settings.keyInflection) this.#headers['key-inflection'] = settings.keyInflection;
  }

  close(): Promise<void> {
    if (!this.#closed) {
      for (const call of this.#inFlight) call.abort('closed');
      this.#closed = this.#owned ? this.#owned.close() : Promise.resolve();
    }
    return this.#closed;
  }

  /**
   * Sends `call`, retrying a connection that failed before any response and a 429 (with the same
   * Idempotency-Key, random per call), all within one deadline. Resolves to the last answer, a 429
   * included when no retry fits; `record` follows every attempt.
   *
   * @throws {PersonaOAuthError} `timeout`, `network`, `closed` or `aborted`, unredacted: the caller
   * knows which secrets to redact.
   */
  async send(call: PersonaCall, record: CallRecord, signal?: AbortSignal): Promise<PersonaAnswer> {
    const { timeoutMs, retries, maxResponseBytes } = this.#settings;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort('timeout'), timeoutMs);
    const endsAt = performance.now() + timeoutMs;
    const onCaller = () => abort.abort('aborted');
    signal?.addEventListener('abort', onCaller);
    if (signal?.aborted) onCaller();
    if (this.#closed) abort.abort('closed');
    this.#inFlight.add(abort);
    // Waits before a retry when one is left and fits before the deadline; false otherwise.
    const retry = async (waitSeconds?: number) => {
      const delay = retryDelay(record.attempts, waitSeconds);
      if (record.attempts > retries || delay >= endsAt - performance.now()) return false;
      await sleep(delay, undefined, { signal: abort.signal }).catch(() => {});
      return true;
    };
    const options = this.#options(call);
    // The attempt in flight, ended at once when the call's signal aborts.
    let current: Collector | undefined;
    abort.signal.addEventListener('abort', () => current?.end(abort.signal.reason));
    try {
      for (;;) {
        if (abort.signal.aborted) throw stopped(call, record, abort.signal.reason, timeoutMs, signal);
        record.attempts += 1;
        let answer: PersonaAnswer;
        try {
          current = new Collector(maxResponseBytes, record);
          answer = await this.#attempt(options, current);
        } catch (error) {
          if (abort.signal.aborted) throw stopped(call, record, abort.signal.reason, timeoutMs, signal);
          const code = (error as { code?: unknown } | null)?.code;
          if (record.last === undefined && RETRYABLE.has(code as string) && (await retry())) continue;
          throw this.#broken(call, record, error);
        }
        if (answer.status !== 429 || !(await retry(retryAfter(answer.headers)))) return answer;
      }
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(abort);
      signal?.removeEventListener('abort', onCaller);
    }
  }

  /** An attempt that ended without its answer read whole, not by the call's signal. */
  #broken(call: PersonaCall, record: CallRecord, cause: unknown): PersonaOAuthError {
    if (record.last === undefined) {
      return new PersonaOAuthError('network', `Could not reach ${call.what} (${this.#settings.baseURL.origin})`, {
        cause,
      });
    }
    const message = `The connection to Persona broke while reading the answer of ${call.what}`;
    return new PersonaOAuthError('network', message, { ...seen(record), cause });
  }

  /** One attempt: its answer, or why it ended without one (the call's signal, the network). */
  #attempt(options: Dispatcher.DispatchOptions, collector: Collector): Promise<PersonaAnswer> {
    try {
      this.#dispatcher.dispatch(options, collector);
    } catch (error) {
      collector.end(error);
    }
    return collector.answer;
  }

  #options(call: PersonaCall): Dispatcher.DispatchOptions {
    const { baseURL, timeoutMs } = this.#settings;
    const headers = { ...this.#headers };
    if (call.bearer !== undefined) headers.authorization = `Bearer ${call.bearer}`;
    // The base URL's path ends in `/`; the call's path is relative to it.
    const path = `${baseURL.pathname}${call.path}`;
    const options: Dispatcher.DispatchOptions = { origin: baseURL.origin, path, method: call.method, headers };
    // The deadline ends the call; these two only stop undici's own 300 s defaults.
    options.headersTimeout = options.bodyTimeout = timeoutMs + 1000;
    if (call.method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      // Random, never derived from what is sent: a key derived from a code would make Persona
      // replay its stored answer (the token) to anyone presenting that code again.
      headers['idempotency-key'] = `pwp3-${randomUUID()}`;
      options.body = call.form ?? '';
    }
    return options;
  }
}

const STOPPED = {
  timeout: (what: string, ms: number) => `${what} did not answer within ${ms} ms`,
  closed: (what: string) => `The client was closed while calling ${what}`,
  aborted: (what: string) => `The call to ${what} was aborted by its caller`,
};

/** The error of a call its signal ended: the deadline, `close()`, or the caller's own signal. */
function stopped(
  call: PersonaCall,
  record: CallRecord,
  reason: keyof typeof STOPPED,
  timeoutMs: number,
  caller?: AbortSignal,
): PersonaOAuthError {
  const cause = reason === 'aborted' ? caller?.reason : undefined;
  return new PersonaOAuthError(reason, STOPPED[reason](call.what, timeoutMs), { ...seen(record), cause });
}

/** What the last response said of Persona's side, for an error (redacted by the caller). */
function seen(record: CallRecord): { personaStatus?: number; requestId?: string } {
  if (!record.last) return {};
  const requestId = requestIdOf(record.last.headers);
  return requestId === undefined
    ? { personaStatus: record.last.status }
    : { personaStatus: record.last.status, requestId };
}
