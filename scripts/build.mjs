// Builds dist/esm (ES modules) and dist/cjs (CommonJS), both with declaration files.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
// The two halves are independent compilations: side by side, each on its own core.
const compiled = await Promise.allSettled(
  ['tsconfig.build.json', 'tsconfig.cjs.json'].map((project) =>
    promisify(execFile)(process.execPath, [tsc, '-p', project]),
  ),
);
const failures = compiled.filter((result) => result.status === 'rejected');
for (const failure of failures) {
  const { stdout = '', stderr = '', message } = failure.reason;
  console.error(stdout || stderr || message);
}
if (failures.length > 0) process.exit(1);
writeFileSync('dist/esm/package.json', '{\n  "type": "module"\n}\n');
writeFileSync('dist/cjs/package.json', '{\n  "type": "commonjs"\n}\n');
for (const cli of ['dist/esm/testing/cli.js', 'dist/cjs/testing/cli.js']) {
  if (existsSync(cli)) chmodSync(cli, 0o755);
}
