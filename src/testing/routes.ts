import type { ObjectType } from './object-type.js';
import { OBJECT_TYPES } from './object-types.js';
import type { EmulatorEndpoint } from './types.js';

/** What a request path names: an emulated endpoint and the methods it takes, or nothing (`other`). */
export interface Route {
  endpoint: EmulatorEndpoint | 'other';
  methods: readonly string[];
  /** The object type of a retrieval path (`/api/v1/inquiries/:id`). */
  objectType?: ObjectType;
  /** The object id of a retrieval path, percent-decoded. */
  objectId?: string;
}

/** A path that names no endpoint. */
export const NO_ROUTE: Route = Object.freeze({ endpoint: 'other', methods: Object.freeze([]) });

const RETRIEVAL = /^\/api\/v1\/([a-z-]+)\/([^/]+)$/;

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    // A malformed escape is simply an id that matches nothing.
    return raw;
  }
}

/** Matches a path (no query string) to the endpoint it names. */
export function matchRoute(pathname: string): Route {
  if (pathname === '/api/v1/oauth/authorize') return { endpoint: 'authorize', methods: ['POST'] };
  if (pathname === '/api/v1/oauth/token') return { endpoint: 'token', methods: ['POST'] };
  const retrieval = RETRIEVAL.exec(pathname);
  const objectType = OBJECT_TYPES.find((type) => type.path === retrieval?.[1]);
  if (objectType && retrieval?.[2] !== undefined) {
    return { endpoint: objectType.endpoint, methods: ['GET'], objectType, objectId: decodeId(retrieval[2]) };
  }
  return NO_ROUTE;
}

/** The path of a request target, or undefined when the target is not a URL path at all. */
export function pathnameOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://emulator.invalid').pathname;
  } catch {
    return undefined;
  }
}
