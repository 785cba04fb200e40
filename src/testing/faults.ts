import { STATUS_CODES } from 'node:http';
import {
  errorResponse,
  inflectKey,
  isObject,
  JSON_TYPE,
  jsonResponse,
  type EmulatorResponse,
  type KeyInflection,
} from './http.js';
import { OBJECT_TYPES } from './objects.js';
import type { EmulatorEndpoint, EmulatorFault } from './types.js';

// The OAuth endpoints, then each object type's retrieval endpoint.
const ENDPOINTS: readonly EmulatorEndpoint[] = ['authorize', 'token', ...OBJECT_TYPES.map((type) => type.resource)];

const ENDPOINT_NAMES = `${ENDPOINTS.slice(0, -1).join(', ')} or ${ENDPOINTS.at(-1)}`;

/** The reason phrase of a status, as an error title. */
const statusTitle = (status: number): string => STATUS_CODES[status] ?? 'Error';

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

/** A clean copy of a fault given by a caller (the handle, or JSON on the control endpoint); TypeError if invalid. */
function validateFault(input: unknown): EmulatorFault {
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

/** The faults armed on each endpoint, used up one request at a time. */
export class FaultBoard {
  // With the requests it has left; undefined: until cleared.
  private readonly armed = new Map<EmulatorEndpoint, { fault: EmulatorFault; remaining: number | undefined }>();

  /** Arms (or with null, clears) an endpoint's fault, for `times` requests or until cleared; TypeError if invalid. */
  set(endpoint: unknown, fault: unknown, times?: unknown): void {
    const known = ENDPOINTS.find((name) => name === endpoint);
    if (known === undefined) throw new TypeError(`endpoint must be ${ENDPOINT_NAMES}`);
    if (fault === null) {
      this.armed.delete(known);
      return;
    }
    const clean = validateFault(fault);
    if (clean.kind === 'null-fields') {
      if (known !== 'token' && known !== 'authorize') {
        throw new TypeError('a null-fields fault applies to the token and authorize endpoints only');
      }
      const allowed: readonly string[] = NULLABLE[known].all;
      const stray = clean.fields?.find((field) => !allowed.includes(field));
      if (stray) throw new TypeError(`null-fields on ${known}: ${stray} is not a field of its answer`);
    }
    const wanted = times === undefined ? undefined : integer(1)(times);
    if (wanted !== undefined) throw new TypeError(`times must be ${wanted}`);
    this.armed.set(known, { fault: clean, remaining: times as number | undefined });
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
  const { status, body } = fault;
  const response =
    typeof body === 'string'
      ? { status, headers: { 'content-type': JSON_TYPE }, body }
      : body === undefined && status >= 400
        ? errorResponse(status, statusTitle(status), 'Injected by the emulator')
        : jsonResponse(status, body === undefined ? {} : body);
  const forced = Object.entries(fault.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
  return { ...response, headers: { ...response.headers, ...Object.fromEntries(forced) } };
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
