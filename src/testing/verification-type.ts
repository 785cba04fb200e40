import { defineObjectType } from './object-type.js';
import type { EmulatedVerification } from './types.js';

/**
 * A verification as Persona's JSON:API document (`verification/<type>`), linked to its inquiry.
 * The attributes are a subset of Persona's: those common to every type, and the government
 * ID's class and extracted name and birthdate when it has them.
 */
function verificationDocument(verification: EmulatedVerification): unknown {
  const attributes: Record<string, unknown> = {
    status: verification.status,
    'created-at': verification.createdAt,
    'submitted-at': verification.submittedAt ?? null,
    'completed-at': verification.completedAt ?? null,
    'country-code': verification.countryCode ?? null,
    checks: (verification.checks ?? []).map((check) => ({ ...check, reasons: [...check.reasons] })),
  };
  if (verification.type === 'government-id') {
    Object.assign(attributes, {
      'id-class': verification.idClass ?? null,
      'name-first': verification.nameFirst ?? null,
      'name-last': verification.nameLast ?? null,
      birthdate: verification.birthdate ?? null,
    });
  }
  return {
    data: {
      type: `verification/${verification.type}`,
      id: verification.id,
      attributes,
      relationships: {
        inquiry: { data: verification.inquiryId ? { type: 'inquiry', id: verification.inquiryId } : null },
      },
    },
  };
}

/** Verifications: `ver_…`, `GET /api/v1/verifications/:id`, read with `verification.read`. */
export const VERIFICATION = defineObjectType<EmulatedVerification>({
  resource: 'verification',
  idPrefix: 'ver_',
  path: 'verifications',
  endpoint: 'verification',
  label: 'Verification',
  objects: (org) => org.verifications,
  document: verificationDocument,
});
