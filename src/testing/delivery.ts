import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
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
  const { status, headers, body } = response;
  if (fault?.kind === 'malformed') {
    send(out, {
      status: 201,
      headers: { ...headers, 'content-type': JSON_TYPE },
      body: '{"access-token": "persona_access_token_',
    });
  } else if (fault?.kind === 'oversized') {
    const { 'content-length': _, ...rest } = headers;
    writeHead(out, 201, {
      ...rest,
      'content-type': JSON_TYPE,
      ...(fault.chunked ? {} : { 'content-length': `${fault.bytes}` }),
    });
    // Streamed as the socket drains, so a client that stops reading never makes the emulator buffer gigabytes.
    pipeline(Readable.from(oversizedBody(fault.bytes)), out.res, () => undefined);
  } else if (fault?.kind === 'drip') {
    sendDrip(out, response, fault, timers);
  } else if (fault?.kind === 'reset' && fault.when === 'after-headers') {
    const bytes = Buffer.from(body, 'utf8');
    writeHead(out, status, { ...headers, 'content-length': String(Math.max(bytes.length, 1)) });
    out.res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => {
      timers.later(25, () => req.socket.resetAndDestroy());
    });
  } else if (fault?.kind === 'reset') {
    req.socket.resetAndDestroy();
  } else if (fault?.kind !== 'no-headers') {
    send(out, response);
  }
}

/** Sends the headers at once, then the body in `chunks` pieces, one every `intervalMs`. */
function sendDrip(
  out: Outlet,
  response: EmulatorResponse,
  fault: Extract<EmulatorFault, { kind: 'drip' }>,
  timers: Timers,
): void {
  const bytes = Buffer.from(response.body, 'utf8');
  writeHead(out, response.status, { ...response.headers, 'content-length': String(bytes.length) });
  out.res.flushHeaders();
  const size = Math.ceil(bytes.length / Math.max(1, Math.min(fault.chunks ?? 10, bytes.length)));
  const step = (sent: number): void => {
    if (out.res.destroyed) return;
    if (sent + size >= bytes.length) out.res.end(bytes.subarray(sent));
    else {
      out.res.write(bytes.subarray(sent, sent + size));
      timers.later(fault.intervalMs, () => step(sent + size));
    }
  };
  timers.later(fault.intervalMs, () => step(0));
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

/**
 * The emulator's own timers (latency, drip, delayed resets), all cancelled by `close()` so a
 * closed emulator leaves nothing behind to keep the process alive.
 */
export class Timers {
  private readonly stop = new AbortController();

  constructor() {
    // One listener per pending timer: as many as there are requests in flight.
    setMaxListeners(0, this.stop.signal);
  }

  /** True once `close()` ran: nothing new is scheduled. */
  get closed(): boolean {
    return this.stop.signal.aborted;
  }

  /** Resolves true after `ms`, or false as soon as the timers are closed. */
  async sleep(ms: number): Promise<boolean> {
    try {
      await delay(ms, undefined, { signal: this.stop.signal });
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `fn` after `ms`, unless closed first. */
  later(ms: number, fn: () => void): void {
    void this.sleep(ms).then((awake) => {
      if (awake) fn();
    });
  }

  /** Cancels every timer and wakes every sleeper with false. */
  close(): void {
    this.stop.abort();
  }
}
