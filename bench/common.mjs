// Shared constants and helpers for the benchmark processes.
import { request } from 'undici';
//
// The hand-written servers (passport-oauth2, express-inline, node-http-inline) turn a token response
// into the same plain object passport-withpersona puts on req.user, so every server does the same
// work and answers the same JSON shape.

export const API_KEY = 'persona_sandbox_bench_api_key_0123456789abcdef';
export const TOKEN_PATH = '/api/v1/oauth/token';
export const SCOPE = 'inquiry.read:inq_uX7kRTiBxsJ1sZqPLAsjdP9j verification.read:ver_ynYuWdrjwwjiHJ2rgHfSoHeT';
export const EXPIRES_IN = 3599;

/** The callback servers, in the order they are loaded in every round (the default run is 1–4). */
export const SERVERS = [
  { id: 1, name: 'passport-withpersona', label: 'Express 5 + passport + passport-withpersona' },
  { id: 2, name: 'passport-oauth2', label: 'Express 5 + passport + passport-oauth2 (snake_case)' },
  { id: 3, name: 'express-inline', label: 'Express 5 + inline undici exchange (no Passport)' },
  { id: 4, name: 'node-http-inline', label: 'node:http + inline undici exchange (bare limit)' },
  {
    id: 5,
    name: 'passport-minimal',
    label: "Express 5 + passport + a minimal strategy with (3)'s inline exchange (Passport's floor)",
  },
];

/** `permission:object` pairs → [{ permission, resource, action, objectId }], the library's shape. */
export function parseScopes(scope) {
  const scopes = [];
  if (!scope) return scopes;
  for (const entry of scope.split(/\s+/)) {
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const permission = entry.slice(0, colon);
    const dot = permission.indexOf('.');
    if (colon <= 0 || dot <= 0) throw new Error(`malformed scope entry`);
    scopes.push({
      permission,
      resource: permission.slice(0, dot),
      action: permission.slice(dot + 1),
      objectId: entry.slice(colon + 1),
    });
  }
  return scopes;
}

/** The req.user object built by the hand-written servers (same fields as PersonaTokenSet). */
export function buildUser(accessToken, tokenType, expiresIn, scope, requestId) {
  if (typeof accessToken !== 'string' || accessToken === '') throw new Error('no access token');
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
    throw new Error('unexpected token type');
  }
  if (!Number.isInteger(expiresIn) || expiresIn < 0) throw new Error('bad expires-in');
  return {
    accessToken,
    tokenType: 'bearer',
    expiresIn,
    expiresAt: Date.now() + expiresIn * 1000,
    scope: scope ?? '',
    scopes: parseScopes(scope),
    requestId,
  };
}

/** Reads the `code` query parameter from a raw request URL (node:http server). */
export function codeFromUrl(url) {
  const q = url.indexOf('?');
  if (q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get('code');
}

/**
 * The exchange written inline with undici, shared by servers (3), (4) and (5) so they do exactly
 * the same work: `{ user }` on a 2xx, `{ status }` (the body drained) otherwise.
 */
export async function exchangeInline(agent, tokenURL, code) {
  const answer = await request(tokenURL, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      authorization: `Bearer ${API_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: `code=${encodeURIComponent(code)}&grant-type=authorization_code`,
  });
  if (answer.statusCode < 200 || answer.statusCode > 299) {
    await answer.body.dump();
    return { status: answer.statusCode };
  }
  const t = await answer.body.json();
  return {
    user: buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, answer.headers['request-id']),
  };
}
