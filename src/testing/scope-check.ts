import type { PersonaErrorEntry } from './http.js';
import { inflectKey, type KeyInflection } from './inflection.js';
import { objectTypeOf } from './object-types.js';
import type { EmulatedOrganization } from './types.js';

const MAX_SCOPE_ENTRIES = 100;
const SCOPE_ENTRY = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*):(.+)$/;
const OBJECT_ID = /^[a-z]+_[A-Za-z0-9]+$/;

/** A failed check: the status and error entry to answer with. */
export interface Refusal {
  status: number;
  error: PersonaErrorEntry;
}

/** A scope string that passed every check (its entries, deduplicated), or why not. */
export type ScopeCheck = { ok: true; scopes: string[] } | ({ ok: false } & Refusal);

interface ScopeEntry {
  permission: string;
  resource: string;
  object: string;
}

function refuse(status: number, title: string, details: string, pointer: string): ScopeCheck {
  return { ok: false, status, error: { title, details, pointer } };
}

/** Splits a scope string into its distinct entries and checks their grammar (400). */
function parseEntries(raw: string, pointer: string): { entries: string[]; parsed: ScopeEntry[] } | ScopeCheck {
  const entries = [...new Set(raw.split(/\s+/).filter((entry) => entry !== ''))];
  if (entries.length === 0) {
    return refuse(400, 'Invalid parameter', 'scope must list at least one permission:object pair', pointer);
  }
  if (entries.length > MAX_SCOPE_ENTRIES) {
    return refuse(400, 'Invalid parameter', `scope may list at most ${MAX_SCOPE_ENTRIES} pairs`, pointer);
  }
  const parsed: ScopeEntry[] = [];
  for (const entry of entries) {
    const match = SCOPE_ENTRY.exec(entry);
    if (!match || !OBJECT_ID.test(match[3] ?? '')) {
      const details = `scope entry ${JSON.stringify(entry)} is not a resource.action:object_id pair`;
      return refuse(400, 'Invalid parameter', details, pointer);
    }
    parsed.push({ permission: `${match[1]}.${match[2]}`, resource: match[1] ?? '', object: match[3] ?? '' });
  }
  return { entries, parsed };
}

/**
 * Checks a scope string: well-formed `permission:object` pairs (400), each object (of any
 * type the emulator holds) existing and owned by `from` (404, the same answer whether it belongs
 * to someone else or to nobody), and the permission's resource matching the object's type (422).
 */
export function checkScope(raw: string, from: EmulatedOrganization, inflection: KeyInflection): ScopeCheck {
  const pointer = `/${inflectKey('scope', inflection)}`;
  const grammar = parseEntries(raw, pointer);
  if ('ok' in grammar) return grammar;
  for (const { object } of grammar.parsed) {
    if (!objectTypeOf(object)?.holds(from, object)) {
      return refuse(404, 'Record not found', `${object} was not found`, pointer);
    }
  }
  for (const { permission, resource, object } of grammar.parsed) {
    if (resource !== objectTypeOf(object)?.resource) {
      return refuse(422, 'Invalid parameter', `permission ${permission} does not apply to ${object}`, pointer);
    }
  }
  return { ok: true, scopes: grammar.entries };
}
