// `node example-app/start.mjs` (what `npm start` runs after the build) as a real process, and
// `npm start` itself: it prints its URL, serves, and exits cleanly on SIGTERM / SIGINT, also when
// the signal goes to npm. Needs dist/ (`npm test` builds it first).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distFile } from '../helpers/build.js';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { freePort } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set<ChildProcess>();
// Processes under `npm start`, killed after the tests should one outlive its test.
const strays = new Set<number>();
let emulator: PersonaEmulator;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function launch(
  env: Record<string, string | undefined>,
  args: readonly string[] = ['example-app/start.mjs'],
): Promise<Started> {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'PORT',
    'SESSION_SECRET',
    'REDIS_URL',
    'PERSONA_API_KEY',
    'PERSONA_BASE_URL',
    'PERSONA_AUTHORIZATION_URL',
  ]) {
    delete clean[name];
  }
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start.mjs printed no URL in 15 s:\n${output}`)), 15_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /Sample app: (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`start.mjs exited with ${code}:\n${output}`));
    });
  });
}

/** npm's own CLI script, run with this Node (the npm that runs `npm test`, else the one beside node). */
function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && /npm-cli\.js$/.test(fromNpm)) return fromNpm;
  return join(dirname(realpathSync(process.execPath)), '../lib/node_modules/npm/bin/npm-cli.js');
}

/** The ids of every process under `pid` (Linux /proc, else `ps`). */
function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  if (existsSync('/proc/self/stat')) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        // The command name (2nd field) is in parentheses and may hold spaces; the ppid follows it.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      } catch {
        // The process ended while being listed.
      }
    }
  } else {
    for (const line of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
      const [child, parent] = line.trim().split(/\s+/).map(Number);
      if (child && parent) parents.set(child, parent);
    }
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parents].filter(([, parent]) => frontier.includes(parent)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Polls `check` until it holds, for at most 10 s (generous: the machine may be busy). */
async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}

beforeAll(async () => {
  distFile('esm/index.js'); // built by the global setup (test/setup/build.ts)
  emulator = await startPersonaEmulator();
});

afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await exitOf(child);
  }
  for (const pid of strays) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await emulator?.close();
});

describe('example-app/start.mjs', () => {
  it('starts the emulator and the app on PORT, 127.0.0.1; SIGTERM shuts it down with exit code 0', async () => {
    const port = await freePort();
    const started = await launch({ PORT: String(port) });
    expect(started.url).toBe(`http://127.0.0.1:${port}`);
    expect(started.output()).toMatch(/SESSION_SECRET is not set/);
    expect(started.output()).toMatch(/Persona emulator: http:\/\/127\.0\.0\.1:\d+/);
    expect(started.output()).toContain('Sessions: in memory');

    const home = await get(`${started.url}/`);
    expect(home.status).toBe(200);
    expect(home.text).toContain('Data owner (Org A)');
    expect(home.text).toContain('href="/auth/persona"');
    const health = await get(`${started.url}/healthz`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', owner: true });

    const exited = exitOf(started.child);
    started.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(started.output()).toContain('SIGTERM: shutting down');
    await expect(request(`${started.url}/healthz`)).rejects.toThrow();
  });

  it('with PERSONA_API_KEY: no emulator, the recipient talks to PERSONA_BASE_URL, the owner side is hidden; SIGINT stops it', async () => {
    const started = await launch({
      PORT: '0',
      SESSION_SECRET: 'a fixed secret for this test run',
      PERSONA_API_KEY: emulator.recipient.apiKey,
      PERSONA_BASE_URL: emulator.url,
    });
    expect(started.output()).not.toMatch(/Persona emulator:/);
    expect(started.output()).not.toMatch(/SESSION_SECRET is not set/);
    expect(started.output()).toContain('owner side hidden');
    const home = await get(`${started.url}/`);
    expect(home.text).toContain('not simulated');
    expect((await get(`${started.url}/owner/share`)).status).toBe(404);
    const health = JSON.parse((await get(`${started.url}/healthz`)).text);
    expect(health).toMatchObject({ owner: false, persona: emulator.url });

    const exited = exitOf(started.child);
    started.child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('`npm start` under SIGTERM (a container, systemd, a process manager): the app stops with npm, no process is left', async () => {
    const port = await freePort();
    // --ignore-scripts skips `prestart` (the build, already done by `npm test`), not `start`.
    const started = await launch({ PORT: String(port) }, [npmCli(), 'start', '--ignore-scripts']);
    expect(started.url).toBe(`http://127.0.0.1:${port}`);
    const tree = descendantsOf(started.child.pid as number);
    for (const pid of tree) strays.add(pid);
    expect(tree.length, 'npm start runs a shell and node under npm').toBeGreaterThanOrEqual(1);
    expect((await get(`${started.url}/healthz`)).status).toBe(200);

    const exited = exitOf(started.child);
    started.child.kill('SIGTERM');
    await exited;
    await waitFor(async () => !(await accepts(port)), 'the port to close');
    await waitFor(async () => tree.every((pid) => !isAlive(pid)), `no process left of ${tree.join(', ')}`);
    expect(started.output()).toMatch(/shutting down/);
  });

  it('refuses an invalid PORT with exit code 1', async () => {
    await expect(launch({ PORT: 'eighty' })).rejects.toThrow(/exited with 1[\s\S]*PORT must be an integer/);
  });
});
