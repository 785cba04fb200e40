// Vitest global setup: builds dist/ once, before any test, when part of it is missing (see
// test/helpers/build.ts). `npm test` has built it already, so this is then a no-op.
import { ensureBuilt } from '../helpers/build.js';

export default function setup(): void {
  ensureBuilt();
}
