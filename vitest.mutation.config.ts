import { defineConfig } from 'vitest/config';

// The tests `npm run mutation` runs against each mutant: the unit and property tests of the
// core and the integration tests over real HTTP on loopback. Not the emulator's own suites,
// the sample app, the browser or the package-level tests: they exercise src/ only through
// dist/ or not at all, so no mutant of src/ can fail them.
//
// MUTATION_TESTS (comma-separated globs) runs fewer: for a file nearly every test reaches
// (errors.ts), where the whole set takes hours. Fewer tests kill no more mutants, so the score
// it gives is a lower bound of the whole set's.
const DEFAULT = ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/integration/**/*.test.ts'];
const narrowed = process.env.MUTATION_TESTS?.split(',').filter((glob) => glob !== '');

export default defineConfig({
  test: {
    include: narrowed && narrowed.length > 0 ? narrowed : DEFAULT,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
