import { randomBytes } from 'node:crypto';
import {
  errorResponse,
  inflectDeep,
  inflectKey,
  jsonResponse,
  type EmulatorResponse,
  type KeyInflection,
  type Params,
} from './http.js';
import { objectTypeOf } from './objects.js';
import type { EmulatorState } from './pipeline.js';
import { secureRandom, uuid } from './settings.js';
import type { EmulatedOrganization } from './types.js';

// ── Codes and tokens ────────────────────────────────────────────────────────

/** An authorization code as issued by Create Authorization. */
interface CodeRecord {
  fromOrgId: string;
  toOrgId: string;
  scopes: string[];
  expiresAt: number;
  usedAt: number | undefined;
}

/** An access token as issued by Create Access Token. */
export interface TokenRecord {
  orgId: string;
  ownerOrgId: string;
  scopes: string[];
  expiresAt: number;
}

/** What redeeming a code gives: a new token, or why not. */
type Redemption =
  | { ok: true; accessToken: string; token: TokenRecord }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' };

/** The codes and access tokens the emulator has issued. */
export class GrantStore {
  private readonly codes = new Map<string, CodeRecord>();
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(
    private readonly codeTtlMs: number,
    private readonly tokenTtlMs: number,
  ) {}

  /** A new code from one organisation to another, living `codeTtlMs` from `now`. */
  issueCode(fromOrgId: string, toOrgId: string, scopes: string[], now: number): { code: string; expiresIn: number } {
    // base64url (43 characters of `A–Z a–z 0–9 - _`, no padding): it survives a URL, a query or a form unencoded.
    const code = randomBytes(32).toString('base64url');
    this.codes.set(code, { fromOrgId, toOrgId, scopes, expiresAt: now + this.codeTtlMs, usedAt: undefined });
    return { code, expiresIn: this.codeTtlMs / 1000 };
  }

  /**
   * Exchanges a code for a token on behalf of `callerOrgId`. A code issued to another
   * organisation is `unknown`, so its existence is not revealed; a used code stays `used` even
   * once it has expired.
   */
  redeem(code: string, callerOrgId: string, now: number): Redemption {
    const record = this.codes.get(code);
    if (!record || record.toOrgId !== callerOrgId) return { ok: false, reason: 'unknown' };
    if (record.usedAt !== undefined) return { ok: false, reason: 'used' };
    if (now >= record.expiresAt) return { ok: false, reason: 'expired' };
    record.usedAt = now;
    const accessToken = `persona_access_token_${uuid(secureRandom)}`;
    const token: TokenRecord = {
      orgId: callerOrgId,
      ownerOrgId: record.fromOrgId,
      scopes: record.scopes,
      expiresAt: now + this.tokenTtlMs,
    };
    this.tokens.set(accessToken, token);
    return { ok: true, accessToken, token };
  }

  /** The token record of an access token, expired or not. */
  token(accessToken: string): TokenRecord | undefined {
    return this.tokens.get(accessToken);
  }

  /**
   * Forgets codes and tokens expired for at least `graceMs`: a client retrying so late gets the
   * same 404/401 it would get for an unknown one.
   */
  sweep(now: number, graceMs: number): void {
    for (const records of [this.codes, this.tokens]) {
      for (const [key, record] of records) if (now - record.expiresAt >= graceMs) records.delete(key);
    }
  }
}

// ── Scopes ──────────────────────────────────────────────────────────────────

const MAX_SCOPE_ENTRIES = 100;
const SCOPE_ENTRY = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*):([a-z]+_[A-Za-z0-9]+)$/;

/** A scope string that passed every check (its entries, deduplicated), or the status and reason it failed. */
type ScopeCheck = { ok: true; scopes: string[] } | { ok: false; status: 400 | 404 | 422; details: string };

/**
 * Checks a scope string: well-formed `permission:object` pairs (400), each object (of any
 * type the emulator holds) existing and owned by `from` (404, the same answer whether it belongs
 * to someone else or to nobody), and the permission's resource matching the object's type (422).
 */
