// Two app instances sharing sessions through a real Redis (connect-redis): a sign-in started on
// one completes on the other. Runs the redis-server that test/setup/system-requirements.ts found
// (REDIS_SERVER, or on PATH); without one the suite is skipped, except under PWP_REQUIRE_ALL=1
// (.ci/run), where the setup fails the run instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import type { RunningSampleApp } from '../../example-app/app.mjs';
import {
  Browser,
  freePort,
  inputValue,
  loadSample,
  loadSessions,
  pathOf,
  sampleOptions,
  shareFields,
} from './helpers.js';

const REDIS_SERVER = inject('redisServer');
const PREFIX = 'persona-sample:sess:';

let redis: ChildProcess | undefined;
let redisUrl = '';
let emulator: PersonaEmulator;
let one: RunningSampleApp;
let two: RunningSampleApp;
let memoryOnly: RunningSampleApp;
const cleanups: (() => Promise<void>)[] = [];

/** Starts redis-server on a free loopback port, without persistence; resolves once it accepts connections. */
async function startRedis(): Promise<void> {
  const port = await freePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  if (!REDIS_SERVER) throw new Error('no redis-server');
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmpdir()],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  redis = child;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start in 10 s:\n${output}`)), 10_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${REDIS_SERVER} : ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
}

async function stopRedis(): Promise<void> {
  const child = redis;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe.skipIf(!REDIS_SERVER)('sessions in Redis shared by two instances', () => {
  beforeAll(async () => {
    await startRedis();
    emulator = await startPersonaEmulator();
    cleanups.push(() => emulator.close());
    const { startApp } = await loadSample();
    const { createSessionStore } = await loadSessions();

    // Two instances as behind a load balancer: one public URL, one SESSION_SECRET, one Redis,
    // each with its own Redis connection.
    const sessionsOne = await createSessionStore({ redisUrl, prefix: PREFIX });
    cleanups.push(() => sessionsOne.close());
    const { publicURL: _unused, ...options } = sampleOptions(emulator);
    one = await startApp({ ...options, sessionStore: sessionsOne.store });
    cleanups.push(() => one.close());
    const sessionsTwo = await createSessionStore({ redisUrl, prefix: PREFIX });
    cleanups.push(() => sessionsTwo.close());
    two = await startApp({ ...options, publicURL: one.url, sessionStore: sessionsTwo.store });
    cleanups.push(() => two.close());
    expect(sessionsOne.kind).toBe('redis');
    expect(two.url).not.toBe(one.url);

    // The control: same secret and public URL, but sessions in its own memory.
    memoryOnly = await startApp({ ...options, publicURL: one.url });
    cleanups.push(() => memoryOnly.close());
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await stopRedis();
  });

  it('a sign-in started on instance one completes on instance two; the profile works on both', async () => {
    const browser = new Browser();
    const start = await browser.get(one.url, '/auth/persona');
    expect(start.status).toBe(302);
    const sharePage = await browser.get(two.url, pathOf(start.headers.location));
    expect(sharePage.status).toBe(200);

    const ids = emulator.owner.inquiries.slice(0, 2).map((inquiry) => inquiry.id);
    const shared = await browser.post(one.url, '/owner/share', shareFields(sharePage.text, ids));
    expect(shared.status).toBe(303);

    const callback = await browser.get(two.url, pathOf(shared.headers.location));
    expect(callback.status).toBe(303);
    expect(callback.headers.location).toBe('/profile');

    for (const base of [one.url, two.url]) {
      const profile = await browser.get(base, '/profile');
      expect(profile.status).toBe(200);
      for (const id of ids) expect(profile.text).toContain(id);
    }
    const inquiry = await browser.get(one.url, `/inquiries/${ids[0]}`);
    expect(inquiry.status).toBe(200);
    expect(inquiry.text).toContain(emulator.owner.inquiries[0]?.nameLast as string);

    // The session really is in Redis, with the signed-in token set.
    const client = createClient({ url: redisUrl });
    await client.connect();
    try {
      const keys = await client.keys(`${PREFIX}*`);
      expect(keys.length).toBeGreaterThan(0);
      const values = await Promise.all(keys.map((key) => client.get(key)));
      expect(values.some((value) => value?.includes('"passport"') && value.includes(ids[0] as string))).toBe(true);
    } finally {
      await client.close();
    }

    // Signing out on one instance ends the session on both.
    const profile = await browser.get(two.url, '/profile');
    const out = await browser.post(one.url, '/logout', { _csrf: inputValue(profile.text, '_csrf') });
    expect(out.status).toBe(303);
    expect((await browser.get(two.url, '/profile')).status).toBe(401);
    expect((await browser.get(one.url, '/profile')).status).toBe(401);
  });

  it('control: an instance with its own memory store cannot finish a flow started elsewhere', async () => {
    const browser = new Browser();
    const start = await browser.get(one.url, '/auth/persona');
    const sharePage = await browser.get(one.url, pathOf(start.headers.location));
    const shared = await browser.post(
      one.url,
      '/owner/share',
      shareFields(sharePage.text, emulator.owner.inquiries[0]?.id as string),
    );
    const callback = await browser.get(memoryOnly.url, pathOf(shared.headers.location));
    expect(callback.status).toBe(403);
    expect(callback.text).toContain('invalid_state');
  });
});
