import { prefixedId, uuid, type RandomSource } from './random.js';
import { objectTypeOf } from './object-types.js';
import { FINISHED_STATUSES, type SeedInquiry, type SeedVerification } from './seed-data.js';
import type {
  EmulatedInquiry,
  EmulatedOrganization,
  EmulatedVerification,
  EmulatorClock,
  OrganizationInit,
} from './types.js';

/**
 * The emulated organisations and the objects they hold. Organisation and inquiry objects are
 * handed out live: a change a test makes to one shows in the next answer.
 */
export class ObjectRegistry {
  readonly organizations: EmulatedOrganization[] = [];
  private readonly templates = new Map<string, string>();

  constructor(
    private readonly random: RandomSource,
    private readonly clock: EmulatorClock,
  ) {}

  /**
   * Adds an organisation. Throws TypeError on an empty or spaced API key, a key rate limit that
   * is not a positive integer or an unknown inflection; Error on an API key in use.
   */
  addOrganization(init: OrganizationInit = {}): EmulatedOrganization {
    const apiKey = init.apiKey ?? `persona_sandbox_${uuid(this.random)}`;
    if (typeof apiKey !== 'string' || apiKey.trim() === '' || /\s/.test(apiKey)) {
      throw new TypeError('apiKey must be a non-empty string without whitespace');
    }
    if (this.byApiKey(apiKey)) throw new Error('apiKey is already used by another organization');
    const { apiKeyRateLimit, apiKeyInflection } = init;
    if (apiKeyRateLimit !== undefined && (!Number.isInteger(apiKeyRateLimit) || apiKeyRateLimit <= 0)) {
      throw new TypeError('apiKeyRateLimit must be a positive integer');
    }
    if (apiKeyInflection !== undefined && !['kebab', 'snake', 'camel'].includes(apiKeyInflection)) {
      throw new TypeError('apiKeyInflection must be kebab, snake or camel');
    }
    const org: EmulatedOrganization = {
      id: prefixedId(this.random, 'org_'),
      name: init.name ?? `Organization ${this.organizations.length + 1}`,
      apiKey,
      ...(apiKeyRateLimit === undefined ? {} : { apiKeyRateLimit }),
      ...(apiKeyInflection === undefined ? {} : { apiKeyInflection }),
      inquiries: [],
      verifications: [],
    };
    this.templates.set(org.id, prefixedId(this.random, 'itmpl_'));
    this.organizations.push(org);
    return org;
  }

  /** Adds an inquiry to an organisation. Throws on an unknown organisation or a bad or taken id. */
  addInquiry(orgId: string, init: Partial<EmulatedInquiry> = {}): EmulatedInquiry {
    const { org, id } = this.placeFor(orgId, init.id, 'inq_', 'inquiry');
    const status = init.status ?? 'approved';
    const createdAt = init.createdAt ?? new Date(this.clock.now()).toISOString();
    const inquiry: EmulatedInquiry = {
      id,
      status,
      nameFirst: init.nameFirst ?? 'Alex',
      nameMiddle: init.nameMiddle ?? null,
      nameLast: init.nameLast ?? 'Rivera',
      birthdate: init.birthdate ?? null,
      referenceId: init.referenceId ?? null,
      emailAddress: init.emailAddress ?? null,
      phoneNumber: init.phoneNumber ?? null,
      addressStreet1: init.addressStreet1 ?? null,
      addressCity: init.addressCity ?? null,
      addressSubdivision: init.addressSubdivision ?? null,
      addressPostalCode: init.addressPostalCode ?? null,
      addressCountryCode: init.addressCountryCode ?? null,
      createdAt,
      completedAt: init.completedAt !== undefined ? init.completedAt : FINISHED_STATUSES.has(status) ? createdAt : null,
      tags: init.tags ? [...init.tags] : [],
      inquiryTemplateId: init.inquiryTemplateId ?? this.templates.get(org.id) ?? prefixedId(this.random, 'itmpl_'),
    };
    org.inquiries.push(inquiry);
    return inquiry;
  }

  /** Adds a seeded inquiry, its times counted back from `start`. */
  seedInquiry(org: EmulatedOrganization, seed: SeedInquiry, start: number): void {
    const { ageHours, completedAfterMinutes, ...fields } = seed;
    const created = start - ageHours * 3_600_000;
    this.addInquiry(org.id, {
      ...fields,
      tags: [...(fields.tags ?? [])],
      createdAt: new Date(created).toISOString(),
      completedAt:
        completedAfterMinutes === null ? null : new Date(created + completedAfterMinutes * 60_000).toISOString(),
    });
  }

