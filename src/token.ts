import { PersonaOAuthError } from './errors.js';
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
  /** Lifetime in seconds, as Persona sent it. */
  expiresIn: number;
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
  /** Persona's `Request-Id`, copied onto the token set and onto any error. */
  requestId?: string;
  /** HTTP status of the response, copied onto any error. */
  personaStatus?: number;
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

function pick(body: Record<string, unknown>, names: readonly string[]): unknown {
  for (const name of names) {
    if (Object.hasOwn(body, name) && body[name] !== undefined) return body[name];
  }
  return undefined;
}

/**
 * Validates a Persona Create Access Token response body (already JSON-parsed) in any key
 * inflection and returns a {@link PersonaTokenSet}.
 *
 * The access token must be a non-empty string of visible ASCII, the token type `bearer` (any
 * case), `expires-in` a non-negative safe integer, and `scope` a well-formed scope string (null or
 * absent means no scopes).
 *
 * @throws {PersonaOAuthError} code `invalid_response` (status 502) for anything else.
 */
export function parseTokenResponse(body: unknown, context: ParseTokenContext = {}): PersonaTokenSet {
  const { requestId, personaStatus } = context;
  const invalid = (why: string, cause?: unknown): PersonaOAuthError =>
    new PersonaOAuthError('invalid_response', `Persona's token response is invalid: ${why}`, {
      status: 502,
      personaStatus,
      requestId,
      cause,
    });

  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('expected a JSON object');
  }
  const record = body as Record<string, unknown>;

  const accessToken = pick(record, FIELDS.accessToken);
  if (typeof accessToken !== 'string' || accessToken.length === 0) {
    throw invalid('access token missing or not a non-empty string');
  }
  if (accessToken.length > MAX_TOKEN_LENGTH || !TOKEN_CHARS.test(accessToken)) {
    throw invalid('access token contains characters not allowed in a bearer token');
  }

  const tokenType = pick(record, FIELDS.tokenType);
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw invalid('token type missing or not "bearer"');
  }

  const expiresIn = pick(record, FIELDS.expiresIn);
  if (
    typeof expiresIn !== 'number' ||
    !Number.isSafeInteger(expiresIn) ||
    expiresIn < 0 ||
    expiresIn > MAX_EXPIRES_IN
  ) {
    throw invalid('expires-in missing or not an integer from 0 to 2147483647');
  }

  const rawScope = pick(record, FIELDS.scope);
  if (rawScope !== undefined && rawScope !== null && typeof rawScope !== 'string') {
    throw invalid('scope is not a string');
  }
  let scopes: PersonaScope[];
  try {
    scopes = parseScopes(rawScope);
  } catch (error) {
    throw invalid('scope is malformed', error);
  }

  const tokens: PersonaTokenSet = {
    accessToken,
    tokenType: 'bearer',
    expiresIn: expiresIn + 0, // normalises -0
    expiresAt: (context.now ?? Date.now()) + expiresIn * 1000,
    scope: typeof rawScope === 'string' ? rawScope : '',
    scopes,
  };
  if (requestId !== undefined) tokens.requestId = requestId;
  return tokens;
}
