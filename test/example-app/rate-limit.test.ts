// Anyone can get a fresh state (GET /auth/persona) and send it back with a made-up code: each such
// callback costs one request from the Persona environment's rate limit. The sample app limits a
// client's sign-in starts and callbacks, so one client cannot spend that limit and lock real
// users out. Over real HTTP on loopback, with the app and the emulator as they run.
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSampleApp } from '../../example-app/app.mjs';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { loadSample, sampleOptions } from './helpers.js';

const LIMIT = 10;
let emulator: PersonaEmulator;
let sample: RunningSampleApp;

beforeAll(async () => {
  emulator = await startPersonaEmulator();
  const { startApp } = await loadSample();
  const { publicURL: _fixed, ...options } = sampleOptions(emulator);
  sample = await startApp({ ...options, signInLimit: LIMIT });
});

afterAll(async () => {
  await sample?.close();
  await emulator?.close();
});

const tokenRequests = (): number => emulator.requests.filter((r) => r.endpoint === 'token').length;

/** One anonymous attack round: a fresh state, then a callback with it and a made-up code. */
async function forgedCallback(): Promise<number[]> {
  const start = await request(`${sample.url}/auth/persona`);
  await start.body.dump();
  const location = start.headers.location;
  const cookie = [start.headers['set-cookie'] ?? []].flat().map((line) => line.split(';')[0]);
  if (start.statusCode !== 302 || typeof location !== 'string') return [start.statusCode];
  const state = new URL(location).searchParams.get('state') ?? '';
  const code = `made-up-${Math.random().toString(36).slice(2)}`;
  const callback = await request(
    `${sample.url}/auth/persona/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
    { headers: { cookie: cookie.join('; ') } },
  );
  await callback.body.dump();
  return [start.statusCode, callback.statusCode];
}

describe('the sign-in routes are rate limited per client', () => {
  it('stops a flood of forged callbacks after the limit: Persona sees at most half of it, the rest get a 429 page', async () => {
    emulator.requests.length = 0;
    const statuses: number[] = [];
    for (let round = 0; round < LIMIT; round++) statuses.push(...(await forgedCallback()));

    // Within the limit, each round is a start (302) and a refused code (303 to the "used" page).
    expect(statuses.slice(0, LIMIT)).toEqual(Array.from({ length: LIMIT / 2 }, () => [302, 303]).flat());
    // Over it, every request is refused before the strategy, so Persona is not asked.
    expect(statuses.slice(LIMIT)).toEqual(Array.from({ length: statuses.length - LIMIT }, () => 429));
    expect(tokenRequests()).toBe(LIMIT / 2);

    const refused = await request(`${sample.url}/auth/persona/callback?code=another&state=another`);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(String(refused.headers.ratelimit)).toMatch(/"10-in-1min"; r=0;/);
    expect(refused.headers['content-type']).toMatch(/^text\/html/);
    const page = await refused.body.text();
    expect(page).toContain('Too many sign-in attempts');
    expect(tokenRequests()).toBe(LIMIT / 2);
  });

  it('leaves the other pages alone', async () => {
    const home = await request(`${sample.url}/`);
    await home.body.dump();
    expect(home.statusCode).toBe(200);
    const health = await request(`${sample.url}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
  });
});
