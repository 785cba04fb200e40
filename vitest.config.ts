// `npm test`: every suite except the slow ones listed in test/setup/suites.ts, which
// `npm run test:all` (vitest.all.config.ts) adds. Hermetic: loopback only, no registry.
import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';
import { SLOW_SUITES } from './test/setup/suites.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...SLOW_SUITES],
    globalSetup: ['test/setup/build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: one worker on two cores, so a file
    // waiting on a deadline, a socket or a child process leaves both idle. Two at least.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Each worker process loads the sources once for all the files it runs, instead of once per
    // file: half the CPU of the quick run. Every suite sets up what it uses; `npm run test:all`
    // (CI) keeps each file in a fresh module registry, so a file that leans on another's state
    // still fails there.
    isolate: false,
  },
});
