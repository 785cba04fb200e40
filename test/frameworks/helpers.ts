import type { PersonaEmulator } from '../../src/testing/index.js';

/** A signed-state secret for the framework tests (32 characters or more). */
export const SECRET = 'a signed-state secret for framework tests';

/** The `cookie` request header that echoes a response's `set-cookie` lines (cleared ones left out). */
export function cookieHeader(setCookie: string | string[] | undefined): string {
  return [setCookie ?? []]
    .flat()
    .filter((line) => !/;\s*max-age=0(;|$)/i.test(line))
    .map((line) => line.split(';')[0] ?? '')
    .join('; ');
}

/** Two of the owner's inquiry ids: the one a test shares, and one it does not. */
export function sharedAndOther(emulator: PersonaEmulator): [string, string] {
  const [shared, other] = emulator.owner.inquiries;
  if (!shared || !other) throw new Error('the emulator seeds at least two inquiries');
  return [shared.id, other.id];
}
