import type { GrantStore } from './grants.js';
import { errorResponse, jsonResponse, type EmulatorResponse, type Params } from './http.js';
import { inflectDeep, inflectKey, type KeyInflection } from './inflection.js';
import type { ObjectRegistry } from './registry.js';
import { checkScope } from './scope-check.js';
import type { EmulatedOrganization, EmulatorClock } from './types.js';

/** What the OAuth endpoints read and change. */
export interface OAuthState {
  registry: ObjectRegistry;
  grants: GrantStore;
  clock: EmulatorClock;
}

function invalid(status: number, title: string, details: string, pointer: string): EmulatorResponse {
  return errorResponse(status, { title, details, pointer });
}

function missing(name: string, inflection: KeyInflection): EmulatorResponse {
  const spelled = inflectKey(name, inflection);
  return invalid(400, 'Missing required parameter', `${spelled} is required`, `/${spelled}`);
}

/**
 * `POST /api/v1/oauth/authorize`: checks the parameters (400), the scope's grammar (400), the
 * recipient (404, or 422 for the caller itself), then the scope's objects (404/422), and issues a code.
 */
export function createAuthorization(
  state: OAuthState,
  caller: EmulatedOrganization,
  params: Params,
  inflection: KeyInflection,
): EmulatorResponse {
  const pointer = (name: string): string => `/${inflectKey(name, inflection)}`;
  const clientId = params.get('client-id');
  const responseType = params.get('response-type');
  const scope = params.get('scope');
  if (!clientId) return missing('client-id', inflection);
  if (!responseType) return missing('response-type', inflection);
  if (responseType !== 'code') {
    const details = `${inflectKey('response-type', inflection)} must be code`;
    return invalid(400, 'Invalid parameter', details, pointer('response-type'));
  }
  if (scope === undefined || scope.trim() === '') return missing('scope', inflection);

  const scopes = checkScope(scope, caller, inflection);
  if (!scopes.ok && scopes.status === 400) return errorResponse(scopes.status, scopes.error);
  const recipient = state.registry.organization(clientId);
  if (!recipient) {
    return invalid(404, 'Record not found', `Organization ${clientId} was not found`, pointer('client-id'));
  }
  if (recipient.id === caller.id) {
    const details = `${inflectKey('client-id', inflection)} must name another organization than the caller`;
    return invalid(422, 'Invalid parameter', details, pointer('client-id'));
  }
  if (!scopes.ok) return errorResponse(scopes.status, scopes.error);

  const { code, expiresIn } = state.grants.issueCode(caller.id, recipient.id, scopes.scopes, state.clock.now());
  return jsonResponse(201, inflectDeep({ code, 'expires-in': expiresIn }, inflection), {
    'cache-control': 'no-store',
  });
}

const REDEEM_REFUSALS = {
  unknown: { status: 404, title: 'Record not found', details: 'Authorization code not found' },
  used: { status: 409, title: 'Conflict', details: 'The authorization code has already been used' },
  expired: { status: 422, title: 'Unprocessable entity', details: 'The authorization code has expired' },
} as const;

/**
 * Why an unknown code may be a mangled one, judged from its shape alone (so the answer still
 * reveals nothing about which codes exist): a space is what a `+` becomes when a code travels
 * unencoded in a URL and is decoded; a percent escape is a code encoded twice.
 */
function encodingHint(code: string): string {
  if (code.includes(' ')) {
    return '; it contains a space, so it looks URL-decoded (a + read as a space): send the code exactly as received, form-encoded';
  }
  if (/%[0-9A-Fa-f]{2}/.test(code)) {
    return '; it contains a percent escape, so it looks URL-encoded twice: send the code exactly as received, encoded once';
  }
  return '';
}

/**
 * `POST /api/v1/oauth/token`: checks `grant-type` and `code` (400), then redeems the code
 * (404 unknown or another organisation's, with a hint when the code looks mangled by URL
 * encoding; 409 used, 422 expired) and answers the token.
 */
export function createAccessToken(
  state: OAuthState,
  caller: EmulatedOrganization,
  params: Params,
  inflection: KeyInflection,
): EmulatorResponse {
  const grantType = params.get('grant-type');
  const code = params.get('code');
  const grantPointer = `/${inflectKey('grant-type', inflection)}`;
  if (!grantType) return missing('grant-type', inflection);
  if (grantType !== 'authorization_code') {
    const details = `Unsupported ${inflectKey('grant-type', inflection)} ${JSON.stringify(grantType)}; the emulator supports authorization_code`;
    return invalid(400, 'Invalid parameter', details, grantPointer);
  }
  if (!code) return missing('code', inflection);
  const now = state.clock.now();
  const redeemed = state.grants.redeem(code, caller.id, now);
  if (!redeemed.ok) {
    const refusal = REDEEM_REFUSALS[redeemed.reason];
    const hint = redeemed.reason === 'unknown' ? encodingHint(code) : '';
    return invalid(refusal.status, refusal.title, `${refusal.details}${hint}`, '/code');
  }
  const body = {
    'access-token': redeemed.accessToken,
    'expires-in': Math.floor((redeemed.token.expiresAt - now) / 1000),
    scope: redeemed.token.scopes.join(' '),
    'token-type': 'bearer',
  };
  return jsonResponse(201, inflectDeep(body, inflection), { 'cache-control': 'no-store', pragma: 'no-cache' });
}

/**
 * The handle's `createAuthorization`: a code without HTTP, under the same rules as the HTTP
 * endpoint. Throws an Error (TypeError for a scope of the wrong type) saying what is wrong.
 */
export function createAuthorizationDirect(
  state: OAuthState,
  init: { scope: string | string[]; from?: string; clientId?: string },
  ownerId: string,
  recipientId: string,
): { code: string; expiresIn: number } {
  const fromId = init.from ?? ownerId;
  const from = state.registry.organization(fromId);
  if (!from) throw new Error(`createAuthorization: no organization ${String(fromId)}`);
  const clientId = init.clientId ?? recipientId;
  const to = state.registry.organization(clientId);
  if (!to) throw new Error(`createAuthorization: client-id ${String(clientId)} names no organization`);
  if (to.id === from.id) throw new Error('createAuthorization: an organization cannot authorize itself');
  const raw = Array.isArray(init.scope) ? init.scope.join(' ') : init.scope;
  if (typeof raw !== 'string')
    throw new TypeError('createAuthorization: scope must be a string or an array of strings');
  const scopes = checkScope(raw, from, 'kebab');
  if (!scopes.ok) throw new Error(`createAuthorization: ${scopes.error.details ?? scopes.error.title}`);
  return state.grants.issueCode(from.id, to.id, scopes.scopes, state.clock.now());
}
