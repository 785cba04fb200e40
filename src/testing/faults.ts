import { errorResponse, isObject, JSON_TYPE, jsonResponse, statusTitle, type EmulatorResponse } from './http.js';
import { inflectKey, type KeyInflection } from './inflection.js';
import { OBJECT_TYPES } from './object-types.js';
import type { EmulatorEndpoint, EmulatorFault, TokenResponseField } from './types.js';

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

const TOKEN_FIELDS: readonly TokenResponseField[] = ['access-token', 'expires-in', 'scope', 'token-type'];
const NULLABLE_BY_DEFAULT: readonly TokenResponseField[] = ['token-type', 'expires-in', 'scope'];

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
    fault.fields = [...new Set(fields as TokenResponseField[])];
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
