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
export type PersonaScopeLike = Pick<PersonaScope, 'permission' | 'objectId'>;

/** Anything {@link hasScope} can look into: a token set, or a user that carries `scopes` or `scope`. */
export type ScopeHolder =
  | { scopes?: readonly PersonaScopeLike[] | null | undefined; scope?: string | null | undefined }
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
