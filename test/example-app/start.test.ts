// `node example-app/start.mjs` (what `npm start` runs after the build) as a real process: it
// prints its URL, serves, and exits cleanly on SIGTERM / SIGINT. Needs dist/ (`npm test` builds
// it first).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { freePort } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const children = new Set<ChildProcess>();
let emulator: PersonaEmulator;

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

function launch(env: Record<string, string | undefined>): Promise<Started> {
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
  const child = spawn(process.execPath, ['example-app/start.mjs'], {
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

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}

beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/esm/index.js`)) throw new Error('dist/ is missing: run `npm run build` first');
  emulator = await startPersonaEmulator();
});

afterAll(async () => {
  for (const child of children) {
    child.kill('SIGKILL');
    await exitOf(child);
  }
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

  it('refuses an invalid PORT with exit code 1', async () => {
    await expect(launch({ PORT: 'eighty' })).rejects.toThrow(/exited with 1[\s\S]*PORT must be an integer/);
  });
});
