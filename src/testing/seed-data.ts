import type { EmulatedInquiry, EmulatedVerification, VerificationCheck } from './types.js';

/** An inquiry to seed, without id or timestamps (those depend on the seed and the clock). */
export type SeedInquiry = Omit<EmulatedInquiry, 'id' | 'createdAt' | 'completedAt' | 'inquiryTemplateId'> & {
  /** How long before the clock's start the inquiry was created, in hours. */
  ageHours: number;
  /** How long after creation it finished, in minutes; null while unfinished. */
  completedAfterMinutes: number | null;
};

/** The data owner's inquiries: one of each common status, fictional people and example.com addresses. */
export const OWNER_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    nameFirst: 'Jane',
    nameMiddle: 'Amelia',
    nameLast: 'Doe',
    birthdate: '1990-04-12',
    referenceId: 'customer-1001',
    emailAddress: 'jane.doe@example.com',
    phoneNumber: '+14155550101',
    addressStreet1: '123 Market Street',
    addressCity: 'San Francisco',
    addressSubdivision: 'California',
    addressPostalCode: '94105',
    addressCountryCode: 'US',
    tags: ['vip'],
    ageHours: 240,
    completedAfterMinutes: 7,
  },
  {
    status: 'completed',
    nameFirst: 'Rahul',
    nameLast: 'Mehta',
    birthdate: '1985-11-02',
    referenceId: 'customer-1002',
    emailAddress: 'rahul.mehta@example.com',
    phoneNumber: '+442079460958',
    addressStreet1: '221B Baker Street',
    addressCity: 'London',
    addressSubdivision: 'England',
    addressPostalCode: 'NW1 6XE',
    addressCountryCode: 'GB',
    ageHours: 120,
    completedAfterMinutes: 4,
  },
  {
    status: 'pending',
    nameFirst: 'María',
    nameMiddle: 'José',
    nameLast: 'García',
    birthdate: '1978-02-28',
    referenceId: 'customer-1003',
    emailAddress: 'maria.garcia@example.com',
    phoneNumber: '+34915550123',
    addressStreet1: 'Calle de Alcalá 42',
    addressCity: 'Madrid',
    addressSubdivision: 'Madrid',
    addressPostalCode: '28014',
    addressCountryCode: 'ES',
    ageHours: 2,
    completedAfterMinutes: null,
  },
  {
    status: 'declined',
    nameFirst: 'Kenji',
    nameLast: 'Sato',
    birthdate: '2001-07-19',
    referenceId: 'customer-1004',
    emailAddress: 'kenji.sato@example.com',
    phoneNumber: '+81355550199',
    addressStreet1: '1-1 Marunouchi',
    addressCity: 'Tokyo',
    addressSubdivision: 'Tokyo',
    addressPostalCode: '100-0005',
    addressCountryCode: 'JP',
    tags: ['manual-review'],
    ageHours: 72,
    completedAfterMinutes: 12,
  },
  {
    status: 'needs_review',
    nameFirst: 'Amara',
    nameMiddle: 'Chioma',
    nameLast: 'Okafor',
    birthdate: '1995-09-30',
    referenceId: 'customer-1005',
    emailAddress: 'amara.okafor@example.com',
    phoneNumber: '+2348055550111',
    addressStreet1: '15 Awolowo Road',
    addressCity: 'Lagos',
    addressSubdivision: 'Lagos',
    addressPostalCode: '106104',
    addressCountryCode: 'NG',
    ageHours: 30,
    completedAfterMinutes: 9,
  },
  {
    status: 'expired',
    nameFirst: 'Lukas',
    nameLast: 'Schmidt',
    birthdate: '1969-12-01',
    addressCountryCode: 'DE',
    ageHours: 400,
    completedAfterMinutes: null,
  },
];

/** The recipient's own inquiries. */
export const RECIPIENT_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    nameFirst: 'Chloé',
    nameLast: 'Martin',
    birthdate: '1992-03-08',
    referenceId: 'applicant-77',
    emailAddress: 'chloe.martin@example.com',
    phoneNumber: '+33155550142',
    addressStreet1: '8 Rue de Rivoli',
    addressCity: 'Paris',
    addressSubdivision: 'Île-de-France',
    addressPostalCode: '75004',
    addressCountryCode: 'FR',
    ageHours: 50,
    completedAfterMinutes: 5,
  },
  {
    status: 'created',
    nameFirst: 'Noah',
    nameLast: 'Williams',
    referenceId: 'applicant-78',
    ageHours: 1,
    completedAfterMinutes: null,
  },
];

