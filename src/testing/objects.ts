import {
  errorResponse,
  inflectDeep,
  jsonResponse,
  kebabCase,
  type EmulatorResponse,
  type KeyInflection,
} from './http.js';
import { isPositiveInteger, prefixedId, uuid, type RandomSource } from './settings.js';
import type {
  EmulatedInquiry,
  EmulatedOrganization,
  EmulatedVerification,
  EmulatorClock,
  EmulatorEndpoint,
  OrganizationInit,
} from './types.js';

/** A JSON:API resource object as Persona answers it, keys in kebab-case. */
export interface Resource {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  relationships: Record<string, { data: unknown }>;
}

/**
 * A kind of object the emulator holds and shares. Routing (`GET /api/v1/<path>/:id`), scope
 * checks at Create Authorization, reads with an access token and faults follow from this one
 * description; docs/emulator.md lists what else a new type needs (its field on
 * {@link EmulatedOrganization}, its {@link EmulatorEndpoint} name, a handle method to add one).
 */
export interface ObjectType {
  /** The resource of its permissions (`inquiry` in `inquiry.read`), and the name of its endpoint. */
  readonly resource: Exclude<EmulatorEndpoint, 'authorize' | 'token'>;
  /** The prefix of its ids: `inq_`. */
  readonly idPrefix: string;
  /** Its retrieval path under `/api/v1/`: `inquiries`. */
  readonly path: string;
  /** Its name in error messages: `Inquiry`. */
  readonly label: string;
  /** Object `id` of `org` as a resource object, or undefined when `org` holds none. */
  find(org: EmulatedOrganization, id: string): Resource | undefined;
}

/** Statuses after which an inquiry has a completion time. */
const FINISHED_STATUSES = new Set(['completed', 'approved', 'declined', 'failed', 'needs_review']);

/** An inquiry's attribute fields, in the order Persona answers them (`nameFirst` as `name-first`). */
const INQUIRY_FIELDS = [
  'status',
  'referenceId',
  'nameFirst',
  'nameMiddle',
  'nameLast',
  'birthdate',
  'emailAddress',
  'phoneNumber',
  'addressStreet1',
  'addressCity',
  'addressSubdivision',
  'addressPostalCode',
  'addressCountryCode',
  'createdAt',
  'completedAt',
  'tags',
] as const;
/** A verification's: a subset of Persona's, those every type has, then those a government ID adds. */
const VERIFICATION_FIELDS = ['status', 'createdAt', 'submittedAt', 'completedAt', 'countryCode', 'checks'] as const;
const GOVERNMENT_ID_FIELDS = ['idClass', 'nameFirst', 'nameLast', 'birthdate'] as const;

/** The named fields of `object`, each null where it is unset (a list: empty). */
function pick<T extends object>(object: Partial<T>, fields: readonly (keyof T & string)[]): Record<string, unknown> {
  const list = (field: string): boolean => field === 'tags' || field === 'checks';
  return Object.fromEntries(fields.map((field) => [field, object[field] ?? (list(field) ? [] : null)]));
}

/** The named fields of `object` as kebab-case attributes, copied: a later change to it is not an answer's. */
function attributes<T extends object>(object: T, fields: readonly (keyof T & string)[]): Record<string, unknown> {
  return structuredClone(Object.fromEntries(Object.entries(pick(object, fields)).map(([k, v]) => [kebabCase(k), v])));
}

/** A to-one relationship: a reference, or null. */
const toOne = (type: string, id: string | null | undefined) => ({ data: id ? { type, id } : null });

function inquiryResource(inquiry: EmulatedInquiry, org: EmulatedOrganization): Resource {
  const verifications = org.verifications
    .filter((verification) => verification.inquiryId === inquiry.id)
    .map((verification) => ({ type: `verification/${verification.type}`, id: verification.id }));
  return {
    type: 'inquiry',
    id: inquiry.id,
    attributes: attributes(inquiry, INQUIRY_FIELDS),
    relationships: {
      'inquiry-template': toOne('inquiry-template', inquiry.inquiryTemplateId),
      reports: { data: [] },
      verifications: { data: verifications },
    },
  };
}

