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

/** A check of one field of a fault: what it must be, or undefined when `value` is fine. */
type Check = (value: unknown) => string | undefined;

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `an integer from ${min} to ${max}`;
const oneOf =
  (...values: unknown[]): Check =>
  (value) =>
    values.includes(value) ? undefined : `one of ${values.join(', ')}`;
const anything: Check = () => undefined;
const boolean = oneOf(true, false);
const strings: Check = (value) =>
  isObject(value) && Object.values(value).every((v) => typeof v === 'string') ? undefined : 'an object of strings';
const oneLine: Check = (value) =>
  typeof value === 'string' && value !== '' && !/[\r\n]/.test(value) ? undefined : 'a non-empty string on one line';

/**
 * The fields of each OAuth answer a `null-fields` fault can null, and those it nulls by default:
 * every field Persona's 2023-01-05 schema marks nullable except the one the answer exists for.
 */
const NULLABLE = {
  token: {
    all: ['access-token', 'expires-in', 'scope', 'token-type'],
    byDefault: ['token-type', 'expires-in', 'scope'],
  },
  authorize: { all: ['code', 'expires-in'], byDefault: ['expires-in'] },
} as const;
const ANSWER_FIELDS = [...new Set([...NULLABLE.token.all, ...NULLABLE.authorize.all])];
const answerFields: Check = (value) =>
  Array.isArray(value) && value.length > 0 && value.every((field) => ANSWER_FIELDS.includes(field))
    ? undefined
    : `a non-empty list of ${ANSWER_FIELDS.join(', ')}`;

/** Each kind's fields: their check, and whether they are required (the first one is, where marked). */
const FAULT_FIELDS: { readonly [K in EmulatorFault['kind']]: Record<string, [check: Check, required?: true]> } = {
  latency: { ms: [integer(0, 3_600_000), true] },
  status: {
    status: [integer(100, 599), true],
    body: [anything],
    headers: [strings],
    layer: [oneOf('persona', 'edge')],
  },
  malformed: {},
  oversized: { bytes: [integer(1, 2 ** 31), true], chunked: [boolean] },
  'no-headers': {},
  drip: { intervalMs: [integer(0, 600_000), true], chunks: [integer(1, 100_000)] },
  reset: { when: [oneOf('before-headers', 'after-headers')] },
  redirect: { status: [oneOf(301, 302, 307, 308)], location: [oneLine] },
  'quota-exceeded': {},
  'null-fields': { fields: [answerFields], absent: [boolean] },
};

/**
 * Checks a fault given by a caller (the handle, or JSON on the control endpoint) and returns
 * a clean copy of the fields its kind has. Throws TypeError saying what is wrong.
 */
export function validateFault(input: unknown): EmulatorFault {
  if (!isObject(input)) throw new TypeError('a fault must be an object with a kind');
  const { kind } = input;
  if (typeof kind !== 'string' || !Object.hasOwn(FAULT_FIELDS, kind)) {
    throw new TypeError(`fault.kind must be one of ${Object.keys(FAULT_FIELDS).join(', ')}`);
  }
  const clean: Record<string, unknown> = { kind };
  for (const [name, [check, required]] of Object.entries(FAULT_FIELDS[kind as EmulatorFault['kind']])) {
    const value = input[name];
    if (value === undefined && !required) continue;
    const wanted = check(value);
    if (wanted !== undefined) throw new TypeError(`${kind}.${name} must be ${wanted}`);
    // A copy, so a caller changing its object later changes nothing; fields without repeats.
    clean[name] =
      name === 'fields' ? [...new Set(value as unknown[])] : name === 'headers' ? { ...(value as object) } : value;
  }
  return clean as EmulatorFault;
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
    if (clean.kind === 'null-fields') {
      if (endpoint !== 'token' && endpoint !== 'authorize') {
        throw new TypeError('a null-fields fault applies to the token and authorize endpoints only');
      }
      const allowed: readonly string[] = NULLABLE[endpoint].all;
      const stray = clean.fields?.find((field) => !allowed.includes(field));
      if (stray) throw new TypeError(`null-fields on ${endpoint}: ${stray} is not a field of its answer`);
    }
    const wanted = times === undefined ? undefined : integer(1)(times);
    if (wanted !== undefined) throw new TypeError(`times must be ${wanted}`);
    this.armed.set(endpoint, { fault: clean, remaining: times });
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
        ? errorResponse(fault.status, statusTitle(fault.status), 'Injected by the emulator')
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
  return errorResponse(status, statusTitle(status), `Moved to ${location}`, { headers: { location } });
}

/**
 * Persona's own answer with some fields null or absent (a `null-fields` fault): only a 2xx JSON
 * object is changed, its field names spelled in the request's inflection.
 */
export function withNullFields(
  response: EmulatorResponse,
  fault: Extract<EmulatorFault, { kind: 'null-fields' }>,
  endpoint: 'token' | 'authorize',
  inflection: KeyInflection,
): EmulatorResponse {
  if (response.status < 200 || response.status > 299) return response;
  const body: unknown = JSON.parse(response.body);
  if (!isObject(body)) return response;
  const out = { ...body };
  for (const field of fault.fields ?? NULLABLE[endpoint].byDefault) {
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
  const details = "The environment's quota for this kind of request is used up; it resets with the quota's window";
  return errorResponse(403, 'Quota exceeded', details);
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
