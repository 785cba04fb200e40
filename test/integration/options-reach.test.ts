import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createStateStore, PersonaStrategy, type PersonaRequest } from '../../src/index.js';
import { stateFrom, useRecipientApps } from '../helpers/recipient-app.js';

// Every option that exists can be reached, and none is dropped without a word.

const apps = useRecipientApps();
const appWith = apps.appWith;

describe('state: { session: { … } }', () => {
  it('keeps at most maxFlows pending flows per session, under the key given', async () => {
    const app = appWith({ state: { session: { maxFlows: 2, key: 'my-flows', ttlSeconds: 60 } } });
    const browser = request.agent(app);
    const states: string[] = [];
    for (let i = 0; i < 3; i++) states.push(stateFrom((await browser.get('/start')).headers.location));
    const code = apps.emulator.createAuthorization({
      scope: `inquiry.read:${apps.emulator.owner.inquiries[0]?.id}`,
    }).code;
    // The oldest of three was evicted (maxFlows 2); the latest still works.
    const oldest = await browser.get('/callback').query({ code, state: states[0] });
    expect(oldest.status).toBe(403);
    expect(oldest.body.info.code).toBe('invalid_state');
    expect((await browser.get('/callback').query({ code, state: states[2] })).status).toBe(200);
  });

  it('refuses options out of range at construction', () => {
    expect(() => new PersonaStrategy({ apiKey: 'k'.repeat(20), state: { session: { maxFlows: 0 } } })).toThrow(
      TypeError,
    );
    expect(() => new PersonaStrategy({ apiKey: 'k'.repeat(20), state: { session: { key: '' } } })).toThrow(TypeError);
  });
});

describe('returnTo without state', () => {
  it('errors the request (500, a TypeError) instead of dropping returnTo', async () => {
    const app = appWith({ state: undefined });
    const res = await request(app).get('/start').query({ returnTo: '/dashboard' });
    expect(res.status).toBe(500);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('callbackURL', () => {
  it.each([
    ['relative', '/callback'],
    ['not a URL', 'http://'],
    ['another scheme', 'javascript:alert(1)'],
  ])('is refused at construction when %s, like authorizationURL', (_name, callbackURL) => {
    expect(() => new PersonaStrategy({ apiKey: 'k'.repeat(20), callbackURL })).toThrow(/callbackURL/);
    expect(() => new PersonaStrategy({ apiKey: 'k'.repeat(20), authorizationURL: callbackURL })).toThrow(
      /authorizationURL/,
    );
  });
});

describe('createStateStore', () => {
  it('rejects an unsafe returnTo before storing anything', async () => {
    const store = createStateStore(true);
    const req = { session: {} } as unknown as PersonaRequest;
    await expect(store.store(req, { returnTo: '//evil.example' })).rejects.toThrow(TypeError);
    expect(req.session).toEqual({});
    const state = await store.store(req, { returnTo: '/ok' });
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: { returnTo: '/ok' } });
  });
});
