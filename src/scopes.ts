import { STATUS_OF } from './errors.js';

/**
 * One granted scope: a permission (`resource.action`) on one Persona object.
 *
 * `inquiry.read:inq_123` parses to
 * `{ permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_123' }`.
 */
export interface PersonaScope {
  permission: string;
  resource: string;
  action: string;
  objectId: string;
}

/** The fields {@link formatScopes} needs from a scope. */
type PersonaScopeLike = Pick<PersonaScope, 'permission' | 'objectId'>;

/**
 * What {@link hasScope} and {@link checkScope} look into: a token set, or a user that carries
 * `scopes` (or a raw `scope` string) and, for `checkScope`, `expiresAt` (epoch ms).
 */
export type ScopeHolder =
  | {
      scopes?: readonly Pick<PersonaScope, 'permission' | 'objectId'>[] | null | undefined;
      scope?: string | null | undefined;
      expiresAt?: number | undefined;
    }
  | null
  | undefined;

// resource and action: a letter, then letters, digits or `_` (e.g. `api_log.read`).
const PERMISSION = /^([A-Za-z][A-Za-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)$/;
// An object id is any run of visible ASCII; whitespace separates entries.
const OBJECT_ID = /^[\x21-\x7e]+$/;
const SEPARATORS = /[ \t\r\n]+/;
const MAX_SHOWN = 64;

type ErrorKind = new (message: string) => Error;

function invalidScope(Kind: ErrorKind, entry: string, why: string): Error {
  const shown = entry.length > MAX_SHOWN ? `${entry.slice(0, MAX_SHOWN)}…` : entry;
  return new Kind(`Invalid scope entry ${JSON.stringify(shown)}: ${why}`);
}

// `Kind` is what a bad entry is: a SyntaxError in a scope string, a TypeError in a caller's list.
function parseEntry(entry: string, Kind: ErrorKind): PersonaScope {
  const colon = entry.indexOf(':');
  if (colon === -1) throw invalidScope(Kind, entry, 'expected permission:object');
  const permission = entry.slice(0, colon);
  const objectId = entry.slice(colon + 1);
  const match = PERMISSION.exec(permission);
  if (!match) throw invalidScope(Kind, entry, 'the permission must be resource.action');
  if (!OBJECT_ID.test(objectId)) throw invalidScope(Kind, entry, 'the object id is empty or not printable ASCII');
  return { permission, resource: match[1] as string, action: match[2] as string, objectId };
}

/**
 * Parses Persona's space-separated `permission:object` scope string into a list.
 *
 * Whitespace runs separate entries, duplicates are dropped (first one kept, order preserved),
 * and `null`, `undefined` or an empty string give an empty list. The object id is everything
 * after the first `:`. Scopes are case-sensitive.
 *
 * @throws {SyntaxError} when an entry is malformed (the message quotes it, cut to 64 characters).
 * @throws {TypeError} when `scope` is not a string, null or undefined.
 */
export function parseScopes(scope: string | null | undefined): PersonaScope[] {
  if (scope === null || scope === undefined) return [];
  if (typeof scope !== 'string') throw invalidScope(TypeError, String(scope), 'the scope must be a string');
  const out: PersonaScope[] = [];
  const seen = new Set<string>();
  for (const entry of scope.split(SEPARATORS)) {
    if (entry === '' || seen.has(entry)) continue;
    seen.add(entry);
    out.push(parseEntry(entry, SyntaxError));
  }
  return out;
}

/**
 * Formats a scope list back into Persona's space-separated string; the inverse of
 * {@link parseScopes} (`formatScopes(parseScopes(s))` equals `s` with whitespace normalised and
 * duplicates removed).
 *
 * @throws {TypeError} when an item's `permission` and `objectId` do not make a valid entry (a
 * permission that is not `resource.action`, an empty or non-printable object id).
 */
export function formatScopes(list: readonly PersonaScopeLike[]): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const item of list) {
    const entry = `${item.permission}:${item.objectId}`;
    parseEntry(entry, TypeError);
    if (seen.has(entry)) continue;
    seen.add(entry);
    parts.push(entry);
  }
  return parts.join(' ');
}

