// StrykerJS configuration for `npm run mutation` (scripts/mutation.mjs runs it on Node ≥ 22).
// Not part of `npm test` or CI: one file takes minutes, the whole of src/ hours.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  coverageAnalysis: 'perTest',
  // Every file of src/ but the emulator, which has its own tests and is not what a user runs.
  mutate: ['src/**/*.ts', '!src/testing/**'],
  // The machine is shared: one test runner at a time.
  concurrency: 1,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { logTests: false },
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 90, low: 80, break: null },
};
