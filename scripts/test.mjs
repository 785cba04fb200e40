// `npm test` and `npm run test:all`: build dist/ (the tests load the package as users do), then
// type-check the sources, the tests and the sample app against the build (scripts/typecheck.mjs)
// and run Vitest, side by side: the type-check is single-threaded and runs at a lower priority,
// in the time Vitest's workers wait on sockets and child processes, so on two cores this takes
// about the time of Vitest alone. Exits non-zero when either fails; a type error is printed after
// Vitest's report.
//   node scripts/test.mjs            the quick suites (vitest.config.ts)
//   node scripts/test.mjs --all      every suite (vitest.all.config.ts), what CI runs
//   node scripts/test.mjs -- <args>  extra arguments for Vitest (a file, -t <name>, …)
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { getPriority, setPriority } from 'node:os';

const require = createRequire(import.meta.url);
const vitest = require.resolve('vitest/package.json').replace(/package\.json$/, 'vitest.mjs');

const args = process.argv.slice(2);
const all = args.includes('--all');
const passThrough = args.includes('--') ? args.slice(args.indexOf('--') + 1) : [];

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });

/**
 * Runs a node program; resolves to its exit code and, when `quiet`, what it printed. A `background`
 * program runs at a lower priority: it takes the time Vitest's workers leave idle, and leaves the
 * cores to the tests first (some measure deadlines in milliseconds).
 */
function run(name, argv, { quiet = false, background = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (background && child.pid !== undefined) {
      try {
        setPriority(child.pid, Math.min(getPriority() + 10, 19)); // ten steps below this process
      } catch {
        // It already ended, or the system refuses: it runs at the normal priority.
      }
    }
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
  run('the type-check (scripts/typecheck.mjs)', ['scripts/typecheck.mjs'], { quiet: true, background: true }),
  run('vitest', [vitest, 'run', ...(all ? ['--config', 'vitest.all.config.ts'] : []), ...passThrough]),
]);

let failed = false;
for (const { name, code, output } of results) {
  if (code === 0) continue;
  failed = true;
  console.error(`\n${name} failed (exit code ${code})${output ? `:\n${output}` : ''}`);
}
process.exitCode = failed ? 1 : 0;
