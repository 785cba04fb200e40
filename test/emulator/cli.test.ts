import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The CLI to run, copied into a temporary directory so that a rebuild of dist/ during the run
 * cannot pull files from under it: the built files when they are at least as new as the sources
 * (`npm test` builds first), else a fresh compile of src/testing alone.
 */
function cliPath(): { path: string; fromBuild: boolean; cleanup: () => void } {
  const sources = join(root, 'src', 'testing');
  const names = readdirSync(sources).filter((name) => name.endsWith('.ts'));
  const newestSource = Math.max(...names.map((name) => statSync(join(sources, name)).mtimeMs));
  const out = mkdtempSync(join(tmpdir(), 'persona-emulator-cli-'));
  const cleanup = () => rmSync(out, { recursive: true, force: true });
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  const builtDir = join(root, 'dist', 'esm', 'testing');
  try {
    if (statSync(join(builtDir, 'cli.js')).mtimeMs >= newestSource) {
      for (const name of names)
        copyFileSync(join(builtDir, name.replace(/\.ts$/, '.js')), join(out, name.replace(/\.ts$/, '.js')));
      return { path: join(out, 'cli.js'), fromBuild: true, cleanup };
    }
  } catch {
    // Not built, or being rebuilt right now: compile below.
  }
  const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '--outDir',
      out,
      '--rootDir',
      sources,
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--target',
      'ES2022',
      '--strict',
      '--skipLibCheck',
      '--types',
      'node',
      join(sources, 'cli.ts'),
    ],
    { cwd: root, stdio: 'pipe' },
  );
  return { path: join(out, 'cli.js'), fromBuild: false, cleanup };
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let cli: ReturnType<typeof cliPath>;
const running: Running[] = [];

