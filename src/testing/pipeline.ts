import type { IncomingMessage } from 'node:http';
import { forcedResponse, quotaExceededResponse, withNullFields, type FaultBoard } from './faults.js';
import {
  errorResponse,
  header,
  internalError,
  parseKeyInflection,
  parseParams,
  type EmulatorResponse,
  type KeyInflection,
  type ParsedParams,
} from './http.js';
import type { IdempotencyStore, RateLimiter } from './limits.js';
import { OBJECT_TYPES, retrieveObject, type ObjectRegistry, type ObjectType } from './objects.js';
import { createAccessToken, createAuthorization, type GrantStore, type TokenRecord } from './oauth.js';
import type { EmulatorSettings } from './settings.js';
import type { EmulatedOrganization, EmulatorClock, EmulatorEndpoint, EmulatorFault } from './types.js';

/** Everything the emulator holds: what decides an answer, and the faults armed. */
export interface EmulatorState {
  settings: EmulatorSettings;
  environmentId: string;
  clock: EmulatorClock;
  registry: ObjectRegistry;
  grants: GrantStore;
  rateLimiter: RateLimiter;
  idempotency: IdempotencyStore;
  faults: FaultBoard;
}

// ── Routing ─────────────────────────────────────────────────────────────────

/** A request target: its path and query, and the emulated endpoint it names (`other` for none). */
export interface Route {
  endpoint: EmulatorEndpoint | 'other';
  /** The one method the endpoint takes. */
  method?: string;
  /** The path, percent-encoded as sent (the raw target when it is no URL path at all). */
  pathname: string;
  query: URLSearchParams;
  /** The object type and percent-decoded id of a retrieval path (`/api/v1/inquiries/:id`). */
  objectType?: ObjectType;
  objectId?: string;
}

const RETRIEVAL = /^\/api\/v1\/([a-z-]+)\/([^/]+)$/;

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape is simply an id that matches nothing.
    return raw;
  }
}

/** Reads a request target (path and query string) and the endpoint it names. */
export function matchRoute(target: string): Route {
  let url: URL;
  try {
    url = new URL(target, 'http://emulator.invalid');
  } catch {
    return { endpoint: 'other', pathname: target, query: new URLSearchParams() };
  }
  const { pathname, searchParams: query } = url;
  if (pathname === '/api/v1/oauth/authorize') return { endpoint: 'authorize', method: 'POST', pathname, query };
  if (pathname === '/api/v1/oauth/token') return { endpoint: 'token', method: 'POST', pathname, query };
  const retrieval = RETRIEVAL.exec(pathname);
  const objectType = OBJECT_TYPES.find((type) => type.path === retrieval?.[1]);
  if (objectType && retrieval?.[2] !== undefined) {
    const objectId = decodeId(retrieval[2]);
    return { endpoint: objectType.resource, method: 'GET', pathname, query, objectType, objectId };
  }
  return { endpoint: 'other', pathname, query };
}

// ── Credentials ─────────────────────────────────────────────────────────────

/** Who a request acts as: an organisation through its API key, or through an access token it holds. */
export type Principal =
  | { kind: 'api-key'; credential: string; org: EmulatedOrganization }
  | { kind: 'access-token'; credential: string; org: EmulatedOrganization; token: TokenRecord };

const unauthenticated = (details: string): EmulatorResponse =>
  errorResponse(401, 'Must be authenticated to access this endpoint', details, {
    headers: { 'www-authenticate': 'Bearer' },
  });

/**
 * Reads `Authorization: Bearer <credential>`: an organisation's API key, or a live access token
 * (acting for the organisation it was issued to). Anything else is a 401 refusal.
 */
function authenticate(req: IncomingMessage, state: EmulatorState): Principal | EmulatorResponse {
  const credential = /^\s*bearer\s+(\S+)\s*$/i.exec(header(req, 'authorization') ?? '')?.[1];
  if (credential === undefined) return unauthenticated('Send Authorization: Bearer <API key or access token>');
  const org = state.registry.byApiKey(credential);
  if (org) return { kind: 'api-key', credential, org };
  const token = state.grants.token(credential);
  if (token) {
    const holder = state.registry.organization(token.orgId);
    if (state.clock.now() >= token.expiresAt) return unauthenticated('The access token has expired');
    if (holder) return { kind: 'access-token', credential, org: holder, token };
  }
  return unauthenticated('The API key or access token is not valid');
}

// ── The layers, in order ────────────────────────────────────────────────────

/** One request, read in full, with the fault it met on arrival. */
export interface RequestContext {
  req: IncomingMessage;
  route: Route;
  body: string;
  tooLarge: boolean;
  fault: EmulatorFault | undefined;
}

