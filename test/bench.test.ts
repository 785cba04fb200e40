// The benchmark script runs end to end: every scenario, cut down to a fraction of a second per
// server, no warm-up and one sparse login, without errors, printing a line per server per scenario and
// ending with the goal line. It checks that the script works and what it prints, not the figures
// (those come from `npm run bench` on a quiet machine). The open-loop generator of the fixed-load
// scenario is checked against a server of known speed on loopback (its latencies must include the
// time a login waited for a connection), and its table and plot against synthetic rounds.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionPool, FLOWS, openLoop } from '../bench/load.mjs';
import { plotSvg } from '../bench/plot.mjs';
import { evaluateGoals, pairedRatios, summarizeServer, writeBenchmarksMd } from '../bench/report.mjs';
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
const FIXED_LOAD_SERVERS = ['passport-withpersona', 'passport-oauth2', 'passport-dispatch'];
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
        ...['--capacity-duration', '0.3'],
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
    expect(outcome.stdout, report).toMatch(
      /^fixed-load round 1 capacity of passport-oauth2: \d+ logins\/s \(500 connections, closed loop\); offering \d+ logins\/s$/m,
    );
    for (const name of FIXED_LOAD_SERVERS) {
      const line = new RegExp(
        `^fixed-load round 1 ${name} +\\d+ of \\d+ logins/s  p50 \\d+\\.\\d ms  p99 \\d+\\.\\d ms  ` +
          'p99\\.9 \\d+\\.\\d ms  0 failed  CPU \\d+ µs/login  \\d+ connections  sent late p99 \\d+\\.\\d ms$',
        'm',
      );
      expect(outcome.stdout, report).toMatch(line);
    }
    expect(outcome.stdout, report).toMatch(
      /^passport-oauth2's closed-loop capacity at 500 connections: \d+ logins\/s/m,
    );
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
    const profiles = mkdtempSync(path.join(os.tmpdir(), 'pwp-bench-profiles-'));
    const outcome = await runBench(
      [
        ...['--scenarios', 'loopback', '--rounds', '1', '--duration', '0.3', '--warmup', '0'],
        ...['--memory-logins', '0', '--variant', `same=${root}`, '--profile', profiles],
        ...['--servers', 'passport-withpersona'],
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

    // Each server's profile (--profile), summarised by bench/profile-summary.mjs: which build it
    // ran, the shares of its busy time, the library's files and its costliest functions.
    const summary = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['bench/profile-summary.mjs', profiles, '--functions', '2'], { cwd: root });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`exit ${code}: ${stdout}`))));
    });
    rmSync(profiles, { recursive: true, force: true });
    const heads = summary.match(/^\S+\.cpuprofile: .+, \d+\.\d s busy$/gm) ?? [];
    expect(heads, summary).toHaveLength(2);
    for (const head of heads) expect(head).toContain(`: ${root}, `);
    expect(
      summary.match(/^ {2}library \d+\.\d %, call internals \d+\.\d %, garbage collector \d+\.\d %$/gm),
    ).toHaveLength(2);
    expect(summary).toMatch(/^ {2}.*persona-http\.js \d+\.\d %/m);
    expect(summary).toMatch(/^ {4} +\d+\.\d % {2}\S+ [\w/-]+\.js:\d+$/m);
  }, 150_000);

  it('refuses a --load-fraction that is not a positive number', async () => {
    const outcome = await runBench(['--scenarios', 'fixed-load', '--load-fraction', '0'], 30_000);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/^--load-fraction must be a number > 0/);
  });

  it('refuses a --variant without a built library', async () => {
    const outcome = await runBench(['--variant', 'nothing=/nonexistent-build'], 30_000);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(
      /--variant "nothing=\/nonexistent-build": want NAME=DIR with DIR\/dist\/esm\/index\.js built/,
    );
  });
});

describe('the fixed-load open-loop generator (bench/load.mjs)', () => {
  const SERVICE_MS = 20;
  const codes: string[] = [];
  let server: http.Server;
  let port = 0;

  // A callback server of known speed: each login takes SERVICE_MS; a code ending in `fail`
  // answers 500.
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const code = new URL(req.url ?? '/', 'http://x').searchParams.get('code') ?? '';
      codes.push(code);
      setTimeout(() => {
        const status = code.endsWith('fail') ? 500 : 200;
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': '2' }).end('{}');
      }, SERVICE_MS);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function load(maxConnections: number, rate: number, seconds: number, codePrefix: string) {
    const pool = new ConnectionPool(port, maxConnections);
    try {
      return await openLoop({ pool, rate, seconds, flow: FLOWS.callback, codePrefix });
    } finally {
      pool.close();
    }
  }

  it('keeps to the schedule on idle keep-alive connections when the server keeps up', async () => {
    codes.length = 0;
    const result = await load(50, 100, 1, 'keepup_');
    expect(result.offered).toBe(100);
    expect(result.logins).toBe(100);
    expect(result.failures).toBe(0);
    // Every login reached the server with a code of its own.
    expect(new Set(codes).size).toBe(100);
    expect(result.p50).toBeGreaterThanOrEqual(SERVICE_MS);
    expect(result.p50).toBeLessThan(SERVICE_MS + 100);
    // About two logins in flight at a time: a few connections, not one per login.
    expect(result.connections).toBeGreaterThanOrEqual(2);
    expect(result.connections).toBeLessThan(50);
    expect(result.loginsPerSecond).toBeGreaterThan(80);
    expect(result.loginsPerSecond).toBeLessThanOrEqual(100);
  });

  it('counts the time a login waited for a connection (no coordinated omission)', async () => {
    // One connection, 100 logins/s offered, 50 served: login i waits for the i before it, so
    // the last one is due at 990 ms and answered at about 2,000 ms. Timed from its send, every
    // login would take SERVICE_MS.
    const result = await load(1, 100, 1, 'queue_');
    expect(result.connections).toBe(1);
    expect(result.logins).toBe(100);
    expect(result.p50).toBeGreaterThan(400);
    expect(result.p99).toBeGreaterThan(900);
    expect(result.loginsPerSecond).toBeLessThan(60);
  });

  it('counts failed logins without stopping, and carries on on a new connection', async () => {
    const flow = {
      requestsPerLogin: 1,
      login: (connection: unknown, code: string, validate: boolean) =>
        FLOWS.callback.login(connection, Number(code.split('_')[1]) % 10 === 0 ? `${code}fail` : code, validate),
    };
    const pool = new ConnectionPool(port, 2);
    try {
      const result = await openLoop({ pool, rate: 100, seconds: 0.5, flow, codePrefix: 'mixed_' });
      expect(result.failures).toBe(5);
      expect(result.logins).toBe(45);
      expect(result.firstFailure).toMatch(/^GET \/callback answered 500/);
    } finally {
      pool.close();
    }
  });
});

