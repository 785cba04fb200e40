import type { IncomingMessage } from 'node:http';
import { forcedResponse, quotaExceededResponse, withNullFields } from './faults.js';
import {
  errorResponse,
  headerValue,
  parseKeyInflection,
  parseParams,
  type EmulatorResponse,
  type KeyInflection,
  type ParsedParams,
} from './http.js';
import { countRequest, idempotent, IdempotencyStore, RateLimiter, requestFingerprint } from './limits.js';
import { OBJECT_TYPES, retrieveObject, type ObjectRegistry, type ObjectType } from './objects.js';
import { createAccessToken, createAuthorization, GrantStore, type OAuthState, type TokenRecord } from './oauth.js';
import type { EmulatorSettings } from './settings.js';
import type { EmulatedOrganization, EmulatorClock, EmulatorEndpoint, EmulatorFault } from './types.js';

// ── Routing ─────────────────────────────────────────────────────────────────

/** What a request path names: an emulated endpoint and the methods it takes, or nothing (`other`). */
export interface Route {
  endpoint: EmulatorEndpoint | 'other';
  methods: readonly string[];
  /** The object type of a retrieval path (`/api/v1/inquiries/:id`). */
  objectType?: ObjectType;
  /** The object id of a retrieval path, percent-decoded. */
  objectId?: string;
}

/** A path that names no endpoint. */
export const NO_ROUTE: Route = Object.freeze({ endpoint: 'other', methods: Object.freeze([]) });

const RETRIEVAL = /^\/api\/v1\/([a-z-]+)\/([^/]+)$/;

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape is simply an id that matches nothing.
    return raw;
  }
}

/** Matches a path (no query string) to the endpoint it names. */
export function matchRoute(pathname: string): Route {
  if (pathname === '/api/v1/oauth/authorize') return { endpoint: 'authorize', methods: ['POST'] };
  if (pathname === '/api/v1/oauth/token') return { endpoint: 'token', methods: ['POST'] };
  const retrieval = RETRIEVAL.exec(pathname);
  const objectType = OBJECT_TYPES.find((type) => type.path === retrieval?.[1]);
  if (objectType && retrieval?.[2] !== undefined) {
    return { endpoint: objectType.endpoint, methods: ['GET'], objectType, objectId: decodeId(retrieval[2]) };
  }
  return NO_ROUTE;
}

/** The path of a request target, or undefined when the target is not a URL path at all. */
export function pathnameOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://emulator.invalid').pathname;
  } catch {
    return undefined;
  }
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
export function authenticate(
  header: string | undefined,
  registry: ObjectRegistry,
  grants: GrantStore,
  now: number,
): Principal | EmulatorResponse {
  const match = header === undefined ? null : /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  const credential = match?.[1];
  if (credential === undefined) return unauthenticated('Send Authorization: Bearer <API key or access token>');
  const org = registry.byApiKey(credential);
  if (org) return { kind: 'api-key', credential, org };
  const token = grants.token(credential);
  if (token) {
    const holder = registry.organization(token.orgId);
    if (now >= token.expiresAt) return unauthenticated('The access token has expired');
    if (holder) return { kind: 'access-token', credential, org: holder, token };
  }
  return unauthenticated('The API key or access token is not valid');
}

// ── The layers, in order ────────────────────────────────────────────────────

/** Everything that decides an answer. */
export interface PipelineState extends OAuthState {
  rateLimiter: RateLimiter;
  idempotency: IdempotencyStore;
  settings: EmulatorSettings;
  environmentId: string;
}

/** A fresh pipeline state over `registry` and `clock`: empty grants, rate limits and idempotency records sized by `settings`. */
export function createPipelineState(
  registry: ObjectRegistry,
  clock: EmulatorClock,
  settings: EmulatorSettings,
  environmentId: string,
): PipelineState {
  return {
    registry,
    grants: new GrantStore(settings.codeTtlMs, settings.tokenTtlMs),
    clock,
    rateLimiter: new RateLimiter(settings.rateLimit),
    idempotency: new IdempotencyStore(settings.idempotencyTtlMs),
    settings,
    environmentId,
  };
}

/** One request, read in full, with the fault it met on arrival. */
export interface RequestContext {
  req: IncomingMessage;
  route: Route;
  body: string;
  tooLarge: boolean;
  fault: EmulatorFault | undefined;
}

export type Decorate = (response: EmulatorResponse, extra?: Record<string, string>) => EmulatorResponse;

/**
 * Decides the answer to a request, in the order Persona's layers would: routing and body size,
 * credentials, rate limits (and a `quota-exceeded` fault), the version and inflection headers,
 * the idempotency lookup, then the endpoint (or a `status` fault in its place), whose answer is
 * stored under the Idempotency-Key.
 */