beforeAll(() => {
  cli = cliPath();
}, 120_000);
afterAll(() => cli.cleanup());
afterEach(() => {
  for (const { child } of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function run(args: string[]): Running {
  const child = spawn(process.execPath, [cli.path, ...args], { cwd: root });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const handle = { child, stdout: () => out, exit };
  running.push(handle);
  return handle;
}

async function waitFor(handle: Running, pattern: RegExp): Promise<RegExpExecArray> {
  for (let i = 0; i < 400; i += 1) {
    const match = pattern.exec(handle.stdout());
    if (match) return match;
    if (handle.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no ${pattern} in output: ${handle.stdout()}`);
}

describe('persona-emulator CLI', () => {
  it('starts with a shebang when built', () => {
    if (!cli.fromBuild) return;
    expect(readFileSync(cli.path, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('prints its URL, organisations, API keys and inquiry ids, serves them, and exits 0 on SIGTERM', async () => {
    const handle = run(['--port', '0']);
    await waitFor(handle, /Press Ctrl-C to stop\./);
    const out = handle.stdout();
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const keys = [...out.matchAll(/API key: (persona_sandbox_[0-9a-f-]{36})/g)].map((m) => m[1]);
    const inquiries = [...out.matchAll(/^ {2}(inq_[A-Za-z0-9]{24}) /gm)].map((m) => m[1]);
    expect(url).toBeDefined();
    expect(out).toMatch(/owner\s+org_[A-Za-z0-9]{24}/);
    expect(out).toMatch(/recipient\s+org_[A-Za-z0-9]{24}/);
    expect(keys).toHaveLength(2);
    expect(inquiries.length).toBeGreaterThanOrEqual(5);
    const verifications = [...out.matchAll(/^ {2}(ver_[A-Za-z0-9]{24}) +(\S+) +(\S+) +of (inq_\S+)/gm)];
    expect(verifications.length).toBeGreaterThanOrEqual(2);
    expect(inquiries).toContain(verifications[0]?.[4]);
    expect(out).toMatch(/control endpoints: off/);

    const response = await request(`${url}/api/v1/inquiries/${inquiries[0]}`, {
      headers: { authorization: `Bearer ${keys[0]}` },
    });
    expect(response.statusCode).toBe(200);
    expect(((await response.body.json()) as { data: { id: string } }).data.id).toBe(inquiries[0]);

    const control = await request(`${url}/__emulator/faults`, { method: 'DELETE' });
    await control.body.dump();
    expect(control.statusCode).toBe(404);

    handle.child.kill('SIGTERM');
    expect(await handle.exit).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT too, with a connection still open', async () => {
    const handle = run(['--port', '0', '--json']);
    const line = await waitFor(handle, /^\{.*\}\n/);
    const summary = JSON.parse(line[0]) as {
      url: string;
      organizations: { apiKey: string; inquiries: string[]; verifications: string[] }[];
    };
    const owner = summary.organizations[0];
    const response = await request(`${summary.url}/api/v1/inquiries/${owner?.inquiries[0]}`, {
      headers: { authorization: `Bearer ${owner?.apiKey}`, connection: 'keep-alive' },
    });
    await response.body.dump();
    const verification = await request(`${summary.url}/api/v1/verifications/${owner?.verifications[0]}`, {
      headers: { authorization: `Bearer ${owner?.apiKey}` },
    });
    await verification.body.dump();
    expect(verification.statusCode).toBe(200);
    handle.child.kill('SIGINT');
    expect(await handle.exit).toEqual({ code: 0, signal: null });
  });

  it('exits 0 when signalled the instant it prints its URL', async () => {
    for (let i = 0; i < 5; i += 1) {
      const handle = run(['--port', '0']);
      handle.child.stdout.once('data', () => handle.child.kill('SIGTERM'));
      expect(await handle.exit).toEqual({ code: 0, signal: null });
    }
  });

  it('exposes the control endpoints with --control, and applies --rate-limit and --seed', async () => {
    const handle = run(['--port=0', '--control', '--rate-limit', '2', '--seed', 'fixed']);
    await waitFor(handle, /Press Ctrl-C/);
    const out = handle.stdout();
    expect(out).toMatch(/control: POST\/DELETE http:\/\/127\.0\.0\.1:\d+\/__emulator\/faults/);
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    const key = /API key: (\S+)/.exec(out)?.[1] ?? '';
    const inquiry = /^ {2}(inq_\S+)/m.exec(out)?.[1] ?? '';

    const set = await request(`${url}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ endpoint: 'inquiry', fault: { kind: 'status', status: 503 }, times: 1 }),
    });
    await set.body.dump();
    expect(set.statusCode).toBe(200);
    const get = () => request(`${url}/api/v1/inquiries/${inquiry}`, { headers: { authorization: `Bearer ${key}` } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await get();
      await response.body.dump();
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([503, 200, 429]);

    const again = run(['--port', '0', '--seed', 'fixed']);
    await waitFor(again, /Press Ctrl-C/);
    expect(/API key: (\S+)/.exec(again.stdout())?.[1]).toBe(key);
    again.child.kill('SIGTERM');
    handle.child.kill('SIGTERM');
    expect((await handle.exit).code).toBe(0);
    expect((await again.exit).code).toBe(0);
  });

  it('accepts the Persona-Version dates given with --persona-version, besides the documented ones', async () => {
    const handle = run(['--port', '0', '--json', '--persona-version', '2031-01-01', '--persona-version=2032-02-02']);
    const line = await waitFor(handle, /^\{.*\}\n/);
    const summary = JSON.parse(line[0]) as { url: string; organizations: { apiKey: string; inquiries: string[] }[] };
    const owner = summary.organizations[0];
    const statusFor = async (version: string): Promise<number> => {
      const response = await request(`${summary.url}/api/v1/inquiries/${owner?.inquiries[0]}`, {
        headers: { authorization: `Bearer ${owner?.apiKey}`, 'persona-version': version },
      });
      await response.body.dump();
      return response.statusCode;
    };
    expect(await statusFor('2031-01-01')).toBe(200);
    expect(await statusFor('2032-02-02')).toBe(200);
    expect(await statusFor('2025-10-27')).toBe(200);
    expect(await statusFor('2033-03-03')).toBe(400);
    handle.child.kill('SIGTERM');
    expect((await handle.exit).code).toBe(0);

    const bad = run(['--persona-version', 'latest']);
    let stderr = '';
    bad.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect((await bad.exit).code).toBe(2);
    expect(stderr).toMatch(/--persona-version needs a YYYY-MM-DD date/);
  });

  it('prints help and exits 0; refuses unknown options with exit 2', async () => {
    const help = run(['--help']);
    expect(await help.exit).toEqual({ code: 0, signal: null });
    expect(help.stdout()).toMatch(/--control/);
    expect(help.stdout()).toMatch(/--port/);
    expect(help.stdout()).toMatch(/--persona-version/);

    const bad = run(['--bogus']);
    let stderr = '';
    bad.child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect((await bad.exit).code).toBe(2);
    expect(stderr).toMatch(/Unknown option .--bogus./);
    const badPort = run(['--port', 'eighty']);
    expect((await badPort.exit).code).toBe(2);
  });
});
