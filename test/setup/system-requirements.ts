// Vitest global setup: finds the two programs some suites need beyond Node and npm, a Chromium
// (test/e2e) and redis-server (test/example-app/redis.test.ts). A suite whose program is missing
// is skipped, and this prints one line saying what was skipped and what enables it, so `npm test`
// passes on a machine with only Node and npm. With PWP_REQUIRE_ALL=1 (set by .ci/run) a missing
// program fails the run instead: CI never skips.
import type { TestProject } from 'vitest/node';
import { findChromium, findProgram } from '../../example-app/chromium.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the browser for test/e2e comes from, or null when there is none (the suite skips). */
    chromium: string | null;
    /** The redis-server program to run, or null when there is none (the suite skips). */
    redisServer: string | null;
  }
}

/** The switch that turns a skipped suite into a failure. */
const REQUIRE_ALL = 'PWP_REQUIRE_ALL';

export default function setup(project: TestProject): void {
  const chromium = findChromium();
  // REDIS_SERVER: a path, or a name looked up on PATH.
  const redisServer = findProgram(process.env.REDIS_SERVER || 'redis-server');
  const skipped: string[] = [];
  if (!chromium) {
    skipped.push(
      'skipped test/e2e (the sample app in a browser): no Chromium found; to run it: npm ci on Linux x64, apt-get install chromium, or CHROMIUM_PATH=/path/to/chrome npm test',
    );
  }
  if (!redisServer) {
    skipped.push(
      'skipped test/example-app/redis.test.ts (sessions shared through Redis): no redis-server found; to run it: apt-get install redis-server (or brew install redis), or REDIS_SERVER=/path/to/redis-server npm test',
    );
  }
  for (const line of skipped) console.log(line);
  if (skipped.length > 0 && process.env[REQUIRE_ALL] === '1') {
    throw new Error(`${REQUIRE_ALL}=1: every suite must run, but ${skipped.length} would be skipped (see above)`);
  }
  project.provide('chromium', chromium?.source ?? null);
  project.provide('redisServer', redisServer ?? null);
}
