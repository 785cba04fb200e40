import type { IncomingMessage } from 'node:http';

/** A response as the emulator decides it, before any fault disturbs its delivery. */
export interface EmulatorResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response. */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): EmulatorResponse {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

/**
 * A response in Persona's error form: `{"errors":[{"title","details","source":{"pointer"}}]}`,
 * with `headers` over the JSON content type.
 */
export function errorResponse(
  status: number,
  title: string,
  details?: string,
  more: { pointer?: string; headers?: Record<string, string> } = {},
): EmulatorResponse {
  const entry: Record<string, unknown> = { title };
  if (details !== undefined) entry.details = details;
  if (more.pointer !== undefined) entry.source = { pointer: more.pointer };
  return jsonResponse(status, { errors: [entry] }, more.headers);
}

/** A thrown error as a 500 in Persona's form. */
export function internalError(error: unknown): EmulatorResponse {
  return errorResponse(500, 'Internal server error', error instanceof Error ? error.message : String(error));
}

/** A request body read up to a cap. */
export interface ReadBody {
  bytes: Buffer;
  /** True when the body went past the cap; `bytes` then holds only the first `cap` bytes. */
  tooLarge: boolean;
  /** False when the client went away before the end of the body. */
  complete: boolean;
}

/**
 * Reads the request body, keeping at most `cap` bytes. A larger body is drained (so the client
 * can finish sending and read the 413) up to `drainLimit` bytes, after which reading stops.
 */
export function readBody(req: IncomingMessage, cap: number, drainLimit: number): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let seen = 0;
    // The first of these events settles it; the later ones change nothing.
    const finish = (): void =>
      resolve({ bytes: Buffer.concat(chunks), tooLarge: seen > cap, complete: req.complete || seen > drainLimit });
    req.on('data', (chunk: Buffer) => {
      seen += chunk.length;
      if (kept < cap) {
        const part = chunk.subarray(0, cap - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (seen > drainLimit) {
        req.pause();
        finish();
      }
    });
    req.on('end', finish);
    req.on('error', finish);
    req.on('close', finish);
  });
}

/** Request parameters, keys normalised to kebab-case. */
export type Params = Map<string, string>;

export type ParsedParams = { ok: true; params: Params } | { ok: false; details: string };

/** True for a plain object: not null, not an array. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A request body as a JSON object (empty: `{}`), or a string saying why it is not one. */
export function parseJsonObject(raw: string): Record<string, unknown> | string {
  if (raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return isObject(value) ? value : 'The request body must be a JSON object';
  } catch {
    return 'The request body is not valid JSON';
  }
}

/**
 * Parses a POST body: `application/json` (an object of strings) or
 * `application/x-www-form-urlencoded` (also assumed when there is no Content-Type).
 * Keys may be kebab, snake or camel case; the same parameter twice is an error.
 */
export function parseParams(raw: string, contentTypeHeader: string | undefined): ParsedParams {
  const contentType = (contentTypeHeader ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let entries: [string, unknown][];
  if (contentType === 'application/json' || contentType.endsWith('+json')) {
    const body = parseJsonObject(raw);
    if (typeof body === 'string') return { ok: false, details: body };
    entries = Object.entries(body).filter(([, value]) => value !== null && value !== undefined);
  } else if (contentType === '' || contentType === 'application/x-www-form-urlencoded') {
    entries = [...new URLSearchParams(raw)];
  } else {
    const supported = 'application/x-www-form-urlencoded or application/json';
    return { ok: false, details: `Unsupported Content-Type ${contentType}: use ${supported}` };
  }
  const params: Params = new Map();
  for (const [key, value] of entries) {
    const name = kebabCase(key);
    if (typeof value !== 'string') return { ok: false, details: `parameter ${name} must be a string` };
    if (params.has(name)) return { ok: false, details: `parameter ${name} is given more than once` };
    params.set(name, value);
  }
  return { ok: true, params };
}

/** A request header as one string (the first value when repeated). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

// ── Key inflection ─────────────────────────────────────────────────────────

/** Casing of response keys, chosen by the `Key-Inflection` request header. */
export type KeyInflection = 'kebab' | 'snake' | 'camel';

/**
 * Reads `Key-Inflection`: undefined when absent (kebab is the default), null when the value is
 * not one of kebab, snake or camel (case-insensitive).
 */
export function parseKeyInflection(header: string | undefined): KeyInflection | null | undefined {
  if (header === undefined) return undefined;
  const value = header.trim().toLowerCase();
  return value === 'kebab' || value === 'snake' || value === 'camel' ? value : null;
}

/** Spells a kebab-case key (`address-street-1`) in the given inflection. */
export function inflectKey(key: string, inflection: KeyInflection): string {
  if (inflection === 'kebab') return key;
  if (inflection === 'snake') return key.replace(/-/g, '_');
  return key.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Re-keys every plain object inside `value` (values are left alone). Keys are kebab-case on input. */
export function inflectDeep(value: unknown, inflection: KeyInflection): unknown {
  if (Array.isArray(value)) return value.map((item) => inflectDeep(item, inflection));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[inflectKey(key, inflection)] = inflectDeep(inner, inflection);
    return out;
  }
  return value;
}

/**
 * A name in any inflection in kebab-case: `grant_type`, `grantType` and `grant-type` all become
 * `grant-type`, and `addressStreet1` becomes `address-street-1`.
 */
export function kebabCase(name: string): string {
  if (name.includes('_')) return name.replace(/_/g, '-');
  if (!/^[a-z][a-zA-Z0-9]*$/.test(name)) return name;
  return name.replace(/[A-Z]|\d+/g, (part) => `-${part.toLowerCase()}`);
}
