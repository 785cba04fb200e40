// Shared constants and helpers for the benchmark processes.
//
// The hand-written servers (every one but passport-withpersona's) turn a token response into the
// same plain object passport-withpersona puts on req.user, so every server does the same work and
// answers the same JSON shape.
import { request } from 'undici';

export const API_KEY = 'persona_sandbox_bench_api_key_0123456789abcdef';
export const TOKEN_PATH = '/api/v1/oauth/token';
export const SCOPE = 'inquiry.read:inq_uX7kRTiBxsJ1sZqPLAsjdP9j verification.read:ver_ynYuWdrjwwjiHJ2rgHfSoHeT';
export const EXPIRES_IN = 3599;

/**
 * Every callback server the scenarios can load, by name: `module` is the file in bench/servers/,
 * `options` what bench/serve.mjs hands to its create() (the pool-setting variants of the library).
 */
export const SERVERS = Object.fromEntries(
  [
    { name: 'passport-withpersona', label: 'Express 5 + passport + passport-withpersona' },
    { name: 'passport-oauth2', label: 'Express 5 + passport + passport-oauth2 (asks for snake_case)' },
    {
      name: 'passport-dispatch',
      label: 'Express 5 + passport + a minimal strategy on undici dispatch() (the floor)',
    },
    { name: 'passport-minimal', label: 'Express 5 + passport + a minimal strategy on undici request()' },
    { name: 'express-inline', label: 'Express 5 + inline undici exchange (no Passport)' },
    { name: 'node-http-inline', label: 'node:http + inline undici exchange (no framework)' },
    { name: 'readme-withpersona', label: 'express-session + passport + passport-withpersona, state: true' },
    { name: 'readme-oauth2', label: 'express-session + passport + passport-oauth2, state: true' },
    { name: 'readme-dispatch', label: 'express-session + passport + the dispatch() floor, state in the session' },
    { name: 'readme-https', label: 'express-session + passport + the same floor on node:https (keep-alive agent)' },
    ...[
      ['pipelining-2', { pipelining: 2 }],
      ['pipelining-10', { pipelining: 10 }],
      ['connections-50', { connections: 50 }],
    ].map(([suffix, agent]) => ({
      name: `passport-withpersona-${suffix}`,
      module: 'passport-withpersona',
      options: { agent },
      label: `passport-withpersona, dispatcher: undici Agent ${JSON.stringify(agent).replaceAll('"', '')}`,
    })),
  ].map((server) => [server.name, { module: server.name, options: {}, ...server }]),
);

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

/**
 * passport-oauth2's options for Persona's token endpoint. It sends `grant_type=authorization_code&
 * code=…` (plus client_id and client_secret) and reads only `access_token` from the answer, so it
 * must ask for snake_case keys with `Key-Inflection: snake`: Persona's default kebab-case answer
 * makes it fail with "Failed to obtain access token".
 */
export function oauth2Options(tokenBase, extra) {
  return {
    tokenURL: `${tokenBase}${TOKEN_PATH}`,
    clientID: 'org_bench_recipient',
    clientSecret: '',
    customHeaders: { Authorization: `Bearer ${API_KEY}`, 'Key-Inflection': 'snake' },
    skipUserProfile: true,
    ...extra,
  };
}

/** passport-oauth2's verify callback: the same req.user as the other servers, without requestId. */
export function oauth2Verify(accessToken, _refreshToken, params, _profile, done) {
  let user;
  try {
    user = buildUser(accessToken, params.token_type, params.expires_in, params.scope, undefined);
  } catch (err) {
    return done(err);
  }
  done(null, user);
}

/** Reads the `code` query parameter from a raw request URL (node:http server). */
export function codeFromUrl(url) {
  const q = url.indexOf('?');
  if (q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get('code');
}

/**
 * The exchange written inline with undici, shared by express-inline, node-http-inline and
 * passport-minimal so they do exactly the same work (and by the runner to warm a token stub up):
 * `{ user }` on a 2xx, `{ status }` (the body drained) otherwise.
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
