import { parseScopes, type PersonaScope } from './scopes.js';

/**
 * What a successful code exchange yields, and what `req.user` is when no `verify` is given.
 *
 * A plain, JSON-serialisable object. `expiresAt` is epoch milliseconds (the exchange's clock plus
 * `expiresIn`); there is no refresh token in Persona's flow: after `expiresAt` a new
 * authorization code is needed.
 */
export interface PersonaTokenSet {
  /** The scoped-down API key: send it as `Authorization: Bearer <accessToken>`. */
  accessToken: string;
  tokenType: 'bearer';
  /**
   * Lifetime in seconds, as Persona sent it; 3600 (Persona's documented one hour) when it sent
   * none, null or 0, and then `expiresInAssumed` is true.
   */
  expiresIn: number;
  /**
   * Present (and true) only when Persona's response gave no lifetime (`expires-in` null, absent
   * or 0, which its schema allows): `expiresIn` and `expiresAt` then assume the documented one
   * hour rather than report Persona's word.
   */
  expiresInAssumed?: true;
  /** Epoch milliseconds after which the token is no longer valid. */
  expiresAt: number;
  /** The raw scope string, `''` when Persona sent none. */
  scope: string;
  /** The parsed scopes. */
  scopes: PersonaScope[];
  /** Persona's `Request-Id` for the exchange, when it sent one. */
  requestId?: string;
}

/** Context for {@link parseTokenResponse}. */
export interface ParseTokenContext {
  /** Epoch milliseconds the expiry is counted from (default: `Date.now()`). */
  now?: number;
}

/**
 * Why a token response body is not a usable token set. Thrown by {@link parseTokenResponse};
 * the exchange wraps it in a `PersonaOAuthError` (`invalid_response`) with Persona's status and
 * Request-Id. The message says which field is wrong, never what it held.
 */
export class TokenResponseError extends Error {
  override readonly name = 'TokenResponseError';
}

// Persona answers in kebab-case by default, or snake/camel depending on `Key-Inflection` and the
// API key's dashboard settings; all three spellings are read.
const FIELDS = {
  accessToken: ['access-token', 'access_token', 'accessToken'],
  tokenType: ['token-type', 'token_type', 'tokenType'],
  expiresIn: ['expires-in', 'expires_in', 'expiresIn'],
  scope: ['scope'],
} as const;

// An access token goes into an Authorization header: visible ASCII only, so a hostile response
// cannot smuggle header-splitting characters into later requests.
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
const MAX_TOKEN_LENGTH = 4096;
// Persona's tokens live an hour; a lifetime beyond int32 seconds (68 years) is not a real answer
// and would push expiresAt past what a Date can hold.
const MAX_EXPIRES_IN = 2_147_483_647;
// The lifetime Persona documents for an access token ("valid for one hour"), assumed when its
// response carries none: the 2023-01-05 schema makes every field nullable and expires-in "defaults to 0".
const DOCUMENTED_LIFETIME_SECONDS = 3600;

function pick(body: Record<string, unknown>, names: readonly string[]): unknown {
  for (const name of names) {
    if (Object.hasOwn(body, name) && body[name] !== undefined) return body[name];
  }
  return undefined;
}

/** The access token a parsed body carries, in any inflection, whether or not it is valid. */
export function sentAccessToken(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const token = pick(body as Record<string, unknown>, FIELDS.accessToken);
  return typeof token === 'string' ? token : undefined;
}

type Invalid = (why: string, cause?: unknown) => TokenResponseError;

function readAccessToken(record: Record<string, unknown>, invalid: Invalid): string {
  const accessToken = sentAccessToken(record);
  if (accessToken === undefined || accessToken.length === 0) {
    throw invalid('access token missing or not a non-empty string');
  }
  if (accessToken.length > MAX_TOKEN_LENGTH || !TOKEN_CHARS.test(accessToken)) {
    throw invalid('access token contains characters not allowed in a bearer token');
  }
  return accessToken;
}

// Null and absent read the same for every field but the access token: Persona's schema marks
// each one nullable.

function checkTokenType(record: Record<string, unknown>, invalid: Invalid): void {
  const tokenType = pick(record, FIELDS.tokenType) ?? 'bearer';
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw invalid('token type not "bearer"');
  }
}

function readLifetime(record: Record<string, unknown>, invalid: Invalid): { expiresIn: number; assumed: boolean } {
  const sent = pick(record, FIELDS.expiresIn) ?? 0;
  if (typeof sent !== 'number' || !Number.isSafeInteger(sent) || sent < 0 || sent > MAX_EXPIRES_IN) {
    throw invalid('expires-in not an integer from 0 to 2147483647');
  }
  return sent === 0 ? { expiresIn: DOCUMENTED_LIFETIME_SECONDS, assumed: true } : { expiresIn: sent, assumed: false };
}

function readScopes(record: Record<string, unknown>, invalid: Invalid): { scope: string; scopes: PersonaScope[] } {
  const raw = pick(record, FIELDS.scope) ?? '';
  if (typeof raw !== 'string') throw invalid('scope is not a string');
  try {
    return { scope: raw, scopes: parseScopes(raw) };
  } catch (error) {
    throw invalid('scope is malformed', error);
  }
}

/**
 * Validates a Persona Create Access Token response body (already JSON-parsed) in any key
 * inflection and returns a {@link PersonaTokenSet}.
 *
 * The access token must be a non-empty string of visible ASCII. Every other field may be null or
 * absent, as Persona's schema allows: the token type is then `bearer` (the only type Persona
 * issues; when sent it must be `bearer`, any case), `expires-in` (when sent, an integer from 0 to
 * 2147483647) the documented one hour with `expiresInAssumed` set (0 counts as none), and
 * `scope` (when sent, a well-formed scope string) no scopes. `expiresAt` counts from `context.now`.
 *
 * @throws {TokenResponseError} for anything else.
 */
export function parseTokenResponse(body: unknown, context: ParseTokenContext = {}): PersonaTokenSet {
  const invalid: Invalid = (why, cause) => new TokenResponseError(why, cause === undefined ? undefined : { cause });

  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('expected a JSON object');
  }
  const record = body as Record<string, unknown>;
  const accessToken = readAccessToken(record, invalid);
  checkTokenType(record, invalid);
  const { expiresIn, assumed } = readLifetime(record, invalid);
  const tokens: PersonaTokenSet = {
    accessToken,
    tokenType: 'bearer',
    expiresIn,
    expiresAt: (context.now ?? Date.now()) + expiresIn * 1000,
    ...readScopes(record, invalid),
  };
  if (assumed) tokens.expiresInAssumed = true;
  return tokens;
}