describe('the fixed-load figures in BENCHMARKS.md and the plot (bench/report.mjs, bench/plot.mjs)', () => {
  // Two rounds of three servers at one offered rate per round, as bench/run.mjs records them.
  const entry = (round: number, offered: number, p99: number, failures: number) => ({
    round,
    offeredPerSecond: offered,
    loginsPerSecond: offered - 5,
    p50: 31,
    p99,
    p999: p99 * 2,
    failures,
    firstFailure: failures ? 'GET /callback answered 500: {}' : null,
    cpuMicrosPerLogin: 250,
    handshakesPer1000: 0,
    resumedPer1000: 0,
    connections: 70,
    generatorLateP99: 0.5,
    logins: offered * 10,
    seconds: 10,
  });
  const servers = [
    summarizeServer('passport-withpersona', [entry(1, 2000, 40, 0), entry(2, 2200, 44, 0)]),
    summarizeServer('passport-oauth2', [entry(1, 2000, 80, 1), entry(2, 2200, 110, 2)]),
  ];
  const scenario = {
    id: 'fixed-load',
    title: "Fixed load: 70 % of passport-oauth2's capacity, open loop, TLS + 30 ms round trip",
    fixedLoad: {
      fraction: 0.7,
      capacityOf: 'passport-oauth2',
      capacityConnections: 500,
      capacity: [
        { round: 1, server: 'passport-oauth2', loginsPerSecond: 2857, offeredPerSecond: 2000 },
        { round: 2, server: 'passport-oauth2', loginsPerSecond: 3143, offeredPerSecond: 2200 },
      ],
    },
    servers,
    ratios: pairedRatios(servers),
  };
  const results = {
    date: '2026-12-03T00:00:00.000Z',
    command: 'node bench/run.mjs',
    machine: { cpuModel: 'test', nproc: 2, memoryGB: 1, os: 'test', node: 'v20' },
    library: { version: '0.0.0', commit: 'abc1234' },
    pinning: { pinned: false, reason: 'test' },
    options: { rounds: 2, duration: 10, warmup: 3, roundTripMs: 30, sparseLogins: 10, sparseGap: 6 },
    scenarios: [scenario],
    memory: [],
    goals: [] as unknown[],
  };
  results.goals = evaluateGoals(results);

  it('writes the offered and achieved rates, p99.9, the failed logins and the paired p99 ratios', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pwp-bench-md-'));
    const file = path.join(dir, 'BENCHMARKS.md');
    writeBenchmarksMd(file, { ...results, options: { ...results.options, loadFraction: 0.7, capacitySeconds: 3 } });
    const text = readFileSync(file, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    expect(text).toContain(
      "passport-oauth2's closed-loop capacity at 500 connections: 3000 logins/s (2857–3143 over the rounds)",
    );
    expect(text).toContain("fixed load: 0.7 × passport-oauth2's capacity, measured for 3 s");
    // Medians over the rounds; failed logins summed; passport-withpersona's p99 ÷ passport-oauth2's.
    expect(text).toContain(
      '| Express 5 + passport + passport-withpersona | 2100 | 2095 | 31.0 | 42.0 | 84.0 | 0 | 250 | 0.0 | 70 |  |  |  |',
    );
    expect(text).toMatch(
      /\| Express 5 \+ passport \+ passport-oauth2 \(asks for snake_case\) \| 2100 \| 2095 \| 31\.0 \| 95\.0 \| 190\.0 \| 3 \| 250 \| 0\.0 \| 70 \| 0\.45 \(0\.40–0\.50\) \| 0\.45 \(0\.40–0\.50\) \| 1\.00 /,
    );
  });

  it('plots the achieved rate against the offered one and the p99.9 beside the p99', () => {
    const svg = plotSvg(results);
    expect(svg).toContain('2095 of 2100 offered');
    expect(svg).toContain('95.0 (p99.9 190.0)');
  });
});
