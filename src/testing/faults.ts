import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  errorResponse,
  inflectKey,
  isObject,
  JSON_TYPE,
  jsonResponse,
  statusTitle,
  type EmulatorResponse,
  type KeyInflection,
} from './http.js';
import { OBJECT_TYPES } from './objects.js';
import type { EmulatedRequest, EmulatorEndpoint, EmulatorFault } from './types.js';

// The OAuth endpoints, then each object type's retrieval endpoint.
const ENDPOINTS: readonly EmulatorEndpoint[] = ['authorize', 'token', ...OBJECT_TYPES.map((type) => type.endpoint)];

/** How to name the endpoints in an error message. */
export const ENDPOINT_NAMES = `${ENDPOINTS.slice(0, -1).join(', ')} or ${ENDPOINTS.at(-1)}`;

/** True for `authorize`, `token`, `inquiry` and `verification`. */
export function isEmulatorEndpoint(value: unknown): value is EmulatorEndpoint {
  return typeof value === 'string' && (ENDPOINTS as readonly string[]).includes(value);
}

function wholeNumber(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

type Input = Record<string, unknown>;

function statusFault(input: Input): EmulatorFault {
  const fault: EmulatorFault = { kind: 'status', status: wholeNumber(input.status, 'status.status', 100, 599) };
  if (input.body !== undefined) fault.body = input.body;
  if (input.headers !== undefined) {
    if (!isObject(input.headers) || !Object.values(input.headers).every((v) => typeof v === 'string')) {
      throw new TypeError('status.headers must be an object of strings');
    }
    fault.headers = { ...(input.headers as Record<string, string>) };
  }
  if (input.layer !== undefined) {
    if (input.layer !== 'persona' && input.layer !== 'edge')
      throw new TypeError("status.layer must be 'persona' or 'edge'");
    fault.layer = input.layer;
  }
  return fault;
}

function oversizedFault(input: Input): EmulatorFault {
  const fault: EmulatorFault = { kind: 'oversized', bytes: wholeNumber(input.bytes, 'oversized.bytes', 1, 2 ** 31) };
  if (input.chunked !== undefined) {
    if (typeof input.chunked !== 'boolean') throw new TypeError('oversized.chunked must be a boolean');
    fault.chunked = input.chunked;
  }
  return fault;
}

function dripFault(input: Input): EmulatorFault {
  const fault: EmulatorFault = {
    kind: 'drip',
    intervalMs: wholeNumber(input.intervalMs, 'drip.intervalMs', 0, 600_000),
  };
  if (input.chunks !== undefined) fault.chunks = wholeNumber(input.chunks, 'drip.chunks', 1, 100_000);
  return fault;
}

function resetFault(input: Input): EmulatorFault {
  if (input.when !== undefined && input.when !== 'before-headers' && input.when !== 'after-headers') {
    throw new TypeError("reset.when must be 'before-headers' or 'after-headers'");
  }
  return input.when === undefined ? { kind: 'reset' } : { kind: 'reset', when: input.when };
}

function redirectFault(input: Input): EmulatorFault {
  const fault: EmulatorFault = { kind: 'redirect' };
  if (input.status !== undefined) {
    if (input.status !== 301 && input.status !== 302 && input.status !== 307 && input.status !== 308) {
      throw new TypeError('redirect.status must be 301, 302, 307 or 308');
    }
    fault.status = input.status;
  }
  if (input.location !== undefined) {
    if (typeof input.location !== 'string' || input.location === '' || /[\r\n]/.test(input.location)) {
      throw new TypeError('redirect.location must be a non-empty string on one line');
    }
    fault.location = input.location;
  }
  return fault;
}

type TokenField = 'access-token' | 'expires-in' | 'scope' | 'token-type';

const TOKEN_FIELDS: readonly TokenField[] = ['access-token', 'expires-in', 'scope', 'token-type'];
const NULLABLE_BY_DEFAULT: readonly TokenField[] = ['token-type', 'expires-in', 'scope'];

function nullFieldsFault(input: Input): EmulatorFault {
  const fault: EmulatorFault = { kind: 'null-fields' };
  if (input.fields !== undefined) {
    const fields = input.fields;
    if (
      !Array.isArray(fields) ||
      fields.length === 0 ||
      !fields.every((field) => (TOKEN_FIELDS as readonly unknown[]).includes(field))
    ) {
      throw new TypeError(`null-fields.fields must be a non-empty list of ${TOKEN_FIELDS.join(', ')}`);
    }
    fault.fields = [...new Set(fields as TokenField[])];
  }
  if (input.absent !== undefined) {
    if (typeof input.absent !== 'boolean') throw new TypeError('null-fields.absent must be a boolean');
    fault.absent = input.absent;
  }
  return fault;
}

const FAULT_KINDS: { readonly [K in EmulatorFault['kind']]: (input: Input) => EmulatorFault } = {
  latency: (input) => ({ kind: 'latency', ms: wholeNumber(input.ms, 'latency.ms', 0, 3_600_000) }),
  status: statusFault,
  malformed: () => ({ kind: 'malformed' }),
  oversized: oversizedFault,
  'no-headers': () => ({ kind: 'no-headers' }),
  drip: dripFault,
  reset: resetFault,
  redirect: redirectFault,
  'quota-exceeded': () => ({ kind: 'quota-exceeded' }),
  'null-fields': nullFieldsFault,
};

/**
 * Checks a fault given by a caller (the handle, or JSON on the control endpoint) and returns
 * a clean copy. Throws TypeError saying what is wrong.
 */
export function validateFault(input: unknown): EmulatorFault {
  if (!isObject(input)) throw new TypeError('a fault must be an object with a kind');
  const kind = input.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(FAULT_KINDS, kind)) {
    throw new TypeError(`fault.kind must be one of ${Object.keys(FAULT_KINDS).join(', ')}`);
  }
  return FAULT_KINDS[kind as EmulatorFault['kind']](input);
}

