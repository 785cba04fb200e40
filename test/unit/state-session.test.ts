import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PersonaRequest } from '../../src/index.js';
import { SessionStateStore } from '../../src/state/session.js';

const KEY = 'passport-withpersona:state';

function fakeReq(session: unknown = {}): PersonaRequest & { session: Record<string, unknown> } {
  return { session } as unknown as PersonaRequest & { session: Record<string, unknown> };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionStateStore', () => {
  it('verifies a state it stored and hands back the app state', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, { returnTo: '/inquiries/inq_1' });
    expect(state).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: { returnTo: '/inquiries/inq_1' } });
  });

  it('hands back an empty app state when none was stored', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: {} });
  });

  it('issues a different state each time', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const states = new Set<string>();
    for (let i = 0; i < 5; i++) states.add(await store.store(req, {}));
    expect(states.size).toBe(5);
  });

  it('is one-time: the second verify of a state is invalid', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    expect((await store.verify(req, state)).valid).toBe(true);
    expect(await store.verify(req, state)).toEqual({ valid: false, reason: 'unknown' });
  });

  it('accepts a state once even from two copies of one session (two requests racing)', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    // Each request loads its own copy of the session from the store.
    const copy = (): PersonaRequest => fakeReq(JSON.parse(JSON.stringify(req.session)));
    const [first, second] = [copy(), copy()];
    expect(await store.verify(first, state)).toEqual({ valid: true, appState: {} });
    // The racing copy is this browser's own (a double click): told apart from an unknown state.
    expect(await store.verify(second, state)).toEqual({ valid: false, reason: 'in-use' });
  });

  it('remembers the latest 100,000 accepted states, so its memory is bounded at any sign-in rate', async () => {
    const store = new SessionStateStore();
    // Accepts a fresh state and returns it with a racing copy of its session (and a second one).
    const accept = async (): Promise<[string, PersonaRequest, PersonaRequest]> => {
      const req = fakeReq();
      const state = await store.store(req, {});
      const copy = (): PersonaRequest => fakeReq(JSON.parse(JSON.stringify(req.session)));
      const racing: [PersonaRequest, PersonaRequest] = [copy(), copy()];
      expect((await store.verify(req, state)).valid).toBe(true);
      return [state, ...racing];
    };
    const [firstState, firstRacing, laterRacing] = await accept();
    // The 99,998 in between need no racing copies: only whether each was accepted.
    let accepted = 0;
    for (let i = 2; i < 100_000; i++) {
      const req = fakeReq();
      if ((await store.verify(req, await store.store(req, {}))).valid) accepted++;
    }
    expect(accepted).toBe(99_998);
    const last = await accept();
    // 100,000 accepted: the first one's racing copy is still refused (a refusal adds nothing).
    expect(await store.verify(firstRacing, firstState)).toEqual({ valid: false, reason: 'in-use' });
    const [lastState, lastRacing] = last;
    await accept();
    // The next acceptance made room by forgetting the oldest; the recent ones are kept.
    expect(await store.verify(lastRacing, lastState)).toEqual({ valid: false, reason: 'in-use' });
    expect(await store.verify(laterRacing, firstState)).toEqual({ valid: true, appState: {} });
  });

  it('keeps the states it has accepted out of util.inspect', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    expect((await store.verify(req, state)).valid).toBe(true);
    expect(inspect(store, { showHidden: true, depth: null })).not.toContain(state);
  });

  it('refuses an unknown state', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    expect(await store.verify(req, `${state}x`)).toEqual({ valid: false, reason: 'unknown' });
    expect(await store.verify(req, state.slice(0, -1))).toEqual({ valid: false, reason: 'unknown' });
    expect(await store.verify(req, '')).toEqual({ valid: false, reason: 'unknown' });
    // A wrong guess does not consume the real one.
    expect((await store.verify(req, state)).valid).toBe(true);
  });

  it('refuses a state when the session holds none', async () => {
    const store = new SessionStateStore();
    expect(await store.verify(fakeReq(), 'anything')).toEqual({ valid: false, reason: 'unknown' });
  });

  it('refuses a state stored in another session', async () => {
    const store = new SessionStateStore();
    const state = await store.store(fakeReq(), {});
    expect(await store.verify(fakeReq(), state)).toEqual({ valid: false, reason: 'unknown' });
  });

  it('reports an expired state after the 10-minute default', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    vi.advanceTimersByTime(600_000);
    expect(await store.verify(req, state)).toEqual({ valid: false, reason: 'expired' });
    // And it is gone afterwards.
    expect(await store.verify(req, state)).toEqual({ valid: false, reason: 'unknown' });
  });

  it('accepts a state just before it expires', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, {});
    vi.advanceTimersByTime(599_999);
    expect((await store.verify(req, state)).valid).toBe(true);
  });

  it('honours ttlSeconds', async () => {
    const store = new SessionStateStore({ ttlSeconds: 5 });
    const req = fakeReq();
    const fresh = await store.store(req, {});
    const stale = await store.store(req, {});
    vi.advanceTimersByTime(4_000);
    expect((await store.verify(req, fresh)).valid).toBe(true);
    vi.advanceTimersByTime(1_000);
    expect(await store.verify(req, stale)).toEqual({ valid: false, reason: 'expired' });
  });

  it('keeps several flows (tabs) valid at once, in any order', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const states: string[] = [];
    for (let i = 0; i < 10; i++) states.push(await store.store(req, { returnTo: `/tab/${i}` }));
    for (const i of [7, 0, 9, 3, 1, 2, 8, 4, 6, 5]) {
      expect(await store.verify(req, states[i]!)).toEqual({ valid: true, appState: { returnTo: `/tab/${i}` } });
    }
    expect(req.session[KEY]).toBeUndefined();
  });

  it('evicts the oldest flow beyond 10', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const states: string[] = [];
    for (let i = 0; i < 11; i++) {
      states.push(await store.store(req, {}));
      vi.advanceTimersByTime(1);
    }
    expect(await store.verify(req, states[0]!)).toEqual({ valid: false, reason: 'unknown' });
    for (let i = 1; i < 11; i++) expect((await store.verify(req, states[i]!)).valid).toBe(true);
  });

  it('honours maxFlows', async () => {
    const store = new SessionStateStore({ maxFlows: 2 });
    const req = fakeReq();
    const a = await store.store(req, {});
    const b = await store.store(req, {});
    const c = await store.store(req, {});
    expect((await store.verify(req, a)).valid).toBe(false);
    expect((await store.verify(req, b)).valid).toBe(true);
    expect((await store.verify(req, c)).valid).toBe(true);
  });

  it('drops expired flows when a new one is stored', async () => {
    const store = new SessionStateStore({ ttlSeconds: 10 });
    const req = fakeReq();
    await store.store(req, {});
    vi.advanceTimersByTime(11_000);
    const fresh = await store.store(req, {});
    expect(req.session[KEY]).toHaveLength(1);
    expect((await store.verify(req, fresh)).valid).toBe(true);
  });

  it('uses a custom session key', async () => {
    const store = new SessionStateStore({ key: 'myflows' });
    const req = fakeReq();
    const state = await store.store(req, {});
    expect(Array.isArray(req.session.myflows)).toBe(true);
    expect(req.session[KEY]).toBeUndefined();
    expect((await store.verify(req, state)).valid).toBe(true);
  });

  it('keeps the session JSON-serialisable (a session store will serialise it)', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const state = await store.store(req, { returnTo: '/x' });
    const restored = fakeReq(JSON.parse(JSON.stringify(req.session)));
    expect(await store.verify(restored, state)).toEqual({ valid: true, appState: { returnTo: '/x' } });
  });

  it('copies the app state rather than sharing it', async () => {
    const store = new SessionStateStore();
    const req = fakeReq();
    const appState = { returnTo: '/a' };
    const state = await store.store(req, appState);
    appState.returnTo = '/changed';
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: { returnTo: '/a' } });
  });

  it('survives junk in the session slot', async () => {
    const store = new SessionStateStore();
    const req = fakeReq({ [KEY]: [null, 1, 'x', { state: 5 }, { state: 'abc' }] });
    expect((await store.verify(req, 'abc')).valid).toBe(false);
    const state = await store.store(req, {});
    expect((await store.verify(req, state)).valid).toBe(true);
  });

  it('throws a clear error without a session', async () => {
    const store = new SessionStateStore();
    await expect(store.store({} as PersonaRequest, {})).rejects.toThrow(/session/);
    await expect(store.verify({} as PersonaRequest, 'x')).rejects.toThrow(/session/);
  });
});
