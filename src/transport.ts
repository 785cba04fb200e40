// The undici pieces one exchange runs on: the pool an exchanger owns, whose connection attempts
// a deadline can end; the deadline itself; and the capped read of a response body.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, buildConnector, type Dispatcher, errors } from 'undici';

/** A response header's first value. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** What `readBody` gives for a body over its limit (never buffered). */
export class TooLarge {}

// Destroying undici's body emits an AbortError; without a listener it would crash the process.
export function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

// Plain stream events rather than `for await`: in the loopback benchmark (paired rounds,
// bench/run.mjs --variant) the async iterator cost about 5 µs more CPU per login (3%), more in 15
// rounds of 19, where the same build measured twice differed by 1 µs.
export function readBody(
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
 * The exchange's deadline, in the EventEmitter form undici accepts as a `signal`. An
 * AbortController in its place cost about 10 µs more CPU per login (7%) in the loopback
 * benchmark, more in 17 paired rounds of 19 (bench/run.mjs --variant).
 */
export class Deadline extends EventEmitter {
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
export const connectionAttempts = new AsyncLocalStorage<Set<AbortController>>();

/**
 * The keep-alive pool an exchanger creates when no `dispatcher` is given: undici's `Agent` with
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