/** Statuses after which an inquiry has a completion time. */
export const FINISHED_STATUSES: ReadonlySet<string> = new Set([
  'completed',
  'approved',
  'declined',
  'failed',
  'needs_review',
]);

/** A verification to seed on one of an organisation's seeded inquiries. */
export type SeedVerification = Omit<
  EmulatedVerification,
  'id' | 'inquiryId' | 'createdAt' | 'submittedAt' | 'completedAt' | 'nameFirst' | 'nameLast' | 'birthdate'
> & {
  /** Which of the organisation's inquiries it belongs to (its name and birthdate are copied from there). */
  inquiryIndex: number;
  /** Minutes after the verification started that the individual submitted; null: not yet. */
  submittedAfterMinutes: number | null;
  /** Minutes after it started that the checks finished; null: not yet. */
  completedAfterMinutes: number | null;
};

// Check names from Persona's changelog (2025-03-03): the checks its templates require by default.
const GOVERNMENT_ID_CHECKS = [
  'id_age_comparison',
  'id_color_inconsistency_detection',
  'id_double_side_detection',
  'id_fabrication_detection',
  'id_tamper_detection',
  'id_unprocessable_submission_detection',
];
const SELFIE_CHECKS = ['selfie_face_covering_detection', 'selfie_suspicious_entity_detection'];

/** Every named check passed, except `failed` (with its reason). */
function checks(names: readonly string[], failed?: { name: string; reason: string }): VerificationCheck[] {
  return names.map((name) => ({
    name,
    status: name === failed?.name ? 'failed' : 'passed',
    reasons: name === failed?.name ? [failed.reason] : [],
    requirement: 'required',
  }));
}

function governmentId(
  inquiryIndex: number,
  status: string,
  idClass: string,
  countryCode: string,
  failed?: { name: string; reason: string },
): SeedVerification {
  const done = status === 'passed' || status === 'failed';
  return {
    inquiryIndex,
    type: 'government-id',
    status,
    idClass,
    countryCode,
    checks: done ? checks(GOVERNMENT_ID_CHECKS, failed) : [],
    submittedAfterMinutes: status === 'initiated' ? null : 2,
    completedAfterMinutes: done ? 3 : null,
  };
}

function selfie(inquiryIndex: number, status: string, failed?: { name: string; reason: string }): SeedVerification {
  const done = status === 'passed' || status === 'failed';
  return {
    inquiryIndex,
    type: 'selfie',
    status,
    checks: done ? checks(SELFIE_CHECKS, failed) : [],
    submittedAfterMinutes: status === 'initiated' ? null : 4,
    completedAfterMinutes: done ? 5 : null,
  };
}

/**
 * The steps the owner's inquiries ran, in the order of {@link OWNER_INQUIRIES}: a government ID
 * and a selfie for each finished one, a failed ID for the declined one, a flagged selfie for the
 * one in review, unfinished steps for the pending one, an ID never submitted for the expired one.
 */
export const OWNER_VERIFICATIONS: readonly SeedVerification[] = [
  governmentId(0, 'passed', 'dl', 'US'),
  selfie(0, 'passed'),
  governmentId(1, 'passed', 'pp', 'GB'),
  selfie(1, 'passed'),
  governmentId(2, 'submitted', 'id', 'ES'),
  selfie(2, 'initiated'),
  governmentId(3, 'failed', 'dl', 'JP', { name: 'id_tamper_detection', reason: 'tampered_photo' }),
  selfie(3, 'passed'),
  governmentId(4, 'passed', 'pp', 'NG'),
  selfie(4, 'failed', { name: 'selfie_suspicious_entity_detection', reason: 'suspicious_entity' }),
  governmentId(5, 'initiated', 'id', 'DE'),
];

/** The recipient's own: a government ID for its approved inquiry. */
export const RECIPIENT_VERIFICATIONS: readonly SeedVerification[] = [governmentId(0, 'passed', 'id', 'FR')];
