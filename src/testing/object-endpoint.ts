import type { Principal } from './auth.js';
import { errorResponse, jsonResponse, type EmulatorResponse } from './http.js';
import { inflectDeep, type KeyInflection } from './inflection.js';
import type { ObjectType } from './object-type.js';
import type { ObjectRegistry } from './registry.js';

/**
 * `GET /api/v1/<type>/:id` (inquiries, verifications). An API key reads its own organisation's
 * objects; an access token reads the objects its scope grants `<resource>.read` on, held by the
 * organisation that shared them, and gets 403 for any other id, existing or not, so the answer
 * reveals nothing.
 */
export function retrieveObject(
  registry: ObjectRegistry,
  type: ObjectType,
  id: string,
  principal: Principal,
  inflection: KeyInflection,
): EmulatorResponse {
  let holder = principal.org;
  if (principal.kind === 'access-token') {
    const permission = `${type.resource}.read`;
    if (!principal.token.scopes.includes(`${permission}:${id}`)) {
      return errorResponse(403, {
        title: 'Forbidden',
        details: `The access token's scope does not grant ${permission} on ${id}`,
      });
    }
    const owner = registry.organization(principal.token.ownerOrgId);
    if (!owner) return notFound(type, id);
    holder = owner;
  }
  const document = type.document(holder, id);
  if (document === undefined) return notFound(type, id);
  return jsonResponse(200, inflectDeep(document, inflection));
}

function notFound(type: ObjectType, id: string): EmulatorResponse {
  return errorResponse(404, { title: 'Record not found', details: `${type.label} ${id} was not found` });
}
