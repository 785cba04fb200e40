import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClock } from '../../../src/testing/clock.js';
import { createPipelineState, type PipelineState } from '../../../src/testing/pipeline.js';
import { seededRandom } from '../../../src/testing/random.js';
import { ObjectRegistry } from '../../../src/testing/registry.js';
import { readSettings } from '../../../src/testing/settings.js';
import type { EmulatedOrganization, PersonaEmulatorOptions } from '../../../src/testing/types.js';

/** The emulator's state without its server: a frozen clock, an owner with two inquiries and a verification, a recipient with an inquiry. */
export interface World {
  state: PipelineState;
  owner: EmulatedOrganization;
  recipient: EmulatedOrganization;
}

export function world(options: PersonaEmulatorOptions = {}): World {
  const settings = readSettings({ now: Date.UTC(2025, 0, 1), ...options });
  const clock = createClock(settings.start, true);
  const registry = new ObjectRegistry(seededRandom('modules'), clock);
  const owner = registry.addOrganization({ name: 'Owner' });
  const recipient = registry.addOrganization({ name: 'Recipient' });
  registry.addInquiry(owner.id, { id: 'inq_owner1' });
  registry.addInquiry(owner.id, { id: 'inq_owner2' });
  registry.addInquiry(recipient.id, { id: 'inq_recipient1' });
  registry.addVerification(owner.id, { id: 'ver_owner1', inquiryId: 'inq_owner1' });
  const state = createPipelineState(registry, clock, settings, 'env_modules');
  return { state, owner, recipient };
}

/** The parts of a request the pipeline reads: method, URL and headers. */
export function fakeRequest(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method, url, headers: lower } as unknown as IncomingMessage;
}

/** A bare HTTP server on loopback running `handler`; `close()` ends it and every connection. */
export async function loopbackServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