function checkScope(raw: string, from: EmulatedOrganization): ScopeCheck {
  const refuse = (status: 400 | 404 | 422, details: string): ScopeCheck => ({ ok: false, status, details });
  const scopes = [...new Set(raw.split(/\s+/).filter((entry) => entry !== ''))];
  if (scopes.length === 0) return refuse(400, 'scope must list at least one permission:object pair');
  if (scopes.length > MAX_SCOPE_ENTRIES) return refuse(400, `scope may list at most ${MAX_SCOPE_ENTRIES} pairs`);
  const entries: { resource: string; action: string; object: string }[] = [];
  for (const entry of scopes) {
    const [, resource = '', action = '', object = ''] = SCOPE_ENTRY.exec(entry) ?? [];
    if (!object) return refuse(400, `scope entry ${JSON.stringify(entry)} is not a resource.action:object_id pair`);
    entries.push({ resource, action, object });
  }
  for (const { object } of entries) {
    if (!objectTypeOf(object)?.find(from, object)) return refuse(404, `${object} was not found`);
  }
  for (const { resource, action, object } of entries) {
    if (resource !== objectTypeOf(object)?.resource) {
      return refuse(422, `permission ${resource}.${action} does not apply to ${object}`);
    }
  }
  return { ok: true, scopes };
}

// ── The two endpoints ───────────────────────────────────────────────────────

/** What the OAuth endpoints read and change. */
type OAuthState = Pick<EmulatorState, 'registry' | 'grants' | 'clock'>;

/** An error about one parameter, pointing at it as the request spells it; `details` gets that spelling. */
function paramError(
  status: number,
  title: string,
  name: string,
  inflection: KeyInflection,
  details: (spelled: string) => string,
): EmulatorResponse {
  const spelled = inflectKey(name, inflection);
  return errorResponse(status, title, details(spelled), { pointer: `/${spelled}` });
}

const missing = (name: string, inflection: KeyInflection): EmulatorResponse =>
  paramError(400, 'Missing required parameter', name, inflection, (spelled) => `${spelled} is required`);

/**
 * `POST /api/v1/oauth/authorize`: checks the parameters (400; `response-type` defaults to `code`),
 * the scope's grammar (400), the recipient (404, or 422 for the caller itself), then the scope's
 * objects (404/422), and issues a code.
 */
export function createAuthorization(
  state: OAuthState,
  caller: EmulatedOrganization,
  params: Params,
  inflection: KeyInflection,
): EmulatorResponse {
  const clientId = params.get('client-id');
  // Create Authorization documents `response-type` as defaulting to `code`: absent is code.
  const responseType = params.get('response-type') ?? 'code';
  const scope = params.get('scope');
  if (!clientId) return missing('client-id', inflection);
  if (responseType !== 'code') {
    return paramError(400, 'Invalid parameter', 'response-type', inflection, (name) => `${name} must be code`);
  }
  if (scope === undefined || scope.trim() === '') return missing('scope', inflection);

  const scopes = checkScope(scope, caller);
  const scopeRefusal = (refusal: { status: number; details: string }) => {
    const title = refusal.status === 404 ? 'Record not found' : 'Invalid parameter';
    return paramError(refusal.status, title, 'scope', inflection, () => refusal.details);
  };
  if (!scopes.ok && scopes.status === 400) return scopeRefusal(scopes);
  const recipient = state.registry.organization(clientId);
  if (!recipient) {
    return paramError(404, 'Record not found', 'client-id', inflection, () => `Organization ${clientId} was not found`);
  }
  if (recipient.id === caller.id) {
    const details = (name: string) => `${name} must name another organization than the caller`;
    return paramError(422, 'Invalid parameter', 'client-id', inflection, details);
  }
  if (!scopes.ok) return scopeRefusal(scopes);

  const { code, expiresIn } = state.grants.issueCode(caller.id, recipient.id, scopes.scopes, state.clock.now());
  return jsonResponse(201, inflectDeep({ code, 'expires-in': expiresIn }, inflection), { 'cache-control': 'no-store' });
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
  if (!grantType) return missing('grant-type', inflection);
  if (grantType !== 'authorization_code') {
    const details = (name: string) =>
      `Unsupported ${name} ${JSON.stringify(grantType)}; the emulator supports authorization_code`;
    return paramError(400, 'Invalid parameter', 'grant-type', inflection, details);
  }
  if (!code) return missing('code', inflection);
  const now = state.clock.now();
  const redeemed = state.grants.redeem(code, caller.id, now);
  if (!redeemed.ok) {
    const refusal = REDEEM_REFUSALS[redeemed.reason];
    const hint = redeemed.reason === 'unknown' ? encodingHint(code) : '';
    return errorResponse(refusal.status, refusal.title, `${refusal.details}${hint}`, { pointer: '/code' });
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
  const scopes = checkScope(raw, from);
  if (!scopes.ok) throw new Error(`createAuthorization: ${scopes.details}`);
  return state.grants.issueCode(from.id, to.id, scopes.scopes, state.clock.now());
}
