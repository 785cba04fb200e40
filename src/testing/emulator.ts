import { FaultBoard } from './faults.js';
import { IdempotencyStore, RateLimiter } from './limits.js';
import { ObjectRegistry } from './objects.js';
import { createAuthorizationDirect, GrantStore } from './oauth.js';
import type { EmulatorState } from './pipeline.js';
import { plantSeeds } from './seed-data.js';
import { EmulatorServer } from './server.js';
import { createClock, prefixedId, readSettings, secureRandom, seededRandom } from './settings.js';
import type { PersonaEmulator, PersonaEmulatorOptions } from './types.js';

/**
 * Starts a Persona emulator: a real HTTP server (127.0.0.1, a free port unless told otherwise)
 * speaking Persona's OAuth endpoints, `GET /api/v1/inquiries/:id` and `GET /api/v1/verifications/:id`,
 * seeded with an owner organisation (six inquiries and the eleven verifications they ran) and a
 * recipient (two inquiries and a verification of its own). Resolves once it listens; rejects with a
 * RangeError on an invalid option (TypeError on a `personaVersions` entry that is not a date), or
 * with the listen error when the port cannot be bound.
 */
export async function startPersonaEmulator(options: PersonaEmulatorOptions = {}): Promise<PersonaEmulator> {
  const settings = readSettings(options);
  const clock = createClock(settings.start, settings.freezeClock);
  const dataRandom = options.seed === undefined ? secureRandom : seededRandom(options.seed);
  const environmentId = prefixedId(dataRandom, 'env_');
  const registry = new ObjectRegistry(dataRandom, clock);
  const owner = registry.addOrganization({ name: 'Northwind Identity' });
  const recipient = registry.addOrganization({ name: 'Contoso Lending' });
  plantSeeds(registry, owner, recipient, settings.start);
  const state: EmulatorState = {
    settings,
    environmentId,
    clock,
    registry,
    grants: new GrantStore(settings.codeTtlMs, settings.tokenTtlMs),
    rateLimiter: new RateLimiter(settings.rateLimit),
    idempotency: new IdempotencyStore(settings.idempotencyTtlMs, clock),
    faults: new FaultBoard(),
  };
  const server = new EmulatorServer(state);
  await server.listen(settings.port, settings.host);
  return {
    url: server.url,
    environmentId,
    owner,
    recipient,
    get organizations() {
      return registry.organizations;
    },
    addOrganization: (init = {}) => registry.addOrganization(init),
    addInquiry: (orgId, init = {}) => registry.addInquiry(orgId, init),
    addVerification: (orgId, init = {}) => registry.addVerification(orgId, init),
    createAuthorization: (init) => createAuthorizationDirect(state, init, owner.id, recipient.id),
    clock,
    setFault: (endpoint, fault, options = {}) => state.faults.set(endpoint, fault, options.times),
    clearFaults: () => state.faults.clear(),
    requests: server.requests,
    resetRateLimit: () => state.rateLimiter.reset(),
    close: () => server.close(),
  };
}
