// The benchmark script runs end to end: a one-second, one-round run of all four servers and the
// memory figure, without errors, ending with the ratio line. It checks that the script works, not
// the numbers (those come from `npm run bench` on a quiet machine).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const written = [path.join(root, 'bench', 'results.json'), path.join(root, 'BENCHMARKS.md')];
const RATIO_LINE =
  /^ratio vs passport-oauth2: \d+\.\d\d; vs express-inline: \d+\.\d\d; p99 vs passport-oauth2: \d+\.\d\d$/;

function snapshot(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runBench(args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bench/run.mjs', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    // SIGTERM lets the runner stop its own child processes before it exits.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('bench/run.mjs', () => {
  beforeAll(() => {
    // `npm test` builds before vitest runs; build here only when run on its own without dist/.
    if (!existsSync(path.join(root, 'dist', 'esm', 'index.js'))) {
      execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    }
  }, 120_000);

  it('runs all four servers for a second with zero errors and ends with the ratio line', async () => {
    const before = written.map(snapshot);
    const outcome = await runBench(
      [
        '--duration',
        '1',
        '--rounds',
        '1',
        '--warmup',
        '1',
        '--connections',
        '10',
        '--memory-logins',
        '500',
        '--no-write',
      ],
      90_000,
    );
    const report = `exit ${outcome.code ?? outcome.signal}\n--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`;

    expect(outcome.code, report).toBe(0);
    expect(outcome.stderr, report).not.toMatch(/benchmark failed|Error/);
    expect(outcome.stdout, report).toMatch(/^checks: 0 errors, 0 timeouts, 0 non-2xx across [1-9]\d* requests$/m);
    for (const name of ['passport-withpersona', 'passport-oauth2', 'express-inline', 'node-http-inline']) {
      expect(outcome.stdout, report).toMatch(new RegExp(`^round 1 \\(\\d\\) ${name} +\\d+ req/s`, 'm'));
    }
    expect(outcome.stdout, report).toMatch(/^memory \(1\) passport-withpersona: -?\d+\.\d bytes retained per login/m);
    const lines = outcome.stdout.trimEnd().split('\n');
    expect(lines.at(-1), report).toMatch(RATIO_LINE);

    // --no-write leaves the committed results alone.
    expect(written.map(snapshot)).toEqual(before);
  }, 120_000);
});
