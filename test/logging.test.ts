/**
 * Logs and diagnostics as a user's process sees them: the built package in a child process
 * with `DEBUG` / `NODE_DEBUG` set (or not), its stderr read line by line; and the
 * `diagnostics_channel` events an APM tool subscribes to.
 */
import { execFile } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile } from './helpers/build.js';
import { createCodeExchanger, EXCHANGE_CHANNEL, type ExchangeReport } from '../src/index.js';
import { startPersonaEmulator } from '../src/testing/index.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

// One successful and one failing exchange (a code issued to another organisation), then the
// secrets and Persona's request ids on stdout for the test to look for on stderr.
const SCRIPT = `
import { createCodeExchanger } from ${JSON.stringify(pathToFileURL(join(root, 'dist/esm/index.js')).href)};
import { startPersonaEmulator } from ${JSON.stringify(pathToFileURL(join(root, 'dist/esm/testing/index.js')).href)};

const emulator = await startPersonaEmulator();
const exchanger = createCodeExchanger({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
const scope = 'inquiry.read:' + emulator.owner.inquiries[0].id;
try {
  const good = emulator.createAuthorization({ scope }).code;
  const tokens = await exchanger.exchange(good);
  const other = emulator.addOrganization({ name: 'Someone else' });
  const bad = emulator.createAuthorization({ scope, clientId: other.id }).code;
  let failure;
  try {
    await exchanger.exchange(bad);
  } catch (error) {
    failure = { code: error.code, personaStatus: error.personaStatus, requestId: error.requestId };
  }
  const requestIds = emulator.requests.filter((r) => r.endpoint === 'token').map((r) => r.requestId);
  console.log(JSON.stringify({
    secrets: [emulator.recipient.apiKey, good, bad, tokens.accessToken],
    success: { requestId: tokens.requestId },
    failure,
    requestIds,
  }));
} finally {
  await exchanger.close();
  await emulator.close();
}
`;

interface ScriptResult {
  stderr: string;
  secrets: string[];
  success: { requestId: string };
  failure: { code: string; personaStatus: number; requestId: string };
  requestIds: string[];
}

let work: string;
let script: string;

function runScript(env: Record<string, string>): Promise<ScriptResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const name of ['DEBUG', 'NODE_DEBUG'] as const) if (!(name in env)) delete childEnv[name];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script], { env: childEnv, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      const last = String(stdout).trim().split('\n').at(-1) ?? '';
      resolve({ ...(JSON.parse(last) as Omit<ScriptResult, 'stderr'>), stderr: String(stderr) });
    });
  });
}

const LINE =
  /^passport-withpersona exchange (success|error)(?: code=(\S+))? persona_status=(\S+) duration_ms=(\d+\.\d) attempts=(\d+) request_id=(\S+) ratelimit_remaining=(\d+|-)$/;

function expectOneLinePerExchange(result: ScriptResult): void {
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(2);
  const [success, failure] = lines.map((line) => LINE.exec(line));
  expect(success, lines[0]).not.toBeNull();
  expect(failure, lines[1]).not.toBeNull();
  expect(success?.slice(1)).toEqual([
    'success',
    undefined,
    '201',
    expect.any(String),
    '1',
    result.success.requestId,
    expect.stringMatching(/^\d+$/),
  ]);
  expect(failure?.slice(1)).toEqual([
    'error',
    result.failure.code,
    String(result.failure.personaStatus),
    expect.any(String),
    '1',
    result.failure.requestId,
    expect.stringMatching(/^\d+$/),
  ]);
  expect(result.failure.code).toBe('invalid_grant');
  // The ids logged are the ones the emulator gave the two token requests, in order.
  expect([success?.[6], failure?.[6]]).toEqual(result.requestIds);
  for (const secret of result.secrets) {
    expect(secret.length).toBeGreaterThan(8);
    expect(result.stderr).not.toContain(secret);
  }
}

beforeAll(async () => {
  distFile('esm/index.js'); // built by the global setup (test/setup/build.ts)
  work = await mkdtemp(join(tmpdir(), 'pwp-logging-'));
  script = join(work, 'exchange.mjs');
  await writeFile(script, SCRIPT);
}, 120_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the exchange log line', () => {
  it('DEBUG=passport-withpersona prints one line per exchange, with no secret', async () => {
    expectOneLinePerExchange(await runScript({ DEBUG: 'passport-withpersona' }));
  });

  it('NODE_DEBUG=passport-withpersona does the same', async () => {
    expectOneLinePerExchange(await runScript({ NODE_DEBUG: 'passport-withpersona' }));
  });

  it('follows the debug conventions: DEBUG=* enables, a negated pattern disables', async () => {
    expectOneLinePerExchange(await runScript({ DEBUG: '*' }));
    expect((await runScript({ DEBUG: 'passport-*,-passport-withpersona' })).stderr).toBe('');
  });

  it('prints nothing without DEBUG or NODE_DEBUG', async () => {
    expect((await runScript({})).stderr).toBe('');
    expect((await runScript({ DEBUG: 'express:*', NODE_DEBUG: 'http' })).stderr).not.toContain('passport-withpersona');
  });
});

describe('the diagnostics_channel', () => {
  it(`publishes one report per exchange on ${EXCHANGE_CHANNEL}`, async () => {
    const reports: ExchangeReport[] = [];
    const listener = (message: unknown): void => {
      reports.push(message as ExchangeReport);
    };
    const emulator = await startPersonaEmulator();
    const exchanger = createCodeExchanger({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
    subscribe(EXCHANGE_CHANNEL, listener);
    try {
      const inquiryId = emulator.owner.inquiries[0]?.id;
      const { code } = emulator.createAuthorization({ scope: `inquiry.read:${inquiryId}` });
      const tokens = await exchanger.exchange(code);
      const again = emulator.createAuthorization({ scope: `inquiry.read:${inquiryId}` }).code;
      await exchanger.exchange(again);
      await expect(exchanger.exchange('unknown-code')).rejects.toMatchObject({ code: 'invalid_grant' });

      const tokenRequests = emulator.requests.filter((request) => request.endpoint === 'token');
      expect(tokenRequests).toHaveLength(3);
      expect(reports).toHaveLength(3);
      expect(reports[0]).toEqual({
        outcome: 'success',
        personaStatus: 201,
        requestId: tokens.requestId,
        durationMs: expect.any(Number),
        attempts: 1,
        // The emulator's environment limit (300 a minute), less this request.
        rateLimitRemaining: expect.any(Number),
      });
      expect(reports[1]).toMatchObject({ outcome: 'success', requestId: tokenRequests[1]?.requestId });
      expect(reports[2]).toEqual({
        outcome: 'error',
        code: 'invalid_grant',
        personaStatus: expect.any(Number),
        requestId: tokenRequests[2]?.requestId,
        durationMs: expect.any(Number),
        attempts: 1,
        rateLimitRemaining: expect.any(Number),
      });
      expect(reports[1]?.rateLimitRemaining).toBe((reports[0]?.rateLimitRemaining as number) - 1);
      expect(reports.map((report) => report.requestId)).toEqual(tokenRequests.map((request) => request.requestId));
      for (const report of reports) expect(report.durationMs).toBeGreaterThanOrEqual(0);
      const published = JSON.stringify(reports);
      for (const secret of [emulator.recipient.apiKey, code, again, tokens.accessToken]) {
        expect(published).not.toContain(secret);
      }
    } finally {
      unsubscribe(EXCHANGE_CHANNEL, listener);
      await exchanger.close();
      await emulator.close();
    }
  });
});
