import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import type { SampleApp } from '../../example-app/app.mjs';
import { Browser, expectNoInternals, loadSample, pathOf, sampleOptions, shareFields } from './helpers.js';

// One sign-in link opened in two tabs that reach two instances (sessions shared through one
// store, nothing else): Persona accepts the code once, so one tab signs in and the other must
// land somewhere sensible, never on an error page.

let emulator: PersonaEmulator;
let one: SampleApp;
let two: SampleApp;

beforeAll(async () => {
  emulator = await startPersonaEmulator();
  const { createApp } = await loadSample();
  const sessionStore = new session.MemoryStore();
  one = createApp(sampleOptions(emulator, { sessionStore }));
  two = createApp(sampleOptions(emulator, { sessionStore }));
});

afterAll(async () => {
  await Promise.all([one.close(), two.close()]);
  await emulator.close();
});

async function callbackPath(browser: Browser): Promise<string> {
  const start = await browser.get(one.app, '/auth/persona');
  expect(start.status).toBe(302);
  const share = await browser.get(one.app, pathOf(start.headers.location));
  const shared = await browser.post(
    one.app,
    '/owner/share',
    shareFields(share.text, emulator.owner.inquiries[0]?.id ?? ''),
  );
  expect(shared.status).toBe(303);
  return pathOf(shared.headers.location);
}

describe('the losing tab of a race on one sign-in link', () => {
  it('one tab signs in; the other is sent on to the profile the winner opened', async () => {
    const browser = new Browser();
    const callback = await callbackPath(browser);
    // Both exchanges are in flight at once; whichever reaches Persona first is held back.
    emulator.setFault('token', { kind: 'latency', ms: 200 }, { times: 1 });
    const tabs = await Promise.all([browser.get(one.app, callback), browser.get(two.app, callback)]);
    const outcomes = tabs.map((t) => `${t.status} ${String(t.headers.location).split('?')[0]}`).sort();
    expect(outcomes).toEqual(['303 /auth/persona/used', '303 /profile']);
    const loser = tabs.find((t) => String(t.headers.location).startsWith('/auth/persona/used'));
    expect(loser?.headers['set-cookie']).toBeUndefined();

    for (const app of [one.app, two.app]) {
      const landing = await browser.get(app, '/auth/persona/used');
      expect(landing.status).toBe(303);
      expect(landing.headers.location).toBe('/profile');
      expect((await browser.get(app, '/profile')).status).toBe(200);
    }
  });

  it('a browser with no signed-in session gets a friendly page (200), not an error page', async () => {
    const res = await request(two.app).get('/auth/persona/used?request_id=req_abc%3Cb%3E').expect(200);
    expect(res.text).toContain('This sign-in link has already been used');
    expect(res.text).toContain('href="/profile"');
    expect(res.text).toContain('Start again');
    expect(res.text).not.toContain('<b>');
    expect(res.text).not.toContain('role="alert"');
    expectNoInternals(res.text);
  });
});
