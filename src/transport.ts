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

/** Told once how an attempt ended: `error` undefined when its whole response was read. */
export interface AttemptListener {
  attemptEnded(response: ResponseReader, error: unknown): void;
}

/**
 * One HTTP attempt, as the handler of `dispatcher.dispatch()`: reads the status, the headers and
 * the body up to `limit` bytes, then tells `listener`, once, how the attempt ended. A body
 * declared or received over the limit is not read further: the request is aborted (its
 * connection closed) and `body` is a {@link TooLarge}. A redirect is aborted the same way, with
 * an empty body, so nothing is followed. `end()` ends it from outside (the deadline).
 */
export class ResponseReader implements Dispatcher.DispatchHandler {
  /** 0 until the response's status line arrives. */
  status = 0;
  headers: IncomingHttpHeaders = {};
  body: Buffer | TooLarge = EMPTY;
  readonly #limit: number;
  readonly #listener: AttemptListener;
  #ended = false;
  #controller: Dispatcher.DispatchController | undefined;
  #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit: number, listener: AttemptListener) {
    this.#limit = limit;
    this.#listener = listener;
  }

  /**
   * Ends the attempt now with `reason`: aborts the request if it has been written, or, when it
   * is still waiting for a connection, as soon as it gets one, before anything is sent.
   */
  end(reason: unknown): void {
    this.#end(reason, this.#controller);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    if (this.#ended) controller.abort(new errors.RequestAbortedError());
    else this.#controller = controller;
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    this.status = status;
    this.headers = headers;
    const declared = header(headers, 'content-length');
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > this.#limit) {
      this.body = new TooLarge();
      this.#end(undefined, controller);
    } else if (status >= 300 && status < 400) {
      this.#end(undefined, controller);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#ended) return;
    this.#size += chunk.length;
    if (this.#size <= this.#limit) {
      this.#chunks.push(chunk);
      return;
    }
    this.body = new TooLarge();
    this.#chunks = [];
    this.#end(undefined, controller);
  }

  onResponseEnd(): void {
    if (this.#ended) return;
    const chunks = this.#chunks;
    if (chunks.length > 0) this.body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.#size);
    this.#end(undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.#end(error);
  }

  /** Ends once: aborts the request through `controller` when given, then tells the listener. */
  #end(error: unknown, controller?: Dispatcher.DispatchController): void {
    if (this.#ended) return;
    this.#ended = true;
    controller?.abort(new errors.RequestAbortedError());
    this.#listener.attemptEnded(this, error);
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

/** Sends one attempt through `dispatcher` under `deadline`; `reader` tells its listener how it ended. */
export function send(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
  reader: ResponseReader,
  deadline: Deadline,
): void {
  deadline.current = reader;
  dispatching = deadline;
  try {
    dispatcher.dispatch(options, reader);
  } finally {
    dispatching = undefined;
  }
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