function verificationResource(verification: EmulatedVerification): Resource {
  const governmentId = verification.type === 'government-id';
  return {
    type: `verification/${verification.type}`,
    id: verification.id,
    attributes: attributes(verification, [...VERIFICATION_FIELDS, ...(governmentId ? GOVERNMENT_ID_FIELDS : [])]),
    relationships: {
      inquiry: toOne('inquiry', verification.inquiryId),
      account: toOne('account', verification.accountId),
    },
  };
}

/** Every object type the emulator shares; another is one more entry here (see {@link ObjectType}). */
export const OBJECT_TYPES: readonly ObjectType[] = Object.freeze([
  {
    resource: 'inquiry',
    idPrefix: 'inq_',
    path: 'inquiries',
    label: 'Inquiry',
    find(org: EmulatedOrganization, id: string) {
      const inquiry = org.inquiries.find((object) => object.id === id);
      return inquiry && inquiryResource(inquiry, org);
    },
  },
  {
    resource: 'verification',
    idPrefix: 'ver_',
    path: 'verifications',
    label: 'Verification',
    find(org: EmulatedOrganization, id: string) {
      const verification = org.verifications.find((object) => object.id === id);
      return verification && verificationResource(verification);
    },
  },
]);

/** The type whose ids start like `id` does, if any. */
export function objectTypeOf(id: string): ObjectType | undefined {
  return OBJECT_TYPES.find((type) => id.startsWith(type.idPrefix));
}

/**
 * `GET /api/v1/<type>/:id`. An API key reads its own organisation's objects; an access token
 * reads the objects its scope grants `<resource>.read` on, held by the organisation that shared
 * them, and gets 403 for any other id, existing or not, so the answer reveals nothing. The query
 * may ask for related resources (`include`) and fewer attributes (`fields[<type>]`).
 */
export function retrieveObject(
  registry: ObjectRegistry,
  type: ObjectType,
  id: string,
  reader: { org: EmulatedOrganization; token?: { ownerOrgId: string; scopes: readonly string[] } },
  query: URLSearchParams,
  inflection: KeyInflection,
): EmulatorResponse {
  const { token } = reader;
  if (token && !token.scopes.includes(`${type.resource}.read:${id}`)) {
    return errorResponse(403, 'Forbidden', `The access token's scope does not grant ${type.resource}.read on ${id}`);
  }
  const holder = token ? registry.organization(token.ownerOrgId) : reader.org;
  const data = holder && type.find(holder, id);
  if (!holder || !data) {
    return errorResponse(404, 'Record not found', `${type.label} ${id} was not found`);
  }
  const include = query.get('include');
  const paths = include === null || include.trim() === '' ? [] : include.split(',').map((p) => kebabCase(p.trim()));
  const unknown = paths.find((path) => !Object.hasOwn(data.relationships, path));
  if (unknown !== undefined) {
    const details = `include: ${JSON.stringify(unknown)} is not a relationship of ${data.type}`;
    return errorResponse(400, 'Bad Request', details, { pointer: '/include' });
  }
  const readable = (related: Resource): boolean =>
    !token || token.scopes.includes(`${objectTypeOf(related.id)?.resource}.read:${related.id}`);
  const ids = new Set(paths.flatMap((path) => referencedIds(data.relationships[path]?.data)));
  const included = [...ids]
    .map((relatedId) => objectTypeOf(relatedId)?.find(holder, relatedId))
    .filter((related): related is Resource => related !== undefined && readable(related));
  const sparse = sparseFieldsets(query);
  const document = { data: sparse(data), ...(include === null ? {} : { included: included.map(sparse) }) };
  return jsonResponse(200, inflectDeep(document, inflection));
}

