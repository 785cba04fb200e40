// Which test files `npm test` leaves to `npm run test:all` (and so to CI, which runs everything):
// the ones that take long, need a program from outside npm, or reach the registry.
export const SLOW_SUITES = [
  // packs the checkout and installs the tarball into ES-module, CommonJS, TypeScript 5 and 7
  // consumers (typescript@7 and the consumers' dependencies come from the registry or npm's cache)
  'test/packaging.test.ts',
  // the sample app in Chromium
  'test/e2e/**',
  // two sample-app instances sharing sessions through redis-server
  'test/example-app/redis.test.ts',
  // short runs of the benchmark and of the load test (they check the scripts, not the figures)
  'test/bench.test.ts',
  'test/load.test.ts',
  // every code block of the README and of the docs it checks, compiled in an ES-module and a
  // CommonJS project and run (a child Vitest, a Node process per program, the Quickstart as a
  // server): about a sixth of the quick run's CPU. After editing them, run it on its own:
  // npx vitest run test/readme.test.ts
  'test/readme.test.ts',
];
