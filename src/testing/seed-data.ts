import type { EmulatedInquiry, EmulatedVerification, VerificationCheck } from './types.js';

/** An inquiry to seed, without id or timestamps (those depend on the seed and the clock). */
export type SeedInquiry = Omit<EmulatedInquiry, 'id' | 'createdAt' | 'completedAt' | 'inquiryTemplateId'> & {
  /** How long before the clock's start the inquiry was created, in hours. */
  ageHours: number;
  /** How long after creation it finished, in minutes; null while unfinished. */
  completedAfterMinutes: number | null;
};

type Details = Partial<SeedInquiry>;

/** A full name split in first, middle (when three words) and last, with the birthdate. */
function person(fullName: string, birthdate?: string): Details & { nameFirst: string; nameLast: string } {
  const [nameFirst = '', ...rest] = fullName.split(' ');
  const nameLast = rest.pop() ?? '';
  return { nameFirst, ...(rest.length > 0 ? { nameMiddle: rest.join(' ') } : {}), nameLast, birthdate };
}

function contact(referenceId: string, emailAddress: string, phoneNumber: string): Details {
  return { referenceId, emailAddress, phoneNumber };
}

function address(street: string, city: string, subdivision: string, postalCode: string, countryCode: string): Details {
  return {
    addressStreet1: street,
    addressCity: city,
    addressSubdivision: subdivision,
    addressPostalCode: postalCode,
    addressCountryCode: countryCode,
  };
}

/** The data owner's inquiries: one of each common status, fictional people and example.com addresses. */
export const OWNER_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    ...person('Jane Amelia Doe', '1990-04-12'),
    ...contact('customer-1001', 'jane.doe@example.com', '+14155550101'),
    ...address('123 Market Street', 'San Francisco', 'California', '94105', 'US'),
    tags: ['vip'],
    ageHours: 240,
    completedAfterMinutes: 7,
  },
  {
    status: 'completed',
    ...person('Rahul Mehta', '1985-11-02'),
    ...contact('customer-1002', 'rahul.mehta@example.com', '+442079460958'),
    ...address('221B Baker Street', 'London', 'England', 'NW1 6XE', 'GB'),
    ageHours: 120,
    completedAfterMinutes: 4,
  },
  {
    status: 'pending',
    ...person('María José García', '1978-02-28'),
    ...contact('customer-1003', 'maria.garcia@example.com', '+34915550123'),
    ...address('Calle de Alcalá 42', 'Madrid', 'Madrid', '28014', 'ES'),
    ageHours: 2,
    completedAfterMinutes: null,
  },
  {
    status: 'declined',
    ...person('Kenji Sato', '2001-07-19'),
    ...contact('customer-1004', 'kenji.sato@example.com', '+81355550199'),
    ...address('1-1 Marunouchi', 'Tokyo', 'Tokyo', '100-0005', 'JP'),
    tags: ['manual-review'],
    ageHours: 72,
    completedAfterMinutes: 12,
  },
  {
    status: 'needs_review',
    ...person('Amara Chioma Okafor', '1995-09-30'),
    ...contact('customer-1005', 'amara.okafor@example.com', '+2348055550111'),
    ...address('15 Awolowo Road', 'Lagos', 'Lagos', '106104', 'NG'),
    ageHours: 30,
    completedAfterMinutes: 9,
  },
  {
    status: 'expired',
    ...person('Lukas Schmidt', '1969-12-01'),
    addressCountryCode: 'DE',
    ageHours: 400,
    completedAfterMinutes: null,
  },
];

/** The recipient's own inquiries. */
export const RECIPIENT_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    ...person('Chloé Martin', '1992-03-08'),
    ...contact('applicant-77', 'chloe.martin@example.com', '+33155550142'),
    ...address('8 Rue de Rivoli', 'Paris', 'Île-de-France', '75004', 'FR'),
    ageHours: 50,
    completedAfterMinutes: 5,
  },
  {
    status: 'created',
    ...person('Noah Williams'),
    referenceId: 'applicant-78',
    ageHours: 1,
    completedAfterMinutes: null,
  },
];

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

type Failure = { name: string; reason: string };

/** A step of a seeded inquiry, checked once passed or failed: every check passed but `failed`. */
function step(
  type: 'government-id' | 'selfie',
  inquiryIndex: number,
  status: string,
  failed?: Failure,
): SeedVerification {
  const done = status === 'passed' || status === 'failed';
  const selfie = type === 'selfie';
  const checks: VerificationCheck[] = (selfie ? SELFIE_CHECKS : GOVERNMENT_ID_CHECKS).map((name) => {
    const passed = name !== failed?.name;
    return {
      name,
      status: passed ? 'passed' : 'failed',
      reasons: passed ? [] : [failed.reason],
      requirement: 'required',
    };
  });
  return {
    inquiryIndex,
    type,
    status,
    checks: done ? checks : [],
    submittedAfterMinutes: status === 'initiated' ? null : selfie ? 4 : 2,
    completedAfterMinutes: done ? (selfie ? 5 : 3) : null,
  };
}

const governmentId = (inquiry: number, status: string, idClass: string, countryCode: string, failed?: Failure) => ({
  ...step('government-id', inquiry, status, failed),
  idClass,
  countryCode,
});
const selfie = (inquiry: number, status: string, failed?: Failure) => step('selfie', inquiry, status, failed);

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
