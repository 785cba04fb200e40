// The CI version of the load and soak test (the full one is `npm run test:load`):
// 2,000 logins through an Express app with sessions against the emulator at 100 connections,
// then a 400-login storm against an emulator at its default rate limit. Runs the real driver,
// test/load/run.mjs, and checks its exit status and the figures it prints.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOGINS = 2000;
const STORM = 400;
const CONCURRENCY = 100;
const MAX_GROWTH_MB = 20;
const RATE_LIMIT = 300;

interface SoakFigures {
  logins: number;
  failures: number;
  failureReasons: Record<string, number>;
  profilesChecked: number;
  heapAtMarkMB: number;
  heapAtEndMB: number;
  heapGrowthMB: number;
  loginsPerSecond: number;
}

interface StormFigures {
  logins: number;
  rateLimit: number;
  success: number;
  rateLimited: number;
  other: number;
  hung: number;
  retryAfterSeconds: number[];
  maxLatencyMs: number;
}

interface LoadResult {
  ok: boolean;
  problems: string[];
  soak: SoakFigures | null;
  storm: StormFigures | null;
}

const running = new Set<ReturnType<typeof spawn>>();
afterAll(() => {
  // SIGTERM lets the driver stop its own children; it also exits when this process goes away.
  for (const child of running) child.kill('SIGTERM');
});

function runLoad(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['test/load/run.mjs', ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

it(`${LOGINS} logins with sessions at ${CONCURRENCY} connections and a ${STORM}-login rate-limit storm`, async () => {
  const { code, stdout, stderr } = await runLoad([
    '--logins',
    String(LOGINS),
    '--storm',
    String(STORM),
    '--concurrency',
    String(CONCURRENCY),
    '--max-growth-mb',
    String(MAX_GROWTH_MB),
    // The driver stops itself well before this test's timeout.
    '--max-minutes',
    '3',
  ]);
  const line = stdout.split('\n').find((candidate) => candidate.startsWith('LOAD-RESULT '));
  expect(line, `no LOAD-RESULT line\nstdout:\n${stdout}\nstderr:\n${stderr}`).toBeDefined();
  const result = JSON.parse((line ?? '').slice('LOAD-RESULT '.length)) as LoadResult;
  expect(result.problems, stdout).toEqual([]);
  expect(code, stderr).toBe(0);
  expect(result.ok).toBe(true);

  const soak = result.soak;
  expect(soak).not.toBeNull();
  if (!soak) return;
  expect(soak.logins).toBe(LOGINS);
  expect(soak.failures).toBe(0);
  expect(soak.failureReasons).toEqual({});
  expect(soak.profilesChecked).toBe(LOGINS / 100);
  expect(soak.heapAtMarkMB).toBeGreaterThan(0);
  expect(soak.heapGrowthMB).toBeLessThan(MAX_GROWTH_MB);
  expect(soak.heapAtEndMB - soak.heapAtMarkMB).toBeCloseTo(soak.heapGrowthMB, 1);
  expect(stdout).toMatch(/^ {2}failures {10}0$/m);

  const storm = result.storm;
  expect(storm).not.toBeNull();
  if (!storm) return;
  expect(storm.logins).toBe(STORM);
  expect(storm.rateLimit).toBe(RATE_LIMIT);
  expect(storm.other).toBe(0);
  expect(storm.hung).toBe(0);
  expect(storm.success + storm.rateLimited).toBe(STORM);
  // The first window lets exactly the limit through; every later login gets a clean 503.
  expect(storm.success).toBe(RATE_LIMIT);
  expect(storm.rateLimited).toBe(STORM - RATE_LIMIT);
  for (const seconds of storm.retryAfterSeconds) {
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
  }
  expect(storm.maxLatencyMs).toBeLessThan(15_000);
}, 200_000);
