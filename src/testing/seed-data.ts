import type { ObjectRegistry } from './objects.js';
import type { EmulatedInquiry, EmulatedOrganization, EmulatedVerification, VerificationCheck } from './types.js';

/** A step an inquiry ran, without ids, times or the person (those come from the inquiry and the clock). */
type SeedStep = Omit<
  EmulatedVerification,
  'id' | 'inquiryId' | 'createdAt' | 'submittedAt' | 'completedAt' | 'nameFirst' | 'nameLast' | 'birthdate'
> & {
  /** Minutes after the step started (a minute after its inquiry) that the individual submitted; null: not yet. */
  submittedAfterMinutes: number | null;
  /** Minutes after it started that the checks finished; null: not yet. */
  completedAfterMinutes: number | null;
};

/** An inquiry to seed, without id or timestamps (those depend on the seed and the clock), and the steps it ran. */
type SeedInquiry = Omit<EmulatedInquiry, 'id' | 'createdAt' | 'completedAt' | 'inquiryTemplateId'> & {
  /** How long before the clock's start the inquiry was created, in hours. */
  ageHours: number;
  /** How long after creation it finished, in minutes; null while unfinished. */
  completedAfterMinutes: number | null;
  steps: SeedStep[];
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

/** A government ID or selfie step, checked once passed or failed: every check passed but `failed`. */
function step(type: 'government-id' | 'selfie', status: string, failed?: Failure): SeedStep {
  const done = status === 'passed' || status === 'failed';
  const selfie = type === 'selfie';
  const checks = (selfie ? SELFIE_CHECKS : GOVERNMENT_ID_CHECKS).map((name): VerificationCheck => {
    const passed = name !== failed?.name;
    return {
      name,
      status: passed ? 'passed' : 'failed',
      reasons: passed ? [] : [failed.reason],
      requirement: 'required',
    };
  });
  return {
    type,
    status,
    checks: done ? checks : [],
    submittedAfterMinutes: status === 'initiated' ? null : selfie ? 4 : 2,
    completedAfterMinutes: done ? (selfie ? 5 : 3) : null,
  };
}

function governmentId(status: string, idClass: string, countryCode: string, failed?: Failure): SeedStep {
  return { ...step('government-id', status, failed), idClass, countryCode };
}

function selfie(status: string, failed?: Failure): SeedStep {
  return step('selfie', status, failed);
}

/**
 * The data owner's inquiries: one of each common status, fictional people and example.com
 * addresses. Each finished one ran a government ID and a selfie (the declined one's ID failed,
 * the selfie of the one in review was flagged); the pending one's steps are unfinished, and the
 * expired one's ID was never submitted.
 */
const OWNER_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    ...person('Jane Amelia Doe', '1990-04-12'),
    ...contact('customer-1001', 'jane.doe@example.com', '+14155550101'),
    ...address('123 Market Street', 'San Francisco', 'California', '94105', 'US'),
    tags: ['vip'],
    ageHours: 240,
    completedAfterMinutes: 7,
    steps: [governmentId('passed', 'dl', 'US'), selfie('passed')],
  },
  {
    status: 'completed',
    ...person('Rahul Mehta', '1985-11-02'),
    ...contact('customer-1002', 'rahul.mehta@example.com', '+442079460958'),
    ...address('221B Baker Street', 'London', 'England', 'NW1 6XE', 'GB'),
    ageHours: 120,
    completedAfterMinutes: 4,
    steps: [governmentId('passed', 'pp', 'GB'), selfie('passed')],
  },
  {
    status: 'pending',
    ...person('María José García', '1978-02-28'),
    ...contact('customer-1003', 'maria.garcia@example.com', '+34915550123'),
    ...address('Calle de Alcalá 42', 'Madrid', 'Madrid', '28014', 'ES'),
    ageHours: 2,
    completedAfterMinutes: null,
    steps: [governmentId('submitted', 'id', 'ES'), selfie('initiated')],
  },
  {
    status: 'declined',
    ...person('Kenji Sato', '2001-07-19'),
    ...contact('customer-1004', 'kenji.sato@example.com', '+81355550199'),
    ...address('1-1 Marunouchi', 'Tokyo', 'Tokyo', '100-0005', 'JP'),
    tags: ['manual-review'],
    ageHours: 72,
    completedAfterMinutes: 12,
    steps: [
      governmentId('failed', 'dl', 'JP', { name: 'id_tamper_detection', reason: 'tampered_photo' }),
      selfie('passed'),
    ],
  },
  {
    status: 'needs_review',
    ...person('Amara Chioma Okafor', '1995-09-30'),
    ...contact('customer-1005', 'amara.okafor@example.com', '+2348055550111'),
    ...address('15 Awolowo Road', 'Lagos', 'Lagos', '106104', 'NG'),
    ageHours: 30,
    completedAfterMinutes: 9,
    steps: [
      governmentId('passed', 'pp', 'NG'),
      selfie('failed', { name: 'selfie_suspicious_entity_detection', reason: 'suspicious_entity' }),
    ],
  },
  {
    status: 'expired',
    ...person('Lukas Schmidt', '1969-12-01'),
    addressCountryCode: 'DE',
    ageHours: 400,
    completedAfterMinutes: null,
    steps: [governmentId('initiated', 'id', 'DE')],
  },
];