/**
 * Tells whether a token set (or a user carrying `scopes` or a raw `scope` string) grants
 * `permission`, on `objectId` when given, on any object otherwise.
 *
 * Never throws: a missing holder or an unparsable scope string grants nothing.
 */
export function hasScope(holder: ScopeHolder, permission: string, objectId?: string): boolean {
  if (!holder || typeof holder !== 'object') return false;
  let scopes: readonly PersonaScopeLike[];
  if (Array.isArray(holder.scopes)) {
    scopes = holder.scopes;
  } else {
    try {
      scopes = parseScopes(holder.scope);
    } catch {
      return false;
    }
  }
  return scopes.some(
    (s) =>
      s !== null &&
      typeof s === 'object' &&
      s.permission === permission &&
      (objectId === undefined || s.objectId === objectId),
  );
}

const SCOPE_ERROR_BRAND = Symbol.for('passport-withpersona.ScopeError');

/**
 * Why a request is not allowed: what {@link checkScope} returns and `requireScope` passes to
 * `next`. `status` and `statusCode` (the same number) are 401 when there is no unexpired token
 * and 403 when the scope does not grant the permission; `expose` is true (the message is safe to
 * show), as http-errors sets it, so the default error handlers of Express, Koa, Fastify and
 * NestJS answer with that status and message.
 *
 * `err instanceof ScopeError` also holds for a `ScopeError` made by the other copy of this
 * package (an app that both `import`s and `require`s it loads the ESM and the CommonJS build):
 * instances carry a `Symbol.for` brand that `instanceof` checks.
 */
export class ScopeError extends Error {
  override readonly name = 'ScopeError';
  /** 401 when there is no (unexpired) token, 403 when the scope does not grant the permission. */
  readonly status: 401 | 403;
  /** The same as `status`, under the name Fastify, NestJS and Node's own conventions read. */
  readonly statusCode: 401 | 403;
  /** Always true: the message names the permission only, never a token. */
  readonly expose = true;
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
    this.statusCode = this.status;
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

/** Options of {@link checkScope}. */
export interface CheckScopeOptions {
  /**
   * The object the permission must be granted on. When this key is present its value must be a
   * non-empty string: anything else (`undefined` from a misspelt route parameter, `''`, a number)
   * is refused with `insufficient_scope`, never read as "any object". Leave the key out to ask
   * for the permission on any object.
   */
  objectId?: unknown;
  /** The time `expiresAt` is compared with, in epoch ms (default `Date.now()`). */
  now?: number;
}

// The object id the caller named, `undefined` when it named none, `null` when it named one that
// is no id at all (and so must be refused).
function namedObject(options: CheckScopeOptions): string | undefined | null {
  if (!('objectId' in options)) return undefined;
  const { objectId } = options;
  return typeof objectId === 'string' && objectId !== '' ? objectId : null;
}

/**
 * The framework-agnostic scope guard: `undefined` when `holder` (a token set, or a user carrying
 * `scopes`/`scope` and `expiresAt`) is present, unexpired and grants `permission` (on
 * `options.objectId` when that key is given), otherwise the {@link ScopeError} to answer with:
 * `unauthenticated` (401), `token_expired` (401) or `insufficient_scope` (403). An `objectId`
 * key whose value is not a non-empty string fails closed with `insufficient_scope`.
 * `requireScope`, and any Fastify `preHandler`, NestJS guard, Koa or Hono middleware, decide
 * with this one function. Never throws.
 */
export function checkScope(
  holder: ScopeHolder,
  permission: string,
  options: CheckScopeOptions = {},
): ScopeError | undefined {
  const objectId = namedObject(options);
  const shown = typeof objectId === 'string' ? objectId : undefined;
  if (!holder || typeof holder !== 'object') return new ScopeError('unauthenticated', permission, shown);
  const now = options.now ?? Date.now();
  if (typeof holder.expiresAt === 'number' && holder.expiresAt <= now) {
    return new ScopeError('token_expired', permission, shown);
  }
  if (objectId === null || !hasScope(holder, permission, objectId)) {
    return new ScopeError('insufficient_scope', permission, shown);
  }
  return undefined;
}
