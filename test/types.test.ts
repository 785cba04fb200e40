// The published types as a strict TypeScript app sees them: test/fixtures/strict-app is
// type-checked against the built package (imported by its own name, which resolves through
// package.json `exports` to dist/), with the options `tsc --init` writes. Needs dist/ (`npm test`
// builds it first).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { distFile } from './helpers/build.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

beforeAll(() => {
  distFile('esm/index.d.ts'); // built by the global setup (test/setup/build.ts)
});

describe('the published types in a strict app', () => {
  it('requireScope needs no type argument and keeps req as Express types it; returnTo and req.authInfo are typed', async () => {
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, [tsc, '-p', 'test/fixtures/strict-app'], { cwd: root }, (_error, stdout, stderr) =>
        resolve(`${stdout}${stderr}`),
      );
    });
    expect(output.trim()).toBe('');
  }, 60_000);
});
