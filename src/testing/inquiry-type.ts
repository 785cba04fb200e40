import { defineObjectType } from './object-type.js';
import type { EmulatedInquiry, EmulatedOrganization } from './types.js';

/** An inquiry as Persona's JSON:API document, its verifications listed among its relationships. */
export function inquiryDocument(inquiry: EmulatedInquiry, org: EmulatedOrganization): unknown {
  const verifications = org.verifications
    .filter((verification) => verification.inquiryId === inquiry.id)
    .map((verification) => ({ type: `verification/${verification.type}`, id: verification.id }));
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
        verifications: { data: verifications },
      },
    },
  };
}

/** Inquiries: `inq_…`, `GET /api/v1/inquiries/:id`, read with `inquiry.read`. */
export const INQUIRY = defineObjectType<EmulatedInquiry>({
  resource: 'inquiry',
  idPrefix: 'inq_',
  path: 'inquiries',
  endpoint: 'inquiry',
  label: 'Inquiry',
  objects: (org) => org.inquiries,
  document: inquiryDocument,
});
