// The data owner's side: Create Authorization (POST /api/v1/oauth/authorize) with the owner's
// key, on the exchange's transport (PersonaHttp: one deadline, bounded retries with one random
// Idempotency-Key, the size cap), and the hand-over of the code to the recipient's callback.
import type { PersonaOAuthErrorInit } from './errors.js';
import { PersonaOAuthError } from './errors.js';
import { PersonaHttp } from './persona-http.js';
import { reportedCall } from './persona-call.js';
import { formatScopes, parseScopes, type PersonaScope } from './scopes.js';
import { type CodeExchangerOptions, resolveClientSettings } from './settings.js';
import { type EndpointWords, type ErrorContext, readJsonBody, readRequestId, refusalFor } from './token-response.js';

const AUTHORIZE_PATH = 'api/v1/oauth/authorize';
const WORDS: EndpointWords = {
  endpoint: "Persona's Create Authorization endpoint",
  request: 'the Create Authorization request',
  task: 'create the authorization',
  response: "Persona's Create Authorization response",
};
const MAX_CODE_LENGTH = 4096;
const MAX_STATE_LENGTH = 512;
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/** Options of {@link createAuthorization}: the transport's, plus whom and what to share. */
export interface CreateAuthorizationOptions extends CodeExchangerOptions {
  /** The data owner's (your) Persona API key, sent only to `baseURL`. */
  apiKey: string;
  /** The recipient organisation's id (`org_…`), sent as `client-id`. */
  clientId: string;
  /**
   * What to share: a `permission:object` scope string (`inquiry.read:inq_… verification.read:ver_…`)
   * or a list such as `parseScopes` gives. Checked with the grammar `parseScopes` reads.
   */
  scope: string | readonly Pick<PersonaScope, 'permission' | 'objectId'>[];
  /** Aborts the call (an `aborted` error); the deadline aborts it too. */
  signal?: AbortSignal | undefined;
}

/** What Create Authorization answers: the code to hand to the recipient. */
export interface PersonaAuthorization {
  /** The authorization code; only the recipient named by `clientId` can exchange it. A secret. */
  code: string;
  /** The code's lifetime in seconds, as Persona sent it; undefined when it sent none (null). */
  expiresIn: number | undefined;
  /** Persona's `Request-Id`, when it sent one. */
  requestId?: string;
}

/** The scope string to send: at least one well-formed entry, duplicates dropped. */
function scopeToSend(scope: CreateAuthorizationOptions['scope']): string {
  let entries: string;
  try {
    entries = typeof scope === 'string' ? formatScopes(parseScopes(scope)) : formatScopes(scope);
  } catch (error) {
    throw new TypeError(`passport-withpersona: scope: ${(error as Error).message}`);
  }
  if (entries === '') throw new TypeError('passport-withpersona: scope must name at least one permission:object pair');
  return entries;
}

function checkClientId(clientId: unknown): string {
  if (typeof clientId !== 'string' || !VISIBLE_ASCII.test(clientId) || clientId.length > 256) {
    throw new TypeError("passport-withpersona: clientId must be the recipient organization's id (org_…)");
  }
  return clientId;
}

// 400, 404 (an unknown recipient or object), 409 and 422: the request names something Persona
// will not authorize; nothing a person at the browser can change.
function authorizeRefusal(ctx: ErrorContext, init: PersonaOAuthErrorInit): PersonaOAuthError | undefined {
  const status = ctx.personaStatus;
  if (status !== 400 && status !== 404 && status !== 409 && status !== 422) return undefined;
  const message = `Persona refused to create the authorization (HTTP ${status}): check clientId and that every object in scope is yours; see personaErrors`;
  return new PersonaOAuthError('request_rejected', message, init);
}

/** The code and lifetime a 2xx body carries, in any key inflection; throws when unusable. */
function readAuthorization(json: unknown, init: PersonaOAuthErrorInit): Omit<PersonaAuthorization, 'requestId'> {
  const body =
    json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  const { code } = body;
  if (typeof code !== 'string' || code.length > MAX_CODE_LENGTH || !VISIBLE_ASCII.test(code)) {
    throw new PersonaOAuthError('invalid_response', `${WORDS.response} carries no usable code`, init);
  }
  const expiresIn = body['expires-in'] ?? body.expires_in ?? body.expiresIn ?? undefined;
  if (
    expiresIn !== undefined &&
    expiresIn !== null &&
    !(Number.isSafeInteger(expiresIn) && (expiresIn as number) >= 0)
  ) {
    throw new PersonaOAuthError('invalid_response', `${WORDS.response} has an invalid expires-in`, init);
  }
  return { code, expiresIn: typeof expiresIn === 'number' ? expiresIn : undefined };
}

