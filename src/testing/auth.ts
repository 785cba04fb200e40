import type { GrantStore, TokenRecord } from './grants.js';
import type { ObjectRegistry } from './registry.js';
import type { Refusal } from './scope-check.js';
import type { EmulatedOrganization } from './types.js';

/** Who a request acts as: an organisation through its API key, or through an access token it holds. */
export type Principal =
  | { kind: 'api-key'; credential: string; org: EmulatedOrganization }
  | { kind: 'access-token'; credential: string; org: EmulatedOrganization; token: TokenRecord };

const TITLE = 'Must be authenticated to access this endpoint';

/**
 * Reads `Authorization: Bearer <credential>`: an organisation's API key, or a live access token
 * (acting for the organisation it was issued to). Anything else is a 401 refusal.
 */
export function authenticate(
  header: string | undefined,
  registry: ObjectRegistry,
  grants: GrantStore,
  now: number,
): Principal | Refusal {
  const match = header === undefined ? null : /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  const credential = match?.[1];
  if (credential === undefined) {
    return { status: 401, error: { title: TITLE, details: 'Send Authorization: Bearer <API key or access token>' } };
  }
  const org = registry.byApiKey(credential);
  if (org) return { kind: 'api-key', credential, org };
  const token = grants.token(credential);
  if (token) {
    const holder = registry.organization(token.orgId);
    if (now >= token.expiresAt)
      return { status: 401, error: { title: TITLE, details: 'The access token has expired' } };
    if (holder) return { kind: 'access-token', credential, org: holder, token };
  }
  return { status: 401, error: { title: TITLE, details: 'The API key or access token is not valid' } };
}
