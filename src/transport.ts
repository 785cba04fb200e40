// The undici pieces one exchange runs on: the handler that reads one response through
// `dispatch()` under a size cap, the deadline that ends an attempt wherever it is, and the pool an
// exchanger owns, whose connection attempts that deadline can end.
import type { IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { Agent, buildConnector, type Dispatcher, errors } from 'undici';

/** A response header's first value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What a {@link ResponseReader} holds for a body over its limit (never buffered). */
export class TooLarge {}

const EMPTY = Buffer.alloc(0);

/**
 * One HTTP attempt, as the handler of `dispatcher.dispatch()`: reads the status, the headers and
 * the body up to `limit` bytes, then resolves `done`, or rejects it with the transport's error.
 * A body declared or received over the limit is not read further: the request is aborted (its
 * connection closed) and `body` is a {@link TooLarge}. A redirect is aborted the same way, with
 * an empty body, so nothing is followed. `end()` settles it from outside (the deadline).
 */
export class ResponseReader implements Dispatcher.DispatchHandler {
  readonly done: Promise<void>;
  /** 0 until the response's status line arrives. */
  status = 0;
  headers: IncomingHttpHeaders = {};
  body: Buffer | TooLarge = EMPTY;
  #settle: (error?: unknown) => void = () => {};
  #settled = false;
  #controller: Dispatcher.DispatchController | undefined;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(readonly limit: number) {
    this.done = new Promise((resolve, reject) => {
      this.#settle = (error) => (error === undefined ? resolve() : reject(error));
    });
  }

  /**
   * Ends the attempt now with `reason`: aborts the request if it has been written, or, when it
   * is still waiting for a connection, as soon as it gets one, before anything is sent.
   */
  end(reason: Error): void {
    if (this.#finish(reason)) this.#controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#settled) controller.abort(new errors.RequestAbortedError());
    else this.#controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
    const declared = header(headers, 'content-length');
    const tooLarge = declared !== undefined && /^\d+$/.test(declared) && Number(declared) > this.limit;
    if (tooLarge) this.body = new TooLarge();
    if ((tooLarge || (status >= 300 && status < 400)) && this.#finish()) {
      controller.abort(new errors.RequestAbortedError());
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return;
    this.#size += chunk.length;
    if (this.#size <= this.limit) {
      this.#chunks.push(chunk);
      return;
    }
    this.body = new TooLarge();
    this.#chunks = [];
    if (this.#finish()) controller.abort(new errors.RequestAbortedError());
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    const chunks = this.#chunks;
    if (chunks.length > 0) this.body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size);
    this.#finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#finish(error);
  }

  /** Settles once; false when already settled. */
  #finish(error?: unknown): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#settle(error);
    return true;
  }
}

/**
 * The deadline of one exchange, over all its attempts. When it passes it ends the attempt in
 * flight (`current`) and the connection attempts the exchange caused in an owned pool: undici
 * keeps an attempt going after the request waiting for it gave up, and a TLS handshake that never
 * completes would hold a socket (and the process) until the connect timeout.
 */
export class Deadline {
  passed = false;
  current: ResponseReader | undefined;
  readonly connecting = new Set<Socket>();
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.#timer = setTimeout(() => this.#pass(), ms);
  }

  #pass(): void {
    this.passed = true;
    this.current?.end(new Error('the deadline passed'));
    for (const socket of this.connecting) socket.destroy(new errors.ConnectTimeoutError('Connect Timeout Error'));
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

// The deadline of the exchange whose dispatch() is running, for the owned pool's connector:
// undici connects synchronously within dispatch() when a request needs a new connection. A plain
// variable, not an AsyncLocalStorage: once used, that hooks every promise in the process (in the
// loopback benchmark it cost about 5 µs of CPU per login).
let dispatching: Deadline | undefined;

/** Sends one attempt through `dispatcher` under `deadline`; `reader.done` settles with its outcome. */
export function send(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  reader: ResponseReader,
  deadline: Deadline,
): Promise<void> {
  deadline.current = reader;
  dispatching = deadline;
  try {
    dispatcher.dispatch(options, reader);
  } finally {
    dispatching = undefined;
  }
  return reader.done;
}

// What buildConnector's connector returns at run time (its declared type says void): the socket,
// which the deadline destroys while it is still connecting.
type SocketConnector = (options: buildConnector.Options, callback: buildConnector.Callback) => Socket | undefined;

/**
 * The keep-alive pool an exchanger creates when no `dispatcher` is given: undici's `Agent` with
 * one connector for its whole life (the connector holds the TLS session cache, so a new
 * connection resumes a session rather than making a full handshake), each of whose connection
 * attempts is filed under the deadline of the exchange that caused it.
 */
export function createOwnedAgent(timeoutMs: number): Agent {
  const connector = buildConnector({ timeout: timeoutMs }) as unknown as SocketConnector;
  return new Agent({
    keepAliveTimeout: 10_000,
    connect(options, callback) {
      const attempts = dispatching?.connecting;
      if (!attempts) {
        connector(options, callback);
        return;
      }
      const socket = connector(options, (...outcome) => {
        if (socket) attempts.delete(socket);
        callback(...outcome);
      });
      if (socket) attempts.add(socket);
    },
  });
}
