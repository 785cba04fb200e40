import type { EmulatedOrganization, EmulatorEndpoint } from './types.js';

/**
 * A kind of object the emulator holds and shares: where its retrieval endpoint lives, which
 * permission reads it, and how it looks as Persona's JSON:API document.
 */
export interface ObjectType {
  /** The resource of its permissions: `inquiry` in `inquiry.read`. */
  readonly resource: string;
  /** The prefix of its ids: `inq_`. */
  readonly idPrefix: string;
  /** Its retrieval path under `/api/v1/`: `inquiries`. */
  readonly path: string;
  /** The endpoint name faults attach to. */
  readonly endpoint: EmulatorEndpoint;
  /** Its name in error messages: `Inquiry`. */
  readonly label: string;
  /** True when `org` holds an object `id` of this type. */
  holds(org: EmulatedOrganization, id: string): boolean;
  /** Object `id` of `org` as a JSON:API document (keys in kebab-case), or undefined when `org` holds none. */
  document(org: EmulatedOrganization, id: string): unknown;
}

/** What describes an object type: {@link ObjectType} with its objects and document typed. */
export interface ObjectTypeSpec<T extends { id: string }> extends Omit<ObjectType, 'holds' | 'document'> {
  /** The objects of this type an organisation holds (live). */
  objects(org: EmulatedOrganization): readonly T[];
  /** One object as Persona's JSON:API document, keys in kebab-case. */
  document(object: T, org: EmulatedOrganization): unknown;
}

/** Builds an {@link ObjectType} from its spec. */
export function defineObjectType<T extends { id: string }>(spec: ObjectTypeSpec<T>): ObjectType {
  const find = (org: EmulatedOrganization, id: string): T | undefined => spec.objects(org).find((o) => o.id === id);
  return {
    resource: spec.resource,
    idPrefix: spec.idPrefix,
    path: spec.path,
    endpoint: spec.endpoint,
    label: spec.label,
    holds: (org, id) => find(org, id) !== undefined,
    document: (org, id) => {
      const object = find(org, id);
      return object === undefined ? undefined : spec.document(object, org);
    },
  };
}
