// `npm test` and `npm run test:all`: build dist/ (the tests load the package as users do), then
// type-check the sources, the tests and the sample app against the build (scripts/typecheck.mjs)
// and run Vitest, side by side: the type-check is single-threaded and Vitest often waits on
// sockets and child processes, so on two cores this takes about the time of Vitest alone. Exits
// non-zero when either fails; a type error is printed after Vitest's report.
//   node scripts/test.mjs            the quick suites (vitest.config.ts)
//   node scripts/test.mjs --all      every suite (vitest.all.config.ts), what CI runs
//   node scripts/test.mjs -- <args>  extra arguments for Vitest (a file, -t <name>, …)
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const vitest = require.resolve('vitest/package.json').replace(/package\.json$/, 'vitest.mjs');

const args = process.argv.slice(2);
const all = args.includes('--all');
const passThrough = args.includes('--') ? args.slice(args.indexOf('--') + 1) : [];

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

/** Runs a node program; resolves to its exit code and, when `quiet`, what it printed. */
function run(name, argv, quiet) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), output }));
  });
}

const results = await Promise.all([
  run('the type-check (scripts/typecheck.mjs)', ['scripts/typecheck.mjs'], true),
  run('vitest', [vitest, 'run', ...(all ? ['--config', 'vitest.all.config.ts'] : []), ...passThrough], false),
]);

let failed = false;
for (const { name, code, output } of results) {
  if (code === 0) continue;
  failed = true;
  console.error(`\n${name} failed (exit code ${code})${output ? `:\n${output}` : ''}`);
}
process.exitCode = failed ? 1 : 0;
