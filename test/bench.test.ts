// The benchmark script runs end to end: every scenario, cut down to a fraction of a second per
// server, no warm-up and one sparse login, without errors, printing a line per server per scenario and
// ending with the goal line. It checks that the script works and what it prints, not the figures
// (those come from `npm run bench` on a quiet machine).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { distFile } from './helpers/build.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const written = ['bench/results.json', 'bench/results.svg', 'BENCHMARKS.md'].map((file) => path.join(root, file));

const SERVERS_BY_SCENARIO: Record<string, string[]> = {
  loopback: [
    'passport-withpersona',
    'passport-oauth2',
    'passport-dispatch',
    'passport-minimal',
    'express-inline',
    'node-http-inline',
  ],
  'tls-50': ['passport-withpersona', 'passport-oauth2', 'passport-dispatch'],
  'tls-500': ['passport-withpersona', 'passport-oauth2', 'passport-dispatch'],
  sparse: ['passport-withpersona', 'passport-oauth2', 'passport-dispatch'],
  readme: ['readme-withpersona', 'readme-oauth2', 'readme-dispatch', 'readme-https'],
};
const GOALS = [
  'loopback CPU/login ÷ dispatch\\(\\) floor',
  'loopback logins/s ÷ passport-oauth2',
  'TLS 500 logins/s ÷ passport-oauth2',
  'TLS 500 p99 ÷ passport-oauth2',
  'sparse p50',
  'sparse new handshakes/login',
  'TLS 50 server-added p50',
  'README setup logins/s ÷ passport-oauth2',
  'heap retained per login',
];

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
    distFile('esm/index.js'); // built by the global setup (test/setup/build.ts)
  });

  it('runs every scenario briefly with every login checked, and ends with the goal line', async () => {
    const before = written.map(snapshot);
    const outcome = await runBench(
      [
        ...['--rounds', '1', '--duration', '0.3', '--warmup', '0'],
        ...['--sparse-logins', '1', '--sparse-gap', '0.3', '--memory-logins', '200', '--no-write'],
      ],
      150_000,
    );
    const report = `exit ${outcome.code ?? outcome.signal}\n--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`;

    expect(outcome.code, report).toBe(0);
    expect(outcome.stderr, report).not.toMatch(/benchmark failed|Error/);
    expect(outcome.stdout, report).toMatch(/^(pinned: callback server on CPU \d+|not pinned: .+)/m);
    for (const [scenario, servers] of Object.entries(SERVERS_BY_SCENARIO)) {
      for (const name of servers) {
        const line = new RegExp(
          `^${scenario} round 1 ${name} +(\\d+|–) logins/s  p50 \\d+\\.\\d ms  p99 \\d+\\.\\d ms  ` +
            'CPU \\d+ µs/login  \\d+\\.\\d handshakes/1000$',
          'm',
        );
        expect(outcome.stdout, report).toMatch(line);
      }
    }
    expect(outcome.stdout, report).toMatch(/^memory passport-withpersona: -?\d+\.\d bytes retained per login/m);

    const last = outcome.stdout.trimEnd().split('\n').at(-1) ?? '';
    expect(last, report).toMatch(/^goals: /);
    for (const goal of GOALS)
      expect(last, report).toMatch(new RegExp(`${goal} -?\\d+\\.\\d+( ms| B)? \\(.+?\\) (holds|MISSED)`));
    // The sparse server keeps its connection: no new handshake, and this holds whatever the load.
    expect(last, report).toMatch(/sparse new handshakes\/login 0\.00 \(= 0\) holds/);

    // --no-write leaves the committed results alone.
    expect(written.map(snapshot)).toEqual(before);
  }, 180_000);

  it('measures another build beside the library in the same rounds with --variant, writing nothing', async () => {
    const before = written.map(snapshot);
    const outcome = await runBench(
      [
        ...['--scenarios', 'loopback', '--rounds', '1', '--duration', '0.3', '--warmup', '0'],
        ...['--memory-logins', '0', '--variant', `same=${root}`],
      ],
      120_000,
    );
    const report = `exit ${outcome.code ?? outcome.signal}\n--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`;
    expect(outcome.code, report).toBe(0);
    expect(outcome.stdout, report).toMatch(/^loopback round 1 passport-withpersona@same +\d+ logins\/s/m);
    // Its paired ratio row: passport-withpersona ÷ the variant, round by round.
    expect(outcome.stdout, report).toMatch(/^passport-withpersona@same +\d+ .* \d+\.\d\d \(/m);
    expect(outcome.stdout, report).toMatch(/results not written \(--quick, --no-write, --servers or --variant\)/);
    expect(written.map(snapshot)).toEqual(before);
  }, 150_000);

  it('refuses a --variant without a built library', async () => {
    const outcome = await runBench(['--variant', 'nothing=/nonexistent-build'], 30_000);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /--variant "nothing=\/nonexistent-build": want NAME=DIR with DIR\/dist\/esm\/index\.js built/,
    );
  });
});