/** The ids a relationship's `data` references: one, many or none. */
function referencedIds(data: unknown): string[] {
  const list: unknown[] = Array.isArray(data) ? data : data ? [data] : [];
  return list.map((ref) => (ref as { id?: unknown }).id).filter((id): id is string => typeof id === 'string');
}

/**
 * `fields[<type>]=a,b` as a function that keeps only those attributes of a resource of that type
 * (`fields[verification]` applies to every `verification/<kind>`). Names may come in any
 * inflection; names a resource does not have are ignored.
 */
function sparseFieldsets(query: URLSearchParams): (resource: Resource) => Resource {
  const wanted = new Map<string, Set<string>>();
  for (const [key, value] of query) {
    const type = /^fields\[([^\]]+)\]$/.exec(key)?.[1];
    if (type) wanted.set(type, new Set(value.split(',').map((name) => kebabCase(name.trim()))));
  }
  return (resource) => {
    const keep = wanted.get(resource.type) ?? wanted.get(resource.type.split('/')[0] ?? '');
    if (!keep) return resource;
    const attributes = Object.fromEntries(Object.entries(resource.attributes).filter(([name]) => keep.has(name)));
    return { ...resource, attributes };
  };
}

/**
 * The emulated organisations and the objects they hold, handed out live: a change a test makes
 * to one shows in the next answer.
 */
export class ObjectRegistry {
  readonly organizations: EmulatedOrganization[] = [];
  private readonly templates = new Map<string, string>();

  constructor(
    private readonly random: RandomSource,
    private readonly clock: EmulatorClock,
  ) {}

  /** The handle's `addOrganization`: TypeError on an invalid field, Error on an API key in use. */
  addOrganization(init: OrganizationInit = {}): EmulatedOrganization {
    const apiKey = init.apiKey ?? `persona_sandbox_${uuid(this.random)}`;
    if (typeof apiKey !== 'string' || apiKey.trim() === '' || /\s/.test(apiKey)) {
      throw new TypeError('apiKey must be a non-empty string without whitespace');
    }
    if (this.byApiKey(apiKey)) throw new Error('apiKey is already used by another organization');
    const { apiKeyRateLimit, apiKeyInflection } = init;
    if (apiKeyRateLimit !== undefined && !isPositiveInteger(apiKeyRateLimit)) {
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

  /** The handle's `addInquiry`: every field it is not told is null, or a realistic default. */
  addInquiry(orgId: string, init: Partial<EmulatedInquiry> = {}): EmulatedInquiry {
    const { org, id } = this.placeFor(orgId, init.id, 'inq_', 'inquiry');
    const status = init.status ?? 'approved';
    const createdAt = init.createdAt ?? new Date(this.clock.now()).toISOString();
    const inquiry: EmulatedInquiry = {
      id,
      ...pick(init, INQUIRY_FIELDS),
      status,
      nameFirst: init.nameFirst ?? 'Alex',
      nameLast: init.nameLast ?? 'Rivera',
      createdAt,
      completedAt: init.completedAt !== undefined ? init.completedAt : FINISHED_STATUSES.has(status) ? createdAt : null,
      tags: [...(init.tags ?? [])],
      inquiryTemplateId: init.inquiryTemplateId ?? this.templates.get(org.id) ?? prefixedId(this.random, 'itmpl_'),
    };
    org.inquiries.push(inquiry);
    return inquiry;
  }

  /** The handle's `addVerification`: by default a passed `government-id` on its own, created now. */
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
      accountId: init.accountId ?? null,
      checks: (init.checks ?? []).map((check) => ({ ...check, reasons: [...check.reasons] })),
    };
    org.verifications.push(verification);
    return verification;
  }

  /** A new id with this prefix, from the emulator's source of data ids. */
  newId(prefix: string): string {
    return prefixedId(this.random, prefix);
  }

  /** Where a new object goes and its id; throws on an unknown organisation or a malformed or taken id. */
  private placeFor(orgId: string, given: string | undefined, prefix: string, noun: string) {
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
    return type !== undefined && this.organizations.some((org) => type.find(org, id) !== undefined);
  }
}
