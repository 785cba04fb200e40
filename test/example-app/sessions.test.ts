import { execFile } from 'node:child_process';
import { inspect, promisify } from 'node:util';
import type { SessionData } from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import type { SampleApp } from '../../example-app/app.mjs';
import { formBody, loadSample, loadSessions, pathOf, sampleOptions, shareFields } from './helpers.js';

// The sample app's sessions: short before sign-in, longer after, and a memory store that
// forgets what has ended and caps pending sign-ins, so a flood of anonymous starts cannot grow
// the process (the figures: `node example-app/flood.mjs`).

type Sessions = Awaited<ReturnType<typeof loadSessions>>;
let sessions: Sessions;
let emulator: PersonaEmulator;
const opened: SampleApp[] = [];

beforeAll(async () => {
  sessions = await loadSessions();
  emulator = await startPersonaEmulator();
});
afterAll(async () => {
  await Promise.all(opened.map((app) => app.close()));
  await emulator.close();
});

const HOUR = 60 * 60 * 1000;

function session(expiresInMs: number, user?: unknown): SessionData {
  return {
    cookie: { originalMaxAge: expiresInMs, expires: new Date(Date.now() + expiresInMs) },
    ...(user ? { passport: { user } } : {}),
  } as unknown as SessionData;
}

function call<T>(run: (callback: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));
}

describe('MemorySessionStore', () => {
  it('keeps, returns, touches and destroys a session', async () => {
    const store = new sessions.MemorySessionStore();
    await call((cb) => store.set('a', session(HOUR), cb));
    expect(await call((cb) => store.get('a', cb))).toMatchObject({ cookie: { originalMaxAge: HOUR } });
    await call((cb) => store.destroy('a', cb));
    expect(await call((cb) => store.get('a', cb))).toBeNull();
    store.close();
  });

  it('never returns an expired session, and prunes every expired one', async () => {
    const store = new sessions.MemorySessionStore();
    await call((cb) => store.set('old', session(-1), cb));
    await call((cb) => store.set('later', session(10 * 60 * 1000), cb));
    await call((cb) => store.set('signed-in', session(2 * HOUR, { id: 1 }), cb));
    expect(await call((cb) => store.get('old', cb))).toBeNull();
    expect(await call((cb) => store.length(cb))).toBe(2);
    store.prune(Date.now() + 11 * 60 * 1000);
    expect(await call((cb) => store.length(cb))).toBe(1);
    expect(await call((cb) => store.get('signed-in', cb))).toMatchObject({ passport: { user: { id: 1 } } });
    store.close();
  });

  it('caps sessions that are not signed in, oldest first, and never drops a signed-in one for them', async () => {
    const store = new sessions.MemorySessionStore({ maxPending: 3 });
    await call((cb) => store.set('user', session(HOUR, { id: 7 }), cb));
    for (let i = 0; i < 10; i += 1) await call((cb) => store.set(`anon-${i}`, session(HOUR), cb));
    expect(await call((cb) => store.length(cb))).toBe(4);
    expect(await call((cb) => store.get('anon-6', cb))).toBeNull();
    expect(await call((cb) => store.get('anon-7', cb))).not.toBeNull();
    expect(await call((cb) => store.get('user', cb))).not.toBeNull();
    store.close();
  });

  it('keeps what it holds out of util.inspect (req.sessionStore is on every request)', async () => {
    const store = new sessions.MemorySessionStore();
    await call((cb) => store.set('sid-1', session(HOUR, { accessToken: 'persona_access_token_secret-value' }), cb));
    expect(inspect(store, { depth: null, showHidden: true })).not.toContain('secret-value');
    store.close();
  });
});

describe('the sample app’s sessions', () => {
  function expiresInMs(res: request.Response): number {
    const line = ((res.headers['set-cookie'] ?? []) as unknown as string[]).find((c) =>
      c.startsWith('persona_sample.sid='),
    );
    const expires = /Expires=([^;]+)/.exec(line ?? '')?.[1];
    return Date.parse(expires ?? '') - Date.now();
  }

  it('a session lives 10 minutes before sign-in and 2 hours after; a flood of starts is capped', async () => {
    const { createApp } = await loadSample();
    const store = new sessions.MemorySessionStore({ maxPending: 20 });
    const sample = createApp(sampleOptions(emulator, { sessionStore: store }));
    opened.push(sample);
    const browser = request.agent(sample.app);

    const start = await browser.get('/auth/persona').expect(302);
    expect(expiresInMs(start)).toBeGreaterThan(9 * 60 * 1000);
    expect(expiresInMs(start)).toBeLessThanOrEqual(10 * 60 * 1000);

    const share = await browser.get(pathOf(start.headers.location)).expect(200);
    const shared = await browser
      .post('/owner/share')
      .type('form')
      .send(formBody(shareFields(share.text, emulator.owner.inquiries[0]?.id ?? '')))
      .expect(303);
    const signedIn = await browser.get(pathOf(shared.headers.location)).expect(303);
    expect(expiresInMs(signedIn)).toBeGreaterThan(HOUR + 59 * 60 * 1000);

    for (let i = 0; i < 100; i += 1) await request(sample.app).get('/auth/persona').expect(302);
    expect(await call((cb) => store.length(cb))).toBeLessThanOrEqual(21);
    await browser.get('/profile').expect(200);
    // Two hours later the signed-in session has ended too, and is pruned.
    store.prune(Date.now() + 2 * HOUR + 1000);
    expect(await call((cb) => store.length(cb))).toBe(0);
    await browser.get('/profile').expect(401);
  });

  it('example-app/flood.mjs measures the memory before and after a flood', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [new URL('../../example-app/flood.mjs', import.meta.url).pathname, '--starts', '300', '--concurrency', '10'],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(/^300 anonymous GET \/auth\/persona in [\d.]+ s, 0 failed$/m);
    expect(stdout).toMatch(/^before: RSS [\d.]+ MB, heap [\d.]+ MB$/m);
    expect(stdout).toMatch(/^after: {2}RSS [\d.]+ MB, heap [\d.]+ MB$/m);
    expect(stdout).toMatch(/^growth: RSS -?[\d.]+ MB, heap -?[\d.]+ MB$/m);
  });
});