/**
 * The data owner's Create Authorization: `POST /api/v1/oauth/authorize` with your API key,
 * `client-id`, `response-type=code` and `scope`, resolving to the code for the recipient. The
 * same transport as the exchange: one deadline (`timeoutMs`) for the call and its retries, a
 * connection failure or a 429 retried with one random Idempotency-Key, a size cap, https only
 * (http on loopback), one report on {@link CALL_CHANNEL}. Uses `dispatcher` when given (keep one
 * for many calls), else a pool of its own closed when the call ends.
 *
 * @throws {TypeError} (as a rejection) when an option is invalid: no `apiKey`, a `baseURL` that
 * is not https (or loopback http), a scope outside the `permission:object` grammar, an empty
 * scope, a `clientId` that is not one printable word. The message never quotes the key.
 * @throws {PersonaOAuthError} (as a rejection) `request_rejected` (Persona's 400/404/409/422),
 * `invalid_api_key`, `forbidden`, `rate_limited`, `persona_unavailable`, `invalid_response`,
 * `timeout`, `network` or `aborted`; never carrying the API key or the code.
 */
export async function createAuthorization(options: CreateAuthorizationOptions): Promise<PersonaAuthorization> {
  if (typeof options?.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new TypeError('passport-withpersona: apiKey is required (the data owner organization’s Persona API key)');
  }
  const settings = resolveClientSettings(options);
  const form = new URLSearchParams({
    'client-id': checkClientId(options.clientId),
    'response-type': 'code',
    scope: scopeToSend(options.scope),
  }).toString();
  const secrets = [settings.apiKey];
  const http = new PersonaHttp(settings, options.dispatcher);
  try {
    return await reportedCall('authorize', secrets, async (record) => {
      const call = { method: 'POST', path: AUTHORIZE_PATH, form, what: WORDS.endpoint } as const;
      const answer = await http.send(call, record, options.signal);
      const context = { personaStatus: answer.status, requestId: readRequestId(answer.headers, secrets) };
      if (answer.status < 200 || answer.status >= 300) {
        throw refusalFor(answer, context, secrets, WORDS, authorizeRefusal);
      }
      const read = readJsonBody(answer.body, context, WORDS, settings.maxResponseBytes);
      if ('error' in read) throw read.error;
      // The code is a secret from here on, even in a body refused: redacted from the Request-Id too.
      const sent = (read.json as { code?: unknown } | null)?.code;
      if (typeof sent === 'string') secrets.push(sent);
      const requestId = readRequestId(answer.headers, secrets);
      const authorization = readAuthorization(read.json, { ...context, requestId });
      return { value: requestId === undefined ? authorization : { ...authorization, requestId }, requestId };
    });
  } finally {
    await http.close();
  }
}

/** A share request the owner's page accepted: where to send the browser back, and its state. */
export interface ShareRequest {
  /** The recipient's callback URL, exactly as registered. */
  redirectUri: string;
  /** The recipient's `state`, handed back unchanged. */
  state: string;
}

/**
 * Checks what the recipient's app sent the browser to the owner's share page with (this
 * package's convention between the two organisations; Persona defines no such page):
 * `redirect_uri` must be exactly one of `callbackURLs`, the recipient's registered callbacks (so
 * the page is no open redirect and sends no code elsewhere), and `state` 1 to 512 printable
 * ASCII characters. Gives the accepted request, or which of the two is wrong; never throws.
 */
export function checkShareRequest(
  query: { redirect_uri?: unknown; state?: unknown },
  callbackURLs: string | readonly string[],
): (ShareRequest & { error?: undefined }) | { error: 'invalid_redirect_uri' | 'invalid_state' } {
  const redirectUri = query?.redirect_uri;
  const allowed: readonly string[] = typeof callbackURLs === 'string' ? [callbackURLs] : callbackURLs;
  if (typeof redirectUri !== 'string' || !allowed.includes(redirectUri)) return { error: 'invalid_redirect_uri' };
  const state = query.state;
  if (typeof state !== 'string' || state.length > MAX_STATE_LENGTH || !VISIBLE_ASCII.test(state)) {
    return { error: 'invalid_state' };
  }
  return { redirectUri, state };
}

/**
 * The URL to send the browser back to after the owner's decision: the accepted request's
 * `redirectUri` with its `state`, and `code` (from {@link createAuthorization}) or `error` (such
 * as `access_denied` when the person declined), as {@link PersonaStrategy} reads them.
 *
 * @throws {TypeError} when neither or both of `code` and `error` are given, or one is not printable ASCII.
 */
export function shareRedirectURL(request: ShareRequest, outcome: { code: string } | { error: string }): string {
  const value = 'code' in outcome ? outcome.code : outcome.error;
  if (('code' in outcome && 'error' in outcome) || typeof value !== 'string' || !VISIBLE_ASCII.test(value)) {
    throw new TypeError('passport-withpersona: shareRedirectURL needs a code or an error, printable ASCII');
  }
  const url = new URL(request.redirectUri);
  url.searchParams.set('state', request.state);
  url.searchParams.set('code' in outcome ? 'code' : 'error', value);
  return url.toString();
}
