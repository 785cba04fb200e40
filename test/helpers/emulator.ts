import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';

/**
 * One emulator for the whole test file, handed to `use` once it listens; before each test its
 * faults, rate limit and request log are cleared, and it is closed after the file.
 */
export function useEmulator(use: (emulator: PersonaEmulator) => void): void {
  let emulator: PersonaEmulator | undefined;
  beforeAll(async () => {
    emulator = await startPersonaEmulator();
    use(emulator);
  });
  afterAll(async () => {
    await emulator?.close();
  });
  beforeEach(() => {
    emulator?.clearFaults();
    emulator?.resetRateLimit();
    if (emulator) emulator.requests.length = 0;
  });
}

/** Closes (and forgets) every strategy in `strategies` after each test. */
export function closeAfterEach(strategies: { close(): Promise<void> }[]): void {
  afterEach(async () => {
    await Promise.all(strategies.splice(0).map((s) => s.close()));
  });
}

/** The emulator's recorded requests to the token endpoint, oldest first. */
export function tokenRequests(emulator: PersonaEmulator): PersonaEmulator['requests'] {
  return emulator.requests.filter((r) => r.endpoint === 'token');
}

/** The first owner inquiry id (the seeded data always has one). */
export function firstInquiry(emulator: PersonaEmulator): string {
  const inquiry = emulator.owner.inquiries[0];
  if (!inquiry) throw new Error('the owner has no inquiries');
  return inquiry.id;
}

/** A code for `inquiry.read` on the owner's first inquiry, made without HTTP. */
export function readCode(emulator: PersonaEmulator, inquiryId = firstInquiry(emulator)): string {
  return emulator.createAuthorization({ scope: `inquiry.read:${inquiryId}` }).code;
}
