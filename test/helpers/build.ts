// The one place that decides whether the package's build (dist/) is there. Tests that load the
// package as a user gets it (through package.json `exports`, or dist/ by path) take their paths
// from here; the global setup (test/setup/build.ts) builds once before any test runs when a part
// is missing, so a targeted `npx vitest run test/types.test.ts` on a fresh clone works too.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory, with a trailing separator. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a complete build holds: each half's entry points, declarations and module-type marker. */
const BUILD_OUTPUTS = [
  'esm/package.json',
  'esm/index.js',
  'esm/index.d.ts',
  'esm/testing/index.js',
  'esm/testing/cli.js',
  'cjs/package.json',
  'cjs/index.js',
  'cjs/index.d.ts',
  'cjs/testing/index.js',
];

/** The build outputs that are missing (none after a complete `npm run build`). */
export function missingBuildOutputs(): string[] {
  return BUILD_OUTPUTS.filter((file) => !existsSync(join(ROOT, 'dist', file))).map((file) => `dist/${file}`);
}

/** Runs `npm run build`'s script when any build output is missing; a no-op otherwise. */
export function ensureBuilt(): void {
  const missing = missingBuildOutputs();
  if (missing.length === 0) return;
  console.log(`building dist/ first (missing: ${missing.join(', ')})`);
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * The absolute path of a file under dist/, e.g. `distFile('esm/index.js')`. Throws naming the
 * file and the fix when it is missing, instead of a later "Unexpected end of JSON input".
 */
export function distFile(relative: string): string {
  const path = join(ROOT, 'dist', relative);
  if (!existsSync(path)) throw new Error(`dist/${relative} is missing: run \`npm run build\` first`);
  return path;
}
