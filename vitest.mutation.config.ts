import { defineConfig } from 'vitest/config';

// The tests `npm run mutation` runs against each mutant: the unit and property tests of the
// core and the integration tests over real HTTP on loopback. Not the emulator's own suites,
// the sample app, the browser or the package-level tests: they exercise src/ only through
// dist/ or not at all, so no mutant of src/ can fail them.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/integration/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
