import type { Principal } from './auth.js';
import { errorResponse, jsonResponse, type EmulatorResponse } from './http.js';
import { inflectDeep, type KeyInflection } from './inflection.js';
import type { ObjectRegistry } from './registry.js';
import type { EmulatedInquiry } from './types.js';

/**
 * `GET /api/v1/inquiries/:id`. An API key reads its own organisation's inquiries; an access token
 * reads the inquiries its scope grants `inquiry.read` on, and gets 403 for any other id, existing
 * or not, so the answer reveals nothing.
 */
export function retrieveInquiry(
  registry: ObjectRegistry,
  id: string,
  principal: Principal,
  inflection: KeyInflection,
): EmulatorResponse {
  let found: EmulatedInquiry | undefined;
  if (principal.kind === 'access-token') {
    if (!principal.token.scopes.includes(`inquiry.read:${id}`)) {
      return errorResponse(403, {
        title: 'Forbidden',
        details: `The access token's scope does not grant inquiry.read on ${id}`,
      });
    }
    found = registry.organization(principal.token.ownerOrgId)?.inquiries.find((inq) => inq.id === id);
  } else {
    found = principal.org.inquiries.find((inquiry) => inquiry.id === id);
  }
  if (!found) return errorResponse(404, { title: 'Record not found', details: `Inquiry ${id} was not found` });
  return jsonResponse(200, inflectDeep(inquiryDocument(found), inflection));
}

/** An inquiry as Persona's JSON:API document, keys in kebab-case. */
export function inquiryDocument(inquiry: EmulatedInquiry): unknown {
  return {
    data: {
      type: 'inquiry',
      id: inquiry.id,
      attributes: {
        status: inquiry.status,
        'reference-id': inquiry.referenceId ?? null,
        'name-first': inquiry.nameFirst,
        'name-middle': inquiry.nameMiddle ?? null,
        'name-last': inquiry.nameLast,
        birthdate: inquiry.birthdate ?? null,
        'email-address': inquiry.emailAddress ?? null,
        'phone-number': inquiry.phoneNumber ?? null,
        'address-street-1': inquiry.addressStreet1 ?? null,
        'address-city': inquiry.addressCity ?? null,
        'address-subdivision': inquiry.addressSubdivision ?? null,
        'address-postal-code': inquiry.addressPostalCode ?? null,
        'address-country-code': inquiry.addressCountryCode ?? null,
        'created-at': inquiry.createdAt,
        'completed-at': inquiry.completedAt ?? null,
        tags: inquiry.tags ?? [],
      },
      relationships: {
        'inquiry-template': {
          data: inquiry.inquiryTemplateId ? { type: 'inquiry-template', id: inquiry.inquiryTemplateId } : null,
        },
        reports: { data: [] },
        verifications: { data: [] },
      },
    },
  };
}
