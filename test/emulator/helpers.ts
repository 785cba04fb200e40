import { request } from 'undici';
import type { PersonaEmulator } from '../../src/testing/index.js';

export { firstInquiry, readCode, tokenRequests } from '../helpers/emulator.js';

/**
 * Every `Persona-Version` Persona documents: the eight of the OAuth reference pages' enum
 * (2025-12-08 the latest released, per Versioning) and the two documentation sets the
 * documentation index names besides (2021-05-14, 2026-09-29).
 */
export const DOCUMENTED_VERSIONS: readonly string[] = [
  '2020-05-18',
  '2021-02-21',
  '2021-05-14',
  '2021-07-05',
  '2021-08-18',
  '2022-09-01',
  '2023-01-05',
  '2025-10-27',
  '2025-12-08',
  '2026-09-29',
];

/** A response read in full. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON (undefined when it does not parse); typed loosely so tests can index into it. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON documents and assert on them.
  json: any;
}

export interface CallOptions {
  method?: string;
  /** Bearer credential; omitted → no Authorization header. */
  key?: string;
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as is. */
  body?: string | Buffer;
  headersTimeout?: number;
  bodyTimeout?: number;
}

/** One HTTP request to the emulator over loopback, with the body read and JSON parsed when it parses. */
export async function call(emulator: PersonaEmulator, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) headers.authorization = `Bearer ${options.key}`;
  let body: string | Buffer | undefined = options.body;
  if (options.form) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const method = (options.method ?? (body === undefined ? 'GET' : 'POST')) as 'GET';
  const response = await request(`${emulator.url}${path}`, {
    method,
    headers,
    body,
    headersTimeout: options.headersTimeout,
    bodyTimeout: options.bodyTimeout,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** POST /api/v1/oauth/authorize as the owner (by default) for the recipient. */
export function authorize(
  emulator: PersonaEmulator,
  form: Record<string, string>,
  options: CallOptions = {},
): Promise<Reply> {
  return call(emulator, '/api/v1/oauth/authorize', { key: emulator.owner.apiKey, form, ...options });
}

/** POST /api/v1/oauth/token as the recipient (by default). */
export function exchange(emulator: PersonaEmulator, code: string, options: CallOptions = {}): Promise<Reply> {
  return call(emulator, '/api/v1/oauth/token', {
    key: emulator.recipient.apiKey,
    form: { code, 'grant-type': 'authorization_code' },
    ...options,
  });
}

/** The errors[0] entry of a Persona error body. */
export function firstError(reply: Reply): { title: string; details?: string; source?: { pointer?: string } } {
  const entry: unknown = reply.json?.errors?.[0];
  if (entry === undefined) throw new Error(`not a Persona error body: ${reply.text}`);
  return entry as { title: string; details?: string };
}
