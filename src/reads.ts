// The recipient's reads of shared objects with an access token: refused before any call when the
// token has expired or its scope lacks `<type>.read` on the object, then one GET on the
// exchange's transport (deadline, 429 retries, size cap), the JSON:API document checked.
import type { PersonaOAuthErrorInit } from './errors.js';
import { PersonaOAuthError } from './errors.js';
import type { ScopeHolder } from './scopes.js';
import { PersonaHttp } from './persona-http.js';
import { reportedCall } from './persona-call.js';
import { hasScope } from './scopes.js';
import { type CodeExchangerOptions, resolveClientSettings } from './settings.js';
import { type EndpointWords, type ErrorContext, readJsonBody, readRequestId, refusalFor } from './token-response.js';

// Reads authenticate with the token set's access token (PersonaCall.bearer): no key is sent.
const NO_API_KEY = 'unused-reads-send-the-access-token';
// A document with `include`d objects is far larger than a token response.
const DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;
const TYPE = /^[a-z][a-z0-9_]*$/;
const QUERY_NAME = /^[A-Za-z0-9_.-]+$/;
// Persona's retrieval paths where the type's plural is not `<type>s`.
const PATHS: Record<string, string> = { inquiry: 'inquiries', txn: 'transactions' };

/** One JSON:API resource object as Persona answers it; attribute keys follow the inflection. */
export interface PersonaResource<T extends string = string> {
  type: T;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, unknown>;
}

/** A JSON:API document with one resource: `data`, and what `include` asked for in `included`. */
export interface PersonaDocument<R extends PersonaResource = PersonaResource> {
  data: R;
  included?: PersonaResource[];
  meta?: Record<string, unknown>;
  links?: Record<string, unknown>;
}

/** A read's answer: Persona's document, and its `Request-Id` (what Persona support asks for). */
export interface SharedObject<D extends PersonaDocument = PersonaDocument> {
  document: D;
  requestId: string | undefined;
}

/** A token set (or `req.user`) to read with: the access token, its scopes, and `expiresAt`. */
export type SharedReadTokens = NonNullable<ScopeHolder> & { accessToken: string };

/** Options of one {@link SharedObjectReader.read}. */
export interface ReadSharedOptions {
  /** Related objects to add to `included` (Persona's `include`), e.g. `['account']`. */
  include?: readonly string[] | undefined;
  /** Sparse fieldsets per type (Persona's `fields[type]`), e.g. `{ inquiry: ['status'] }`. */
  fields?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Aborts the read (an `aborted` error); the deadline and `close()` abort it too. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of {@link createSharedObjectReader}: the exchange's, without a key (the token is the
 * credential), `maxResponseBytes` defaulting to 1 MiB (a document, `included` objects and all).
 */
export interface SharedObjectReaderOptions extends Omit<CodeExchangerOptions, 'apiKey'> {
  /** The clock `expiresAt` is compared with, in epoch ms (default `Date.now`). */
  now?: (() => number) | undefined;
}

/** Reads the objects a token set's scope names. Made by {@link createSharedObjectReader}. */
export interface SharedObjectReader {
  /**
   * Reads one shared object (`GET /api/v1/<type>s/:id` with `Authorization: Bearer <accessToken>`):
   * an inquiry or a verification typed as such, another type (`report`, `account`, …) as a
   * generic document. Before any call, refuses a token past `expiresAt` (`token_expired`, 401:
   * connect again) and a scope without `<type>.read` on `id` (`insufficient_scope`, 403).
   *
   * @throws {PersonaOAuthError} (as a rejection) those two; `token_expired` when Persona refuses
   * the token (401), `insufficient_scope` when it refuses the object (403, 404),
   * `request_rejected` (400, 422: check `include` and `fields`), `rate_limited`,
   * `persona_unavailable`, `invalid_response` (not a JSON:API document of that object),
   * `timeout`, `network`, `closed` or `aborted`; never carrying the access token.
   * @throws {TypeError} (as a rejection) when `tokens` has no access token, or `type`,
   * `include` or `fields` is malformed.
   */
  read(
    tokens: SharedReadTokens,
    type: 'inquiry',
    id: string,
    options?: ReadSharedOptions,
  ): Promise<SharedObject<PersonaDocument<PersonaResource<'inquiry'>>>>;
  /** Reads a shared verification (`verification.read` on `id`): its type is `verification/<kind>`. */
  read(
    tokens: SharedReadTokens,
    type: 'verification',
    id: string,
    options?: ReadSharedOptions,
  ): Promise<SharedObject<PersonaDocument<PersonaResource<`verification/${string}`>>>>;
  /** Reads a shared object of another type (`<type>.read` on `id`) as a generic JSON:API document. */
  read(tokens: SharedReadTokens, type: string, id: string, options?: ReadSharedOptions): Promise<SharedObject>;
  /** Aborts every read in flight (`closed`) and closes the reader's own pool. Harmless twice. */
  close(): Promise<void>;
}

function names(list: readonly string[], what: string): string {
  if (!Array.isArray(list) || list.some((name) => typeof name !== 'string' || !QUERY_NAME.test(name))) {
    throw new TypeError(`passport-withpersona: ${what} must list names of letters, digits, _, - and .`);
  }
  return list.join(',');
}

