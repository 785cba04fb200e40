import type { PersonaRequest } from './request.js';

/** What a callback request carried, after checking. */
export type CallbackInput =
  | { kind: 'code'; code: string; state: string | undefined }
  | { kind: 'error'; error: string; description: string | undefined; state: string | undefined }
  | { kind: 'start'; state: string | undefined }
  | { kind: 'invalid'; message: string };

const MAX_PARAM_LENGTH = 2048;
const PRINTABLE = /^[\x20-\x7e]+$/;
const PARAMS = ['code', 'state', 'error', 'error_description'] as const;
type ParamName = (typeof PARAMS)[number];

const MAX_DESCRIPTION_LENGTH = 200;

type Single = { ok: true; value: string | undefined } | { ok: false; message: string };

// The owner's error_description is free text for people, in any language: it is reduced to
// printable ASCII (each run of anything else becomes one space) and 200 characters rather than
// refused. It stays untrusted text all the same.
function reduceDescription(value: string): string | undefined {
  const reduced = value
    .replace(/[^\x20-\x7e]+/g, ' ')
    .trim()
    .slice(0, MAX_DESCRIPTION_LENGTH)
    .trimEnd();
  return reduced === '' ? undefined : reduced;
}

// Exactly one non-empty string of printable ASCII; absent is fine here, the caller decides.
function single(source: Record<string, unknown>, name: ParamName): Single {
  if (!Object.hasOwn(source, name)) return { ok: true, value: undefined };
  const value = source[name];
  if (value === undefined) return { ok: true, value: undefined };
  if (Array.isArray(value)) return { ok: false, message: `The ${name} parameter was given more than once` };
  if (typeof value !== 'string') return { ok: false, message: `The ${name} parameter must be a string` };
  if (value.length === 0) return { ok: false, message: `The ${name} parameter is empty` };
  if (value.length > MAX_PARAM_LENGTH) {
    return { ok: false, message: `The ${name} parameter is longer than ${MAX_PARAM_LENGTH} characters` };
  }
  if (name === 'error_description') return { ok: true, value: reduceDescription(value) };
  if (!PRINTABLE.test(value))
    return { ok: false, message: `The ${name} parameter holds characters that are not printable ASCII` };
  return { ok: true, value };
}

function fromURL(url: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  let search: URLSearchParams;
  try {
    search = new URL(url ?? '/', 'http://request.invalid').searchParams;
  } catch {
    return out;
  }
  for (const name of PARAMS) {
    const all = search.getAll(name);
    if (all.length === 1) out[name] = all[0];
    else if (all.length > 1) out[name] = all;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function hasAnyParam(source: Record<string, unknown>): boolean {
  return PARAMS.some((name) => Object.hasOwn(source, name));
}

/**
 * Picks where the callback parameters are: the form body of a POST that carries any of them,
 * otherwise the query string (`req.query` as parsed by Express, or the raw URL when that has none).
 */
export function callbackParams(
  req: Pick<PersonaRequest, 'method' | 'body' | 'query' | 'url'>,
): Record<string, unknown> {
  if (req.method === 'POST' && isRecord(req.body) && hasAnyParam(req.body)) return req.body;
  // Express 5 parses the query string on every read of req.query: read it once. With its query
  // parser turned off, req.query is always `{}`: the raw URL is read then.
  const query = req.query;
  if (isRecord(query) && hasAnyParam(query)) return query;
  return fromURL(req.url);
}

/**
 * Checks callback parameters (from the query string or a form body) without trusting their
 * shape. Never throws; a code is only ever let through as one non-empty printable-ASCII string
 * of at most 2048 characters, and `state` and `error` are held to the same rule.
 * `error_description` must be one string of at most 2048 characters too, and is then reduced to
 * printable ASCII and at most 200 characters. An `error` takes precedence over a `code`.
 */
export function readCallbackInput(source: unknown): CallbackInput {
  const params: Record<string, unknown> = isRecord(source) ? source : {};
  const values: Partial<Record<ParamName, string>> = {};
  for (const name of PARAMS) {
    const checked = single(params, name);
    if (!checked.ok) return { kind: 'invalid', message: checked.message };
    if (checked.value !== undefined) values[name] = checked.value;
  }
  if (values.error !== undefined) {
    return { kind: 'error', error: values.error, description: values.error_description, state: values.state };
  }
  if (values.code !== undefined) return { kind: 'code', code: values.code, state: values.state };
  return { kind: 'start', state: values.state };
}