/** The recipient's own inquiries: the approved one ran a government ID. */
const RECIPIENT_INQUIRIES: readonly SeedInquiry[] = [
  {
    status: 'approved',
    ...person('Chloé Martin', '1992-03-08'),
    ...contact('applicant-77', 'chloe.martin@example.com', '+33155550142'),
    ...address('8 Rue de Rivoli', 'Paris', 'Île-de-France', '75004', 'FR'),
    ageHours: 50,
    completedAfterMinutes: 5,
    steps: [governmentId('passed', 'id', 'FR')],
  },
  {
    status: 'created',
    ...person('Noah Williams'),
    referenceId: 'applicant-78',
    ageHours: 1,
    completedAfterMinutes: null,
    steps: [],
  },
];

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Adds the seeded inquiries of the owner and the recipient, created and finished counted back
 * from `start`, then the steps each ran: one account per inquiry, a government ID carrying its
 * person's name and birthdate.
 */
export function plantSeeds(
  registry: ObjectRegistry,
  owner: EmulatedOrganization,
  recipient: EmulatedOrganization,
  start: number,
): void {
  const seeds = [
    ...OWNER_INQUIRIES.map((seed) => ({ org: owner, seed })),
    ...RECIPIENT_INQUIRIES.map((seed) => ({ org: recipient, seed })),
  ];
  const planted = seeds.map(({ org, seed: { ageHours, completedAfterMinutes, steps, ...fields } }) => {
    const created = start - ageHours * 3_600_000;
    const completedAt = completedAfterMinutes === null ? null : iso(created + completedAfterMinutes * 60_000);
    return { org, steps, inquiry: registry.addInquiry(org.id, { ...fields, createdAt: iso(created), completedAt }) };
  });
  for (const { org, steps, inquiry } of planted) {
    if (steps.length === 0) continue;
    const accountId = registry.newId('act_');
    const started = Date.parse(inquiry.createdAt) + 60_000;
    const at = (minutes: number | null): string | null => (minutes === null ? null : iso(started + minutes * 60_000));
    const { nameFirst, nameLast, birthdate = null } = inquiry;
    for (const { submittedAfterMinutes, completedAfterMinutes, ...fields } of steps) {
      registry.addVerification(org.id, {
        ...fields,
        ...(fields.type === 'government-id' ? { nameFirst, nameLast, birthdate } : {}),
        inquiryId: inquiry.id,
        accountId,
        createdAt: iso(started),
        submittedAt: at(submittedAfterMinutes),
        completedAt: at(completedAfterMinutes),
      });
    }
  }
}