  /**
   * Adds a verification to an organisation: by default a passed `government-id` verification
   * on its own, created now. Throws on an unknown organisation, a bad or taken id, or an
   * `inquiryId` the organisation does not hold.
   */
  addVerification(orgId: string, init: Partial<EmulatedVerification> = {}): EmulatedVerification {
    const { org, id } = this.placeFor(orgId, init.id, 'ver_', 'verification');
    const inquiryId = init.inquiryId ?? null;
    if (inquiryId !== null && !org.inquiries.some((inquiry) => inquiry.id === inquiryId)) {
      throw new Error(`inquiry ${String(inquiryId)} is not one of ${org.id}'s inquiries`);
    }
    const type = init.type ?? 'government-id';
    if (typeof type !== 'string' || !/^[a-z][a-z-]*$/.test(type)) {
      throw new TypeError('a verification type must be lower-case words joined by -, e.g. government-id');
    }
    const status = init.status ?? 'passed';
    const createdAt = init.createdAt ?? new Date(this.clock.now()).toISOString();
    const finished = ['passed', 'failed', 'requires_retry'].includes(status);
    const verification: EmulatedVerification = {
      ...init,
      id,
      type,
      status,
      inquiryId,
      createdAt,
      submittedAt: init.submittedAt !== undefined ? init.submittedAt : finished ? createdAt : null,
      completedAt: init.completedAt !== undefined ? init.completedAt : finished ? createdAt : null,
      countryCode: init.countryCode ?? null,
      checks: (init.checks ?? []).map((check) => ({ ...check, reasons: [...check.reasons] })),
    };
    org.verifications.push(verification);
    return verification;
  }

  /** Adds a seeded verification to one of `org`'s inquiries, its times counted from the inquiry's creation. */
  seedVerification(org: EmulatedOrganization, seed: SeedVerification): void {
    const { inquiryIndex, submittedAfterMinutes, completedAfterMinutes, ...fields } = seed;
    const inquiry = org.inquiries[inquiryIndex];
    if (!inquiry) throw new Error(`seed: ${org.name} has no inquiry #${inquiryIndex}`);
    const created = Date.parse(inquiry.createdAt) + 60_000;
    const at = (minutes: number | null): string | null =>
      minutes === null ? null : new Date(created + minutes * 60_000).toISOString();
    this.addVerification(org.id, {
      ...fields,
      inquiryId: inquiry.id,
      createdAt: new Date(created).toISOString(),
      submittedAt: at(submittedAfterMinutes),
      completedAt: at(completedAfterMinutes),
      ...(fields.type === 'government-id'
        ? { nameFirst: inquiry.nameFirst, nameLast: inquiry.nameLast, birthdate: inquiry.birthdate ?? null }
        : {}),
    });
  }

  /**
   * The organisation a new object goes to and the object's id (given, or a fresh one with
   * `prefix`). Throws on an unknown organisation, or an id that is malformed or already taken.
   */
  private placeFor(
    orgId: string,
    given: string | undefined,
    prefix: 'inq_' | 'ver_',
    noun: string,
  ): { org: EmulatedOrganization; id: string } {
    const org = this.organization(orgId);
    if (!org) throw new Error(`no organization ${String(orgId)}`);
    const id = given ?? prefixedId(this.random, prefix);
    if (typeof id !== 'string' || !new RegExp(`^${prefix}[A-Za-z0-9]+$`).test(id)) {
      throw new TypeError(`${noun} ids look like ${prefix}<letters and digits>, not ${JSON.stringify(id)}`);
    }
    if (this.holdsAnywhere(id)) throw new Error(`${noun} ${id} already exists`);
    return { org, id };
  }

  organization(id: string): EmulatedOrganization | undefined {
    return this.organizations.find((org) => org.id === id);
  }

  byApiKey(apiKey: string): EmulatedOrganization | undefined {
    return this.organizations.find((org) => org.apiKey === apiKey);
  }

  /** True when any organisation holds an object (of any type) with this id. */
  holdsAnywhere(id: string): boolean {
    const type = objectTypeOf(id);
    return type !== undefined && this.organizations.some((org) => type.holds(org, id));
  }
}
