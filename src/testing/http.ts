import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';

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

/** The reason phrase of a status, used as a default error title. */
export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
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
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve({ bytes: Buffer.concat(chunks), tooLarge: seen > cap, complete: req.complete || seen > drainLimit });
    };
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

/**
 * Parses a POST body: `application/json` (an object of strings) or
 * `application/x-www-form-urlencoded` (also assumed when there is no Content-Type).
 * Keys may be kebab, snake or camel case; the same parameter twice is an error.
 */
export function parseParams(raw: string, contentTypeHeader: string | undefined): ParsedParams {
  const contentType = (contentTypeHeader ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const params: Params = new Map();
  const add = (key: string, value: string): string | undefined => {
    const name = normalizeParamKey(key);
    if (params.has(name)) return `parameter ${name} is given more than once`;
    params.set(name, value);
    return undefined;
  };

  if (contentType === 'application/json' || contentType.endsWith('+json')) {
    if (raw.trim() === '') return { ok: true, params };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, details: 'The request body is not valid JSON' };
    }
    if (!isObject(value)) {
      return { ok: false, details: 'The request body must be a JSON object' };
    }
    for (const [key, inner] of Object.entries(value)) {
      if (inner === null || inner === undefined) continue;
      if (typeof inner !== 'string')
        return { ok: false, details: `parameter ${normalizeParamKey(key)} must be a string` };
      const problem = add(key, inner);
      if (problem) return { ok: false, details: problem };
    }
    return { ok: true, params };
  }

  if (contentType === '' || contentType === 'application/x-www-form-urlencoded') {
    for (const [key, value] of new URLSearchParams(raw)) {
      const problem = add(key, value);
      if (problem) return { ok: false, details: problem };
    }
    return { ok: true, params };
  }

  return {
    ok: false,
    details: `Unsupported Content-Type ${contentType}: use application/x-www-form-urlencoded or application/json`,
  };
}

/** A header as one string (the first value when repeated). */
export function headerValue(value: string | string[] | undefined): string | undefined {
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

/** A camelCase name in kebab-case: `addressStreet1` becomes `address-street-1`. */
export function kebabCase(name: string): string {
  return name.replace(/[A-Z]|\d+/g, (part) => `-${part.toLowerCase()}`);
}

/**
 * Brings a request parameter name in any inflection to kebab-case:
 * `grant_type`, `grantType` and `grant-type` all become `grant-type`.
 */
export function normalizeParamKey(key: string): string {
  if (key.includes('_')) return key.replace(/_/g, '-');
  return /^[a-z][a-zA-Z0-9]*$/.test(key) ? kebabCase(key) : key;
}
