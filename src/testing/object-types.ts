import { INQUIRY } from './inquiry-type.js';
import type { ObjectType } from './object-type.js';
import { VERIFICATION } from './verification-type.js';

/**
 * Every object type the emulator shares. Another (reports, accounts…) is one
 * `defineObjectType` call: an id prefix, a path, a permission resource, its objects and its
 * document; routing, scope checks and retrieval follow from this list.
 */
export const OBJECT_TYPES: readonly ObjectType[] = Object.freeze([INQUIRY, VERIFICATION]);

/** The type whose ids start like `id` does, if any. */
export function objectTypeOf(id: string): ObjectType | undefined {
  return OBJECT_TYPES.find((type) => id.startsWith(type.idPrefix));
}