/** `<plural>/<id>` with Persona's `include` and `fields[type]` parameters. */
function readPath(type: string, id: string, options: ReadSharedOptions | undefined): string {
  const query: string[] = [];
  if (options?.include !== undefined) query.push(`include=${names(options.include, 'include')}`);
  for (const [fieldType, fields] of Object.entries(options?.fields ?? {})) {
    if (!QUERY_NAME.test(fieldType)) throw new TypeError('passport-withpersona: fields must be keyed by type names');
    query.push(`fields%5B${fieldType}%5D=${names(fields, `fields[${fieldType}]`)}`);
  }
  const path = `api/v1/${PATHS[type] ?? `${type}s`}/${encodeURIComponent(id)}`;
  return query.length === 0 ? path : `${path}?${query.join('&')}`;
}

function wordsFor(type: string): EndpointWords {
  return {
    endpoint: `Persona's ${type} endpoint`,
    request: `the read of a shared ${type}`,
    task: `give the shared ${type}`,
    response: `Persona's ${type} response`,
  };
}

// What a refusal of a read means for the app: connect again (401), or not readable with this token.
function readRefusal(ctx: ErrorContext, init: PersonaOAuthErrorInit): PersonaOAuthError | undefined {
  const status = ctx.personaStatus;
  if (status === 401) {
    return new PersonaOAuthError('token_expired', 'Persona refused the access token (HTTP 401): connect again', init);
  }
  if (status === 403 || status === 404) {
    const message = `Persona refused to give this object to the access token (HTTP ${status})`;
    return new PersonaOAuthError('insufficient_scope', message, init);
  }
  if (status === 400 || status === 422) {
    const message = `Persona rejected the read (HTTP ${status}): check include and fields; see personaErrors`;
    return new PersonaOAuthError('request_rejected', message, init);
  }
  return undefined;
}

/** The document, when `json` is a JSON:API document holding `id` of `type`; throws otherwise. */
function readDocument(json: unknown, type: string, id: string, init: PersonaOAuthErrorInit): PersonaDocument {
  const data = (json as { data?: unknown } | null)?.data as { type?: unknown; id?: unknown } | null | undefined;
  const dataType = data?.type;
  const typed = type === 'verification' ? `${dataType}`.startsWith('verification/') : dataType === type;
  if (typeof json !== 'object' || Array.isArray(json) || typeof dataType !== 'string' || !typed || data?.id !== id) {
    throw new PersonaOAuthError('invalid_response', `Persona's ${type} response is not the ${type} asked for`, init);
  }
  return json as PersonaDocument;
}

/** Refuses, before any call, what this token set cannot read. */
function checkTokens(tokens: SharedReadTokens, type: string, id: string, now: () => number): void {
  if (tokens === null || typeof tokens !== 'object' || typeof tokens.accessToken !== 'string') {
    throw new TypeError('passport-withpersona: read needs a token set with an accessToken');
  }
  if (!TYPE.test(type)) throw new TypeError('passport-withpersona: type must be a resource name such as inquiry');
  if (typeof tokens.expiresAt === 'number' && tokens.expiresAt <= now()) {
    const message = 'The access token has expired: Persona issues no refresh token, so connect again for a new code';
    throw new PersonaOAuthError('token_expired', message);
  }
  if (!hasScope(tokens, `${type}.read`, id)) {
    throw new PersonaOAuthError(
      'insufficient_scope',
      `The access token's scope does not grant ${type}.read on this object`,
    );
  }
}

async function readShared(
  http: PersonaHttp,
  maxResponseBytes: number,
  request: { tokens: SharedReadTokens; type: string; id: string; path: string; signal: AbortSignal | undefined },
): Promise<SharedObject> {
  const { tokens, type, id, path, signal } = request;
  const secrets = [tokens.accessToken];
  const words = wordsFor(type);
  return reportedCall('read', secrets, async (record) => {
    const call = { method: 'GET', path, bearer: tokens.accessToken, what: words.endpoint } as const;
    const answer = await http.send(call, record, signal);
    const context = { personaStatus: answer.status, requestId: readRequestId(answer.headers, secrets) };
    if (answer.status < 200 || answer.status >= 300) throw refusalFor(answer, context, secrets, words, readRefusal);
    const read = readJsonBody(answer.body, context, words, maxResponseBytes);
    if ('error' in read) throw read.error;
    const document = readDocument(read.json, type, id, context);
    return { value: { document, requestId: context.requestId }, requestId: context.requestId };
  });
}

/**
 * Builds a {@link SharedObjectReader}: the recipient's reads of what a token set's scope names,
 * on the exchange's transport rules (`baseURL` https or loopback http, `timeoutMs` for each read
 * and its retries, a 429 or a failed connection retried within it, `maxResponseBytes`, one report
 * per read on {@link CALL_CHANNEL}), with a keep-alive pool of its own unless `dispatcher` is given.
 *
 * @throws {TypeError} when an option is out of range or `baseURL` is not https (or loopback http).
 */
export function createSharedObjectReader(options: SharedObjectReaderOptions = {}): SharedObjectReader {
  const settings = resolveClientSettings({
    ...options,
    apiKey: NO_API_KEY,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
  });
  const now = options.now ?? Date.now;
  const http = new PersonaHttp(settings, options.dispatcher);
  const read = async (tokens: SharedReadTokens, type: string, id: string, readOptions?: ReadSharedOptions) => {
    checkTokens(tokens, type, id, now);
    const path = readPath(type, id, readOptions);
    return readShared(http, settings.maxResponseBytes, { tokens, type, id, path, signal: readOptions?.signal });
  };
  return { read: read as SharedObjectReader['read'], close: () => http.close() };
}
