import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPersonaOAuthError, STATUS_OF, type PersonaOAuthError } from './errors.js';
import { hasScope, type ScopeHolder } from './scopes.js';

/** A token set, or a user carrying `scopes`/`scope` and optionally `expiresAt` (epoch ms). */
export type ExpiringScopeHolder = (NonNullable<ScopeHolder> & { expiresAt?: number | undefined }) | null | undefined;

/**
 * The request {@link requireScope}'s callbacks see when no type argument is given: an Express
 * request as far as this library reads it, with the route's `params`.
 */
export type ScopedRequest = IncomingMessage & { user?: unknown; params: Record<string, string> };

/** Options of {@link requireScope}. */
export interface RequireScopeOptions<TReq = ScopedRequest> {
  /**
   * Where the token set is found on the request (default: `req.user`). Return the object that
   * carries `scopes` (or `scope`) and `expiresAt`.
   */
  tokens?: (req: TReq) => ExpiringScopeHolder;
  /** The object id to check (default: none, i.e. the permission on any object). */
  objectId?: (req: TReq) => string | undefined;
  /** The clock `expiresAt` is compared with, in epoch ms (default `Date.now`); for tests. */
  now?: () => number;
}

const SCOPE_ERROR_BRAND = Symbol.for('passport-withpersona.ScopeError');

/**
 * What {@link requireScope} passes to `next` when the request is not allowed.
 *
 * `err instanceof ScopeError` also holds for a `ScopeError` made by the other copy of this
 * package (an app that both `import`s and `require`s it loads the ESM and the CommonJS build):
 * instances carry a `Symbol.for` brand that `instanceof` checks.
 */
export class ScopeError extends Error {
  override readonly name = 'ScopeError';
  /** 401 when there is no (unexpired) token, 403 when the scope does not grant the permission. */
  readonly status: 401 | 403;
  readonly code: 'unauthenticated' | 'token_expired' | 'insufficient_scope';
  readonly permission: string;
  readonly objectId: string | undefined;

  constructor(code: ScopeError['code'], permission: string, objectId: string | undefined) {
    const target = objectId === undefined ? permission : `${permission} on ${objectId}`;
    super(
      code === 'insufficient_scope'
        ? `The Persona access token does not grant ${target}`
        : code === 'token_expired'
          ? 'The Persona access token has expired; connect again'
          : 'Sign in with Persona first',
    );
    this.code = code;
    this.status = STATUS_OF[code];
    this.permission = permission;
    this.objectId = objectId;
    Object.defineProperty(this, SCOPE_ERROR_BRAND, { value: true });
  }

  /** True for a `ScopeError` from either copy of the package; subclasses keep the plain check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was asked about (a subclass or this one)
    if (this !== ScopeError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && SCOPE_ERROR_BRAND in value;
  }
}

/** A Connect/Express middleware over requests of type `TReq`. */
export type Middleware<TReq = IncomingMessage> = (
  req: TReq,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * Express/Connect middleware that lets a request through only when the signed-in token set
 * grants `permission` (on the object `options.objectId(req)` names, when given) and has not
 * expired. Otherwise it calls `next(new ScopeError(…))` with status 401 (no token, or expired:
 * code `unauthenticated` / `token_expired`) or 403 (code `insufficient_scope`), for your error
 * handler to render.
 *
 * `options.objectId` and `options.tokens` receive the request typed as `TReq`, by default a
 * {@link ScopedRequest}, so `(req) => req.params.id` needs no type argument. The middleware itself
 * accepts any `IncomingMessage`, so mounting it leaves the type of `req` in the handlers after
 * it as Express infers it from the route. Throws nothing; errors go to `next`.
 */
export function requireScope<TReq extends IncomingMessage = ScopedRequest>(
  permission: string,
  options: RequireScopeOptions<TReq> = {},
): Middleware {
  const tokensOf = options.tokens ?? ((req: TReq) => (req as { user?: unknown }).user as ExpiringScopeHolder);
  const now = options.now ?? Date.now;
  return (incoming, _res, next) => {
    // The middleware is mounted where Express hands it its own request, which the caller's
    // `TReq` describes; it is typed as a plain IncomingMessage only so that it gives Express
    // nothing to infer the route's request type from.
    const req = incoming as TReq;
    const objectId = options.objectId?.(req);
    const tokens = tokensOf(req);
    if (!tokens || typeof tokens !== 'object') return next(new ScopeError('unauthenticated', permission, objectId));
    if (typeof tokens.expiresAt === 'number' && tokens.expiresAt <= now()) {
      return next(new ScopeError('token_expired', permission, objectId));
    }
    if (!hasScope(tokens, permission, objectId))
      return next(new ScopeError('insufficient_scope', permission, objectId));
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
