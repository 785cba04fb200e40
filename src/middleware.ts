import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPersonaOAuthError, type PersonaOAuthError } from './errors.js';
import { checkScope, ScopeError, type ScopeHolder } from './scopes.js';

/**
 * Options of {@link requireScope}. `TReq` is the request its callbacks see; by default an Express
 * request as far as this library reads it, with the route's `params`.
 */
export interface RequireScopeOptions<TReq = IncomingMessage & { user?: unknown; params: Record<string, string> }> {
  /**
   * Where the token set is found on the request (default: `req.user`). Return the object that
   * carries `scopes` (or `scope`) and `expiresAt`.
   */
  tokens?: (req: TReq) => ScopeHolder;
  /**
   * The object id to check (default: none, i.e. the permission on any object). When given, it
   * must return a non-empty string: `undefined` (say, `req.params.inquiryID` on a route that
   * names `:inquiryId`), `''` or anything else refuses the request with 403
   * `insufficient_scope`; it never widens the check to any object.
   */
  objectId?: (req: TReq) => string | undefined;
  /** The clock `expiresAt` is compared with, in epoch ms (default `Date.now`); for tests. */
  now?: () => number;
}

/**
 * Express/Connect middleware that lets a request through only when the signed-in token set
 * grants `permission` (on the object `options.objectId(req)` names, when given) and has not
 * expired. Otherwise it calls `next(new ScopeError(…))` with status 401 (no token, or expired:
 * code `unauthenticated` / `token_expired`) or 403 (code `insufficient_scope`), for your error
 * handler to render. It is the Express form of {@link checkScope}, which decides. An
 * `options.objectId` that yields anything but a non-empty string fails closed (403).
 *
 * `options.objectId` and `options.tokens` receive the request typed as `TReq`, by default a
 * request with `params`, so `(req) => req.params.id` needs no type argument. The middleware itself
 * accepts any `IncomingMessage`, so mounting it leaves the type of `req` in the handlers after
 * it as Express infers it from the route. Throws nothing; errors go to `next`.
 */
export function requireScope<
  TReq extends IncomingMessage = IncomingMessage & { user?: unknown; params: Record<string, string> },
>(
  permission: string,
  options: RequireScopeOptions<TReq> = {},
): (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  const tokensOf = options.tokens ?? ((req: TReq) => (req as { user?: unknown }).user as ScopeHolder);
  const now = options.now ?? Date.now;
  return (incoming, _res, next) => {
    // The middleware is mounted where Express hands it its own request, which the caller's
    // `TReq` describes; it is typed as a plain IncomingMessage only so that it gives Express
    // nothing to infer the route's request type from.
    const req = incoming as TReq;
    const checked = options.objectId ? { objectId: options.objectId(req) as unknown, now: now() } : { now: now() };
    const refusal = checkScope(tokensOf(req), permission, checked);
    if (refusal) return next(refusal);
    next();
  };
}

/** Options of {@link personaErrorHandler}. */
export interface PersonaErrorHandlerOptions {
  /** Render the answer yourself; the status and `Retry-After` are already set. Default: JSON. */
  render?: (err: PersonaOAuthError | ScopeError, req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * Express error middleware for this library's errors: answers a {@link PersonaOAuthError} or a
 * {@link ScopeError} with its `status`, adds `Retry-After` when Persona's rate limit says how long
 * to wait, and sends `{ error: code, message, requestId }` (or calls `render`). Every other error
 * is passed on with `next(err)`. Nothing it sends contains a secret.
 */
export function personaErrorHandler(
  options: PersonaErrorHandlerOptions = {},
): (err: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void {
  return (err, req, res, next) => {
    const persona = isPersonaOAuthError(err) ? err : undefined;
    // Both checks recognise an error from either copy of the package (ESM and CommonJS).
    const known = persona ?? (err instanceof ScopeError ? err : undefined);
    if (!known || res.headersSent) return next(err);
    res.statusCode = known.status;
    res.setHeader('cache-control', 'no-store');
    if (persona?.retryAfter !== undefined) res.setHeader('retry-after', String(persona.retryAfter));
    if (options.render) return options.render(known, req, res);
    const body: Record<string, unknown> = { error: known.code, message: known.message };
    if (persona?.requestId !== undefined) body.requestId = persona.requestId;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(body));
  };
}