interface Armed {
  fault: EmulatorFault;
  /** Requests left; undefined: until cleared. */
  remaining: number | undefined;
}

/** The faults armed on each endpoint, used up one request at a time. */
export class FaultBoard {
  private readonly armed = new Map<EmulatorEndpoint, Armed>();

  set(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, times?: number): void {
    if (!isEmulatorEndpoint(endpoint)) throw new TypeError(`endpoint must be ${ENDPOINT_NAMES}`);
    if (fault === null) {
      this.armed.delete(endpoint);
      return;
    }
    const clean = validateFault(fault);
    if (clean.kind === 'null-fields' && endpoint !== 'token') {
      throw new TypeError('a null-fields fault applies to the token endpoint only');
    }
    const remaining = times === undefined ? undefined : wholeNumber(times, 'times', 1);
    this.armed.set(endpoint, { fault: clean, remaining });
  }

  clear(): void {
    this.armed.clear();
  }

  /** The fault the next request to `endpoint` meets, counting it as used. */
  take(endpoint: EmulatorEndpoint): EmulatorFault | undefined {
    const armed = this.armed.get(endpoint);
    if (!armed) return undefined;
    if (armed.remaining !== undefined) {
      armed.remaining -= 1;
      if (armed.remaining <= 0) this.armed.delete(endpoint);
    }
    return armed.fault;
  }
}

/**
 * The answer a `status` fault forces: its body (an object as JSON, a string as is; by default a
 * Persona error document for 4xx/5xx and `{}` otherwise), with its headers over the emulator's.
 */
export function forcedResponse(fault: Extract<EmulatorFault, { kind: 'status' }>): EmulatorResponse {
  let response: EmulatorResponse;
  if (fault.body === undefined) {
    response =
      fault.status >= 400
        ? errorResponse(fault.status, { title: statusTitle(fault.status), details: 'Injected by the emulator' })
        : jsonResponse(fault.status, {});
  } else if (typeof fault.body === 'string') {
    response = { status: fault.status, headers: { 'content-type': JSON_TYPE }, body: fault.body };
  } else {
    response = jsonResponse(fault.status, fault.body);
  }
  const headers = { ...response.headers };
  for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = value;
  return { ...response, headers };
}

/** The answer of a `redirect` fault: `status` (default 302) to `location` (default: the same URL). */
export function redirectResponse(
  fault: Extract<EmulatorFault, { kind: 'redirect' }>,
  sameUrl: string,
): EmulatorResponse {
  const location = fault.location ?? sameUrl;
  const status = fault.status ?? 302;
  return {
    ...errorResponse(status, { title: statusTitle(status), details: `Moved to ${location}` }),
    headers: { 'content-type': JSON_TYPE, location },
  };
}

/**
 * Persona's own answer with some fields null or absent (a `null-fields` fault): only a 2xx JSON
 * object is changed, its field names spelled in the request's inflection.
 */
export function withNullFields(
  response: EmulatorResponse,
  fault: Extract<EmulatorFault, { kind: 'null-fields' }>,
  inflection: KeyInflection,
): EmulatorResponse {
  if (response.status < 200 || response.status > 299) return response;
  const body: unknown = JSON.parse(response.body);
  if (!isObject(body)) return response;
  const out = { ...body };
  for (const field of fault.fields ?? NULLABLE_BY_DEFAULT) {
    const key = inflectKey(field, inflection);
    if (fault.absent) delete out[key];
    else out[key] = null;
  }
  return { ...response, body: JSON.stringify(out) };
}

/**
 * What a `quota-exceeded` fault answers: 403 with a Persona error saying a quota is used up.
 * Persona documents the 403 ("a quota has been exceeded") but not its body: the title and
 * details are the emulator's own.
 */
export function quotaExceededResponse(): EmulatorResponse {
  return errorResponse(403, {
    title: 'Quota exceeded',
    details: "The environment's quota for this kind of request is used up; it resets with the quota's window",
  });
}

// ── Delivery: the answer as the fault lets it through ───────────────────────

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
  private closedFlag = false;

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `fn` after `ms`, unless closed first. */
  later(ms: number, fn: () => void): void {
    if (this.closedFlag) return;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      fn();
    }, ms);
    this.pending.add(timer);
  }

  /** Resolves true after `ms`, or false as soon as the timers are closed. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closedFlag) {
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
    this.closedFlag = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
    for (const wake of this.sleepers) wake(false);
    this.sleepers.clear();
  }
}
