import { prefixedId, uuid, type RandomSource } from './random.js';
import { FINISHED_STATUSES, type SeedInquiry } from './seed-data.js';
import type { EmulatedInquiry, EmulatedOrganization, EmulatorClock } from './types.js';

const INQUIRY_ID = /^inq_[A-Za-z0-9]+$/;

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

  /** Adds an organisation. Throws TypeError on an empty or spaced API key, Error on one in use. */
  addOrganization(init: { name?: string; apiKey?: string } = {}): EmulatedOrganization {
    const apiKey = init.apiKey ?? `persona_sandbox_${uuid(this.random)}`;
    if (typeof apiKey !== 'string' || apiKey.trim() === '' || /\s/.test(apiKey)) {
      throw new TypeError('apiKey must be a non-empty string without whitespace');
    }
    if (this.byApiKey(apiKey)) throw new Error('apiKey is already used by another organization');
    const org: EmulatedOrganization = {
      id: prefixedId(this.random, 'org_'),
      name: init.name ?? `Organization ${this.organizations.length + 1}`,
      apiKey,
      inquiries: [],
    };
    this.templates.set(org.id, prefixedId(this.random, 'itmpl_'));
    this.organizations.push(org);
    return org;
  }

  /** Adds an inquiry to an organisation. Throws on an unknown organisation or a bad or taken id. */
  addInquiry(orgId: string, init: Partial<EmulatedInquiry> = {}): EmulatedInquiry {
    const org = this.organization(orgId);
    if (!org) throw new Error(`no organization ${String(orgId)}`);
    const id = init.id ?? prefixedId(this.random, 'inq_');
    if (typeof id !== 'string' || !INQUIRY_ID.test(id))
      throw new TypeError('an inquiry id must look like inq_<letters and digits>');
    if (this.findInquiry(id)) throw new Error(`inquiry ${id} already exists`);
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

  organization(id: string): EmulatedOrganization | undefined {
    return this.organizations.find((org) => org.id === id);
  }

  byApiKey(apiKey: string): EmulatedOrganization | undefined {
    return this.organizations.find((org) => org.apiKey === apiKey);
  }

  findInquiry(id: string): { org: EmulatedOrganization; inquiry: EmulatedInquiry } | undefined {
    for (const org of this.organizations) {
      const inquiry = org.inquiries.find((candidate) => candidate.id === id);
      if (inquiry) return { org, inquiry };
    }
    return undefined;
  }
}
