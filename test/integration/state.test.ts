import type { Express } from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PersonaStrategy, PersonaStrategyOptions, StateStore } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { closeAfterEach, readCode, tokenRequests, useEmulator } from '../helpers/emulator.js';
import { recipientApp, stateFrom } from '../helpers/recipient-app.js';

let emulator: PersonaEmulator;
const strategies: PersonaStrategy[] = [];
const SECRET_A = `${'a'.repeat(16)}signing-secret-one-0123456789`;
const SECRET_B = `${'b'.repeat(16)}signing-secret-two-0123456789`;

useEmulator((started) => {
  emulator = started;
});
closeAfterEach(strategies);
afterEach(() => {
  vi.useRealTimers();
});

function appWith(state: PersonaStrategyOptions['state'], withSession = true): Express {
  const made = recipientApp(
    { apiKey: emulator.recipient.apiKey, url: emulator.url },
    { strategy: { state }, session: withSession },
  );
  strategies.push(made.strategy);
  return made.app;
}

function cookiesOf(res: request.Response): string {
  const set = (res.headers['set-cookie'] ?? []) as unknown as string[];
  return set
    .map((c) => c.split(';')[0] ?? '')
    .filter((c) => !c.endsWith('='))
    .join('; ');
}

describe('session-backed state (state: true)', () => {
  it('round-trips: start redirects with state, callback with it signs in', async () => {
    const agent = request.agent(appWith(true));
    const start = await agent.get('/start');
    expect(start.status).toBe(302);
    const location = new URL(start.headers.location as string);
    expect(location.pathname).toBe('/owner/share');
    expect(location.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:9/callback');
    const state = stateFrom(start.headers.location);
    const res = await agent.get('/callback').query({ code: readCode(emulator), state });
    expect(res.status).toBe(200);
  });

  it('keeps several tabs, and each state works once', async () => {
    const agent = request.agent(appWith(true));
    const states: string[] = [];
    for (let i = 0; i < 3; i += 1) states.push(stateFrom((await agent.get('/start')).headers.location));
    for (const state of [states[2], states[0], states[1]]) {
      expect((await agent.get('/callback').query({ code: readCode(emulator), state })).status).toBe(200);
    }
    const replay = await agent.get('/callback').query({ code: readCode(emulator), state: states[0] });
    expect(replay.status).toBe(403);
    expect(replay.body.info.code).toBe('invalid_state');
  });

  it('evicts the oldest beyond 10 outstanding flows', async () => {
    const agent = request.agent(appWith(true));
    const states: string[] = [];
    for (let i = 0; i < 11; i += 1) states.push(stateFrom((await agent.get('/start')).headers.location));
    expect((await agent.get('/callback').query({ code: readCode(emulator), state: states[0] })).status).toBe(403);
    expect((await agent.get('/callback').query({ code: readCode(emulator), state: states[1] })).status).toBe(200);
    expect((await agent.get('/callback').query({ code: readCode(emulator), state: states[10] })).status).toBe(200);
  });

  it.each([
    ['missing', undefined],
    ['unknown', 'x'.repeat(32)],
  ])('%s state → 403 invalid_state, before the error parameter and without calling Persona', async (_n, state) => {
    const agent = request.agent(appWith(true));
    await agent.get('/start');
    const res = await agent
      .get('/callback')
      .query({ code: readCode(emulator), error: 'access_denied', ...(state ? { state } : {}) });
    expect(res.status).toBe(403);
    expect(res.body.info.code).toBe('invalid_state');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('a state from another browser (session) is refused', async () => {
    const app = appWith(true);
    const victim = request.agent(app);
    const attacker = request.agent(app);
    const attackerState = stateFrom((await attacker.get('/start')).headers.location);
    await victim.get('/start');
    const res = await victim.get('/callback').query({ code: readCode(emulator), state: attackerState });
    expect(res.status).toBe(403);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('expires after 10 minutes', async () => {
    const agent = request.agent(appWith(true));
    vi.useFakeTimers({ toFake: ['Date'] });
    const state = stateFrom((await agent.get('/start')).headers.location);
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1);
    const res = await agent.get('/callback').query({ code: readCode(emulator), state });
    expect(res.status).toBe(403);
    expect(res.body.info.message).toContain('expired');
  });

  it('an access_denied with a valid state → 403 access_denied', async () => {
    const agent = request.agent(appWith(true));
    const state = stateFrom((await agent.get('/start')).headers.location);
    const res = await agent.get('/callback').query({ error: 'access_denied', state });
    expect(res.status).toBe(403);
    expect(res.body.info.code).toBe('access_denied');
  });

  it('without a session → error 500 with a clear message', async () => {
    const res = await request(appWith(true, false)).get('/start');
    expect(res.status).toBe(500);
  });

  it('carries returnTo and refuses unsafe ones', async () => {
    const agent = request.agent(appWith(true));
    const state = stateFrom((await agent.get('/start').query({ returnTo: '/inquiries/inq_1?tab=2' })).headers.location);
    const ok = await agent.get('/callback').query({ code: readCode(emulator), state });
    expect(ok.body.info.returnTo).toBe('/inquiries/inq_1?tab=2');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', '/%2F%2Fevil', '/a\tb']) {
      const res = await agent.get('/start').query({ returnTo: bad });
      expect(res.status, bad).toBe(400);
    }
  });
});

describe('signed state (stateless, several instances)', () => {
  it('a flow started on one instance completes on another with no shared store', async () => {
    const one = appWith({ signed: { secrets: [SECRET_A] } }, false);
    const two = appWith({ signed: { secrets: [SECRET_A] } }, false);
    const start = await request(one).get('/start').query({ returnTo: '/profile' });
    expect(start.status).toBe(302);
    const cookie = cookiesOf(start);
    expect(cookie).toMatch(/^pwp_state_[A-Za-z0-9_-]{16}=/);
    const setCookie = String((start.headers['set-cookie'] as unknown as string[])[0]);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    const state = stateFrom(start.headers.location);
    const res = await request(two)
      .get('/callback')
      .set('cookie', cookie)
      .query({ code: readCode(emulator), state });
    expect(res.status).toBe(200);
    expect(res.body.info.returnTo).toBe('/profile');
    // The flow's cookie is cleared: a replay from the same browser fails.
    const cleared = (res.headers['set-cookie'] as unknown as string[]).join('\n');
    expect(cleared).toMatch(/pwp_state_[^=]+=;.*Max-Age=0/);
    const replay = await request(two)
      .get('/callback')
      .query({ code: readCode(emulator), state });
    expect(replay.status).toBe(403);
  });

  it('refuses a state without its cookie (another browser), forged or expired', async () => {
    const app = appWith({ signed: { secrets: [SECRET_A] } }, false);
    const start = await request(app).get('/start');
    const cookie = cookiesOf(start);
    const state = stateFrom(start.headers.location);
    const without = await request(app)
      .get('/callback')
      .query({ code: readCode(emulator), state });
    expect(without.status).toBe(403);
    const [id, exp, rt, sig] = state.split('.');
    const forged = `${id}.${exp}.${Buffer.from('//evil').toString('base64url')}.${sig}`;
    expect(rt).toBe('');
    const f = await request(app)
      .get('/callback')
      .set('cookie', cookie)
      .query({ code: readCode(emulator), state: forged });
    expect(f.status).toBe(403);
    expect(f.body.info.message).toContain('forged');

    vi.useFakeTimers({ toFake: ['Date'] });
    const late = await request(app).get('/start');
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const e = await request(app)
      .get('/callback')
      .set('cookie', cookiesOf(late))
      .query({ code: readCode(emulator), state: stateFrom(late.headers.location) });
    expect(e.status).toBe(403);
    expect(e.body.info.message).toContain('expired');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('rotates secrets: the first signs, all verify', async () => {
    const old = appWith({ signed: { secrets: [SECRET_A] } }, false);
    const rotated = appWith({ signed: { secrets: [SECRET_B, SECRET_A] } }, false);
    const onlyNew = appWith({ signed: { secrets: [SECRET_B] } }, false);
    const s1 = await request(old).get('/start');
    expect(
      (
        await request(rotated)
          .get('/callback')
          .set('cookie', cookiesOf(s1))
          .query({ code: readCode(emulator), state: stateFrom(s1.headers.location) })
      ).status,
    ).toBe(200);
    const s2 = await request(old).get('/start');
    expect(
      (
        await request(onlyNew)
          .get('/callback')
          .set('cookie', cookiesOf(s2))
          .query({ code: readCode(emulator), state: stateFrom(s2.headers.location) })
      ).status,
    ).toBe(403);
  });
});

describe('custom StateStore', () => {
  it('uses store() and verify() of any object', async () => {
    const issued = new Set<string>();
    const store: StateStore = {
      async store() {
        const s = `custom-${issued.size}`;
        issued.add(s);
        return s;
      },
      async verify(_req, state) {
        return issued.delete(state) ? { valid: true, appState: {} } : { valid: false, reason: 'unknown' };
      },
    };
    const app = appWith(store, false);
    const state = stateFrom((await request(app).get('/start')).headers.location);
    expect(state).toBe('custom-0');
    const first = await request(app)
      .get('/callback')
      .query({ code: readCode(emulator), state });
    expect(first.status).toBe(200);
    const again = await request(app)
      .get('/callback')
      .query({ code: readCode(emulator), state });
    expect(again.status).toBe(403);
  });
});