export function decideResponse(state: PipelineState, ctx: RequestContext): EmulatorResponse {
  const { req, route } = ctx;
  const refused = routingRefusal(ctx, state.settings.maxBodyBytes);
  if (refused) return refused;

  const principal = authenticate(
    headerValue(req.headers.authorization),
    state.registry,
    state.grants,
    state.clock.now(),
  );
  if ('status' in principal) return principal;

  const rate = countRequest(state, principal);
  const common: Record<string, string> = {
    'persona-organization-id': principal.org.id,
    'persona-environment-id': state.environmentId,
    ...rate.headers,
  };
  const decorate: Decorate = (response, extra = {}) => ({
    ...response,
    headers: { ...common, ...response.headers, ...extra },
  });
  if (rate.refusal) return decorate(rate.refusal);
  if (ctx.fault?.kind === 'quota-exceeded') return decorate(quotaExceededResponse());

  const requestedInflection = parseKeyInflection(headerValue(req.headers['key-inflection']));
  const headerProblem = headerRefusal(req, state.settings.versions, requestedInflection);
  if (headerProblem) return decorate(headerProblem);
  // Without the header, an API key answers in the inflection its dashboard setting gives it.
  const keyDefault = principal.kind === 'api-key' ? parseKeyInflection(principal.org.apiKeyInflection) : undefined;
  const inflection: KeyInflection = requestedInflection ?? keyDefault ?? 'kebab';

  const method = req.method ?? 'GET';
  const parsed = method === 'POST' ? parseParams(ctx.body, headerValue(req.headers['content-type'])) : undefined;
  const run = (): EmulatorResponse => {
    if (ctx.fault?.kind === 'status') return forcedResponse(ctx.fault);
    const response = orInternalError(() => runEndpoint(state, ctx, principal, parsed, inflection));
    const { fault, route } = ctx;
    const oauth = route.endpoint === 'token' || route.endpoint === 'authorize' ? route.endpoint : undefined;
    return fault?.kind === 'null-fields' && oauth ? withNullFields(response, fault, oauth, inflection) : response;
  };
  const idempotencyKey = method === 'POST' ? headerValue(req.headers['idempotency-key']) : undefined;
  if (idempotencyKey === undefined) return decorate(run());
  const fingerprint = requestFingerprint(method, route.endpoint, parsed, ctx.body);
  return idempotent(state, { credential: principal.credential, idempotencyKey, fingerprint }, run, decorate);
}

/** 404 for an unknown path, 405 for a wrong method, 413 for a body over the cap. */
function routingRefusal(ctx: RequestContext, maxBodyBytes: number): EmulatorResponse | undefined {
  const { req, route } = ctx;
  const method = req.method ?? 'GET';
  if (route.endpoint === 'other') {
    return errorResponse(404, 'Not Found', `No route matches ${method} ${pathnameOf(req.url ?? '/') ?? req.url ?? ''}`);
  }
  if (!route.methods.includes(method)) {
    const allow = route.methods.join(', ');
    return errorResponse(405, 'Method Not Allowed', `${method} is not supported here; use ${allow}`, {
      headers: { allow },
    });
  }
  if (ctx.tooLarge) {
    return errorResponse(413, 'Payload Too Large', `The request body is larger than ${maxBodyBytes} bytes`);
  }
  return undefined;
}

/** 400 for a `Persona-Version` not accepted or a `Key-Inflection` not kebab, snake or camel. */
function headerRefusal(
  req: IncomingMessage,
  versions: ReadonlySet<string>,
  inflection: KeyInflection | null | undefined,
): EmulatorResponse | undefined {
  const version = headerValue(req.headers['persona-version']);
  if (version !== undefined && !versions.has(version.trim())) {
    const details = `Unknown API version ${JSON.stringify(version)}; known: ${[...versions].join(', ')}`;
    return errorResponse(400, 'Invalid Persona-Version', details);
  }
  if (inflection === null) {
    return errorResponse(400, 'Invalid Key-Inflection', 'Key-Inflection must be kebab, snake or camel');
  }
  return undefined;
}

/** The endpoint's answer; an exception inside it is a 500 in Persona's form (and is stored like one). */
function orInternalError(run: () => EmulatorResponse): EmulatorResponse {
  try {
    return run();
  } catch (error) {
    return errorResponse(500, 'Internal server error', error instanceof Error ? error.message : String(error));
  }
}

function runEndpoint(
  state: PipelineState,
  { route, req }: RequestContext,
  principal: Principal,
  parsed: ParsedParams | undefined,
  inflection: KeyInflection,
): EmulatorResponse {
  if (route.objectType) {
    const query = new URL(req.url ?? '/', 'http://emulator.invalid').searchParams;
    const reader = principal.kind === 'access-token' ? { org: principal.org, token: principal.token } : principal;
    return retrieveObject(state.registry, route.objectType, route.objectId ?? '', reader, query, inflection);
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
