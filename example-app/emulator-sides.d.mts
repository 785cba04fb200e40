// Types of emulator-sides.mjs, for the TypeScript tests.
import type { PersonaEmulator } from '../src/testing/index.js';
import type { SampleAppOptions } from './app.mjs';

export function emulatorSides(
  emulator: PersonaEmulator,
  options?: { label?: string },
): Required<Pick<SampleAppOptions, 'persona' | 'owner'>>;
