// Builds dist/esm (ES modules) and dist/cjs (CommonJS), both with declaration files.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

rmSync('dist', { recursive: true, force: true });
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
writeFileSync('dist/esm/package.json', '{\n  "type": "module"\n}\n');
writeFileSync('dist/cjs/package.json', '{\n  "type": "commonjs"\n}\n');
for (const cli of ['dist/esm/testing/cli.js', 'dist/cjs/testing/cli.js']) {
  if (existsSync(cli)) chmodSync(cli, 0o755);
}
