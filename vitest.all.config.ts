// `npm run test:all` (what .ci/run calls): every suite, the slow ones of test/setup/suites.ts
// included, with the programs they need found (or, with PWP_REQUIRE_ALL=1, required) by
// test/setup/system-requirements.ts.
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude],
    globalSetup: ['test/setup/build.ts', 'test/setup/system-requirements.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