/**
 * Decides the answer to a request, in the order Persona's layers would: routing and body size,
 * credentials, rate limits (and a `quota-exceeded` fault), the version and inflection headers,
 * the idempotency lookup, then the endpoint (or a `status` fault in its place), whose answer is
 * stored under the Idempotency-Key.
 */
export function decideResponse(state: EmulatorState, ctx: RequestContext): EmulatorResponse {
  const { req, route, fault } = ctx;
  const refused = routingRefusal(ctx, state.settings.maxBodyBytes);
  if (refused) return refused;
  const principal = authenticate(req, state);
  if ('status' in principal) return principal;

  const rate = state.rateLimiter.count(state.clock.now(), principal);
  // From here on every answer names its organisation and environment and reports the rate limit.
  const decorate = (response: EmulatorResponse): EmulatorResponse => {
    const ids = { 'persona-organization-id': principal.org.id, 'persona-environment-id': state.environmentId };
    return { ...response, headers: { ...ids, ...rate.headers, ...response.headers } };
  };
  if (rate.refusal) return decorate(rate.refusal);
  if (fault?.kind === 'quota-exceeded') return decorate(quotaExceededResponse());

  const { versions } = state.settings;
  const version = header(req, 'persona-version');
  if (version !== undefined && !versions.has(version.trim())) {
    const details = `Unknown API version ${JSON.stringify(version)}; known: ${[...versions].join(', ')}`;
    return decorate(errorResponse(400, 'Invalid Persona-Version', details));
  }
  const requestedInflection = parseKeyInflection(header(req, 'key-inflection'));
  if (requestedInflection === null) {
    return decorate(errorResponse(400, 'Invalid Key-Inflection', 'Key-Inflection must be kebab, snake or camel'));
  }
  // Without the header, an API key answers in the inflection its dashboard setting gives it.
  const keyDefault = principal.kind === 'api-key' ? parseKeyInflection(principal.org.apiKeyInflection) : undefined;
  const inflection: KeyInflection = requestedInflection ?? keyDefault ?? 'kebab';

  const method = req.method ?? 'GET';
  const parsed = method === 'POST' ? parseParams(ctx.body, header(req, 'content-type')) : undefined;
  const run = (): EmulatorResponse => {
    if (fault?.kind === 'status') return forcedResponse(fault);
    try {
      const response = runEndpoint(state, route, principal, parsed, inflection);
      const oauth = route.endpoint === 'token' || route.endpoint === 'authorize' ? route.endpoint : undefined;
      return fault?.kind === 'null-fields' && oauth ? withNullFields(response, fault, oauth, inflection) : response;
    } catch (error) {
      // An exception is a 500 in Persona's form, stored like any answer.
      return internalError(error);
    }
  };
  const idempotencyKey = method === 'POST' ? header(req, 'idempotency-key') : undefined;
  if (idempotencyKey === undefined) return decorate(run());
  // The same request for an Idempotency-Key: the same method, endpoint and parameters (names in
  // kebab-case, sorted, so JSON and form bodies in any inflection compare equal), or the same raw body.
  const params = parsed?.ok ? JSON.stringify([...parsed.params].sort()) : `raw:${ctx.body}`;
  const fingerprint = `${method} ${route.endpoint} ${params}`;
  return decorate(state.idempotency.run(principal.credential, idempotencyKey, fingerprint, run));
}

/** 404 for an unknown path, 405 for a wrong method, 413 for a body over the cap. */
function routingRefusal({ req, route, tooLarge }: RequestContext, maxBodyBytes: number): EmulatorResponse | undefined {
  const method = req.method ?? 'GET';
  if (route.method === undefined) {
    return errorResponse(404, 'Not Found', `No route matches ${method} ${route.pathname}`);
  }
  if (method !== route.method) {
    const details = `${method} is not supported here; use ${route.method}`;
    return errorResponse(405, 'Method Not Allowed', details, { headers: { allow: route.method } });
  }
  if (tooLarge) return errorResponse(413, 'Payload Too Large', `The request body is larger than ${maxBodyBytes} bytes`);
  return undefined;
}

function runEndpoint(
  state: EmulatorState,
  route: Route,
  principal: Principal,
  parsed: ParsedParams | undefined,
  inflection: KeyInflection,
): EmulatorResponse {
  if (route.objectType) {
    return retrieveObject(state.registry, route.objectType, route.objectId ?? '', principal, route.query, inflection);
  }
  if (principal.kind !== 'api-key') {
    const details = 'An OAuth access token cannot create authorizations or access tokens; use an API key';
    return errorResponse(403, 'Forbidden', details);
  }
  if (!parsed?.ok) {
    return errorResponse(400, 'Bad Request', parsed?.details ?? 'The request body could not be read');
  }
  return route.endpoint === 'authorize'
    ? createAuthorization(state, principal.org, parsed.params, inflection)
    : createAccessToken(state, principal.org, parsed.params, inflection);
}
