import type { IncomingMessage, ServerResponse } from 'node:http';
import { JSON_TYPE, type EmulatorResponse } from './http.js';
import type { EmulatedRequest, EmulatorFault } from './types.js';

/** Where an answer goes: the response, the request's log record (to note the status) and its Request-Id. */
export interface Outlet {
  res: ServerResponse;
  record: EmulatedRequest | undefined;
  requestId: string;
}

function writeHead(out: Outlet, status: number, headers: Record<string, string>): void {
  out.res.writeHead(status, { 'request-id': out.requestId, ...headers });
  if (out.record) out.record.status = status;
}

/** Sends a whole response at once, with its Request-Id and Content-Length. */
export function send(out: Outlet, response: EmulatorResponse): void {
  // HTTP forbids a body on 204 and 304 (a forced status may be one): Content-Length must say 0.
  const bodyless = response.status === 204 || response.status === 304;
  const body = Buffer.from(bodyless ? '' : response.body, 'utf8');
  writeHead(out, response.status, { ...response.headers, 'content-length': String(body.length) });
  out.res.end(body);
}

/**
 * Sends the answer the endpoint decided, disturbed as the fault says: a body that is not JSON,
 * an oversized or dripping body, no answer at all, or a reset connection.
 */
export function deliver(
  req: IncomingMessage,
  out: Outlet,
  response: EmulatorResponse,
  fault: EmulatorFault | undefined,
  timers: Timers,
): void {
  switch (fault?.kind) {
    case 'malformed':
      send(out, {
        status: 201,
        headers: { ...response.headers, 'content-type': JSON_TYPE },
        body: '{"access-token": "persona_access_token_',
      });
      return;
    case 'oversized':
      sendOversized(out, response.headers, fault.bytes, fault.chunked === true, timers);
      return;
    case 'no-headers':
      return;
    case 'drip':
      sendDrip(out, response, fault.intervalMs, fault.chunks ?? 10, timers);
      return;
    case 'reset':
      if (fault.when === 'after-headers') resetAfterHeaders(req, out, response, timers);
      else req.socket.resetAndDestroy();
      return;
    default:
      send(out, response);
  }
}

function resetAfterHeaders(req: IncomingMessage, out: Outlet, response: EmulatorResponse, timers: Timers): void {
  const body = Buffer.from(response.body, 'utf8');
  writeHead(out, response.status, { ...response.headers, 'content-length': String(Math.max(body.length, 1)) });
  out.res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
    timers.later(25, () => req.socket.resetAndDestroy());
  });
}

/** A JSON-looking token body of exactly `bytes` bytes, in pieces of at most 64 KiB. */
function* oversizedBody(bytes: number): Generator<Buffer> {
  const head = Buffer.from('{"access-token":"persona_access_token_');
  const tail = Buffer.from('","expires-in":3600,"scope":"","token-type":"bearer"}');
  const fillLength = Math.max(0, bytes - head.length - tail.length);
  if (fillLength === 0) {
    yield Buffer.concat([head, tail]).subarray(0, bytes);
    return;
  }
  yield head;
  const block = Buffer.alloc(64 * 1024, 'A');
  for (let left = fillLength; left > 0; left -= block.length) yield block.subarray(0, Math.min(block.length, left));
  yield tail;
}

function sendOversized(
  out: Outlet,
  headers: Record<string, string>,
  bytes: number,
  chunked: boolean,
  timers: Timers,
): void {
  const whole = oversizedBody(bytes);
  const outHeaders: Record<string, string> = { ...headers, 'content-type': JSON_TYPE };
  delete outHeaders['content-length'];
  if (!chunked) outHeaders['content-length'] = String(bytes);
  writeHead(out, 201, outHeaders);
  const { res } = out;
  // Written as the socket drains, so a client that stops reading never makes the emulator buffer gigabytes.
  const pump = (): void => {
    for (;;) {
      if (res.destroyed || timers.closed) return;
      const next = whole.next();
      if (next.done) {
        res.end();
        return;
      }
      if (!res.write(next.value)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

function sendDrip(out: Outlet, response: EmulatorResponse, intervalMs: number, chunks: number, timers: Timers): void {
  const body = Buffer.from(response.body, 'utf8');
  writeHead(out, response.status, { ...response.headers, 'content-length': String(body.length) });
  const { res } = out;
  res.flushHeaders();
  const count = Math.max(1, Math.min(chunks, body.length));
  const size = Math.ceil(body.length / count);
  let sent = 0;
  const step = (): void => {
    if (res.destroyed) return;
    const piece = body.subarray(sent, sent + size);
    sent += piece.length;
    if (sent >= body.length) res.end(piece);
    else {
      res.write(piece);
      timers.later(intervalMs, step);
    }
  };
  timers.later(intervalMs, step);
}

/**
 * The emulator's own timers (latency, drip, delayed resets), all cancelled by `close()` so a
 * closed emulator leaves nothing behind to keep the process alive.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<(awake: boolean) => void>();
  /** True once `close()` ran: nothing new is scheduled. */
  closed = false;

  /** Runs `fn` after `ms`, unless closed first. */
  later(ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  /** Resolves true after `ms`, or false as soon as the timers are closed. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) {
        resolve(false);
        return;
      }
      const wake = (awake: boolean): void => {
        this.sleepers.delete(wake);
        resolve(awake);
      };
      this.sleepers.add(wake);
      this.later(ms, () => wake(true));
    });
  }

  /** Cancels every timer and wakes every sleeper with false. */
  close(): void {
    this.closed = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const wake of this.sleepers) wake(false);
    this.sleepers.clear();
  }
}
