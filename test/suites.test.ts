// What each run covers: `npm run test:all` (vitest.all.config.ts, what CI runs) every test file of
// the repository, and `npm test` (vitest.config.ts) all but the slow suites of
// test/setup/suites.ts, each of which still names a file. Asked of Vitest itself: the files each
// configuration would run.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createVitest } from 'vitest/node';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/build.js';
import { SLOW_SUITES } from './setup/suites.js';

/** Every `*.test.ts` under test/, relative to the repository's root. */
function testFiles(): string[] {
  return readdirSync(join(ROOT, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => join('test', file).replace(/\\/g, '/'))
    .sort();
}

/** The test files a configuration runs, as Vitest lists them, without running any. */
async function filesRunBy(config: string): Promise<string[]> {
  const vitest = await createVitest('test', { config: join(ROOT, config), root: ROOT, watch: false }, {}, {});
  try {
    const specifications = await vitest.globTestSpecifications();
    return specifications.map((spec) => relative(ROOT, spec.moduleId).replace(/\\/g, '/')).sort();
  } finally {
    await vitest.close();
  }
}

describe('the test runs', () => {
  it('npm run test:all runs every test file', async () => {
    const all = testFiles();
    expect(all.length).toBeGreaterThan(50);
    expect(await filesRunBy('vitest.all.config.ts')).toEqual(all);
  });

  it('npm test runs every test file but the slow suites, each of which names at least one', async () => {
    const quick = await filesRunBy('vitest.config.ts');
    const left = testFiles().filter((file) => !quick.includes(file));
    expect(quick.length).toBeGreaterThan(50);
    for (const pattern of SLOW_SUITES) {
      const prefix = pattern.replace(/\*\*$/, '');
      const named = left.filter((file) => (pattern.endsWith('**') ? file.startsWith(prefix) : file === pattern));
      expect(named, `${pattern} in test/setup/suites.ts names no test file`).not.toEqual([]);
    }
    const unnamed = left.filter((file) =>
      SLOW_SUITES.every((pattern) =>
        pattern.endsWith('**') ? !file.startsWith(pattern.slice(0, -2)) : file !== pattern,
      ),
    );
    expect(unnamed, 'left out of npm test without being listed in test/setup/suites.ts').toEqual([]);
  });
});
