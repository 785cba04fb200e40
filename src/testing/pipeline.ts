import type { IncomingMessage } from 'node:http';
import { authenticate, type Principal } from './auth.js';
import { forcedResponse, quotaExceededResponse, withNullFields } from './faults.js';
import { errorResponse, headerValue, parseParams, type EmulatorResponse, type ParsedParams } from './http.js';
import { GrantStore } from './grants.js';
import { IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH, requestFingerprint } from './idempotency.js';
import { parseKeyInflection, type KeyInflection } from './inflection.js';
import { retrieveObject } from './object-endpoint.js';
import { createAccessToken, createAuthorization, type OAuthState } from './oauth-endpoints.js';
import { RateLimiter } from './rate-limit.js';
import type { ObjectRegistry } from './registry.js';
import { pathnameOf, type Route } from './routes.js';
import type { EmulatorSettings } from './settings.js';
import type { EmulatedOrganization, EmulatorClock, EmulatorFault } from './types.js';

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

type Decorate = (response: EmulatorResponse, extra?: Record<string, string>) => EmulatorResponse;

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
  if ('status' in principal) return errorResponse(principal.status, principal.error, { 'www-authenticate': 'Bearer' });

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
    const response = orInternalError(() => runEndpoint(state, route, principal, parsed, inflection));
    return ctx.fault?.kind === 'null-fields' ? withNullFields(response, ctx.fault, inflection) : response;
  };
  const idempotencyKey = method === 'POST' ? headerValue(req.headers['idempotency-key']) : undefined;
  if (idempotencyKey === undefined) return decorate(run());
  const fingerprint = requestFingerprint(method, route.endpoint, parsed, ctx.body);
  return idempotent(state, { credential: principal.credential, idempotencyKey, fingerprint }, run, decorate);
}

/** An organisation's API key's own limit, when it has a valid one. */
function ownRateLimit(org: EmulatedOrganization): number | undefined {
  const limit = org.apiKeyRateLimit;
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

/**
 * Counts the request against the environment and, for an API key with a limit of its own,
 * against the key: the RateLimit headers, and the 429 when either limit is passed. An access
 * token counts against the environment only.
 */
function countRequest(
  state: PipelineState,
  principal: Principal,
): { headers: Record<string, string>; refusal?: EmulatorResponse } {
  const keyLimit = principal.kind === 'api-key' ? ownRateLimit(principal.org) : undefined;
  const key = keyLimit === undefined ? undefined : { id: principal.credential, limit: keyLimit };
  const rate = state.rateLimiter.count(state.clock.now(), key);
  if (!rate.limited) return { headers: rate.headers };
  const which =
    rate.limited === 'api-key' ? `this API key's ${keyLimit}` : `the environment's ${state.settings.rateLimit}`;
  const refusal = errorResponse(429, {
    title: 'Rate limit exceeded',
    details: `More than ${which} requests in this minute; retry after RateLimit-Reset seconds`,
  });
  return { headers: rate.headers, refusal };
}

/** 404 for an unknown path, 405 for a wrong method, 413 for a body over the cap. */
function routingRefusal(ctx: RequestContext, maxBodyBytes: number): EmulatorResponse | undefined {
  const { req, route } = ctx;
  const method = req.method ?? 'GET';
  if (route.endpoint === 'other') {
    return errorResponse(404, {
      title: 'Not Found',
      details: `No route matches ${method} ${pathnameOf(req.url ?? '/') ?? req.url ?? ''}`,
    });
  }
  if (!route.methods.includes(method)) {
    return errorResponse(
      405,
      { title: 'Method Not Allowed', details: `${method} is not supported here; use ${route.methods.join(', ')}` },
      { allow: route.methods.join(', ') },
    );
  }
  if (ctx.tooLarge) {
    return errorResponse(413, {
      title: 'Payload Too Large',
      details: `The request body is larger than ${maxBodyBytes} bytes`,
    });
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
    return errorResponse(400, {
      title: 'Invalid Persona-Version',
      details: `Unknown API version ${JSON.stringify(version)}; known: ${[...versions].join(', ')}`,
    });
  }
  if (inflection === null) {
    return errorResponse(400, {
      title: 'Invalid Key-Inflection',
      details: 'Key-Inflection must be kebab, snake or camel',
    });
  }
  return undefined;
}

/**
 * Runs a POST under its Idempotency-Key: replays the stored answer for the same parameters,
 * refuses other parameters, and stores what `run` answers (except 401 and 429).
 */
function idempotent(
  state: PipelineState,
  key: { credential: string; idempotencyKey: string; fingerprint: string },
  run: () => EmulatorResponse,
  decorate: Decorate,
): EmulatorResponse {
  const { credential, idempotencyKey, fingerprint } = key;
  if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return decorate(
      errorResponse(400, {
        title: 'Idempotency error',
        details: `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
      }),
    );
  }
  const found = state.idempotency.lookup(credential, idempotencyKey, fingerprint, state.clock.now());
  if (found.kind === 'conflict') {
    return decorate(
      errorResponse(400, {
        title: 'Idempotency error',
        details: 'This Idempotency-Key was already used with different parameters',
      }),
    );
  }
  if (found.kind === 'replay') return decorate(found.response, { 'idempotent-replayed': 'true' });
  const response = run();
  if (response.status !== 401 && response.status !== 429) {
    state.idempotency.store(credential, idempotencyKey, fingerprint, response, state.clock.now());
  }
  return decorate(response);
}

/** The endpoint's answer; an exception inside it is a 500 in Persona's form (and is stored like one). */
function orInternalError(run: () => EmulatorResponse): EmulatorResponse {
  try {
    return run();
  } catch (error) {
    return errorResponse(500, {
      title: 'Internal server error',
      details: error instanceof Error ? error.message : String(error),
    });
  }
}

function runEndpoint(
  state: PipelineState,
  route: Route,
  principal: Principal,
  parsed: ParsedParams | undefined,
  inflection: KeyInflection,
): EmulatorResponse {
  if (route.objectType) {
    return retrieveObject(state.registry, route.objectType, route.objectId ?? '', principal, inflection);
  }
  if (principal.kind !== 'api-key') {
    return errorResponse(403, {
      title: 'Forbidden',
      details: 'An OAuth access token cannot create authorizations or access tokens; use an API key',
    });
  }
  if (!parsed?.ok) {
    return errorResponse(400, {
      title: 'Bad Request',
      details: parsed?.details ?? 'The request body could not be read',
    });
  }
  return route.endpoint === 'authorize'
    ? createAuthorization(state, principal.org, parsed.params, inflection)
    : createAccessToken(state, principal.org, parsed.params, inflection);
}
