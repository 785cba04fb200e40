import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStateStore, type PersonaRequest } from '../../src/index.js';
import { SessionStateStore } from '../../src/state/session.js';

// What session state leaves in the session (nothing once the last flow is consumed, only
// well-formed live flows after a store, no empty app state), the words of its errors, and what
// createStateStore makes of each option.

const KEY = 'passport-withpersona:state';
const NO_SESSION =
  'passport-withpersona: state: true needs a session (express-session or similar) on req.session; use state: { signed: { secrets } } for stateless state';
const NOT_AN_OPTION =
  'passport-withpersona: createStateStore takes true, { session: { … } } or { signed: { secrets } }';

type SessionRequest = PersonaRequest & { session: Record<string, unknown> };
const requestWith = (session: unknown): SessionRequest => ({ session }) as unknown as SessionRequest;

const NOW = 1_700_000_000_000;
beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionStateStore: what it leaves in the session', () => {
  it('removes its key once the last flow is consumed', async () => {
    const store = new SessionStateStore();
    const req = requestWith({ other: 1 });
    const state = await store.store(req, {});
    expect((await store.verify(req, state)).valid).toBe(true);
    expect(Object.keys(req.session)).toEqual(['other']);
  });

  it('on a session that ignores delete (as @fastify/secure-session does), leaves undefined, not an empty list', async () => {
    const store = new SessionStateStore();
    const target: Record<string, unknown> = {};
    const session = new Proxy(target, { deleteProperty: () => true });
    const req = requestWith(session);
    const state = await store.store(req, {});
    expect((await store.verify(req, state)).valid).toBe(true);
    expect(target[KEY]).toBeUndefined();
  });

  it('keeps the other flows when one is consumed', async () => {
    const store = new SessionStateStore();
    const req = requestWith({});
    const first = await store.store(req, {});
    const second = await store.store(req, {});
    expect((await store.verify(req, first)).valid).toBe(true);
    expect((req.session[KEY] as { state: string }[]).map((f) => f.state)).toEqual([second]);
  });

  it('replaces a slot that is not a list with a list of the one new flow', async () => {
    const store = new SessionStateStore();
    const req = requestWith({ [KEY]: 'junk' });
    const state = await store.store(req, {});
    expect(req.session[KEY]).toEqual([{ state, expiresAt: NOW + 600_000 }]);
  });

  it('drops every entry that is not a live, well-formed flow when it stores a new one', async () => {
    const store = new SessionStateStore();
    const live = { state: 'live-flow', expiresAt: NOW + 1 };
    const shaped = Object.assign(() => undefined, { state: 'a-function', expiresAt: NOW + 60_000 });
    const junk = [
      null,
      7,
      'text',
      shaped,
      { state: 42, expiresAt: NOW + 60_000 },
      { state: 'string-expiry', expiresAt: String(NOW + 60_000) },
      { state: 'expires-now', expiresAt: NOW },
      { state: 'expired', expiresAt: NOW - 1 },
      live,
    ];
    const req = requestWith({ [KEY]: junk });
    const state = await store.store(req, {});
    expect(req.session[KEY]).toEqual([live, { state, expiresAt: NOW + 600_000 }]);
  });

  it('stores no app state for a flow without returnTo, and hands back none', async () => {
    const store = new SessionStateStore();
    const req = requestWith({});
    const state = await store.store(req, {});
    const [flow] = req.session[KEY] as Record<string, unknown>[];
    expect(Object.keys(flow ?? {})).toEqual(['state', 'expiresAt']);
    const result = await store.verify(req, state);
    expect(result).toStrictEqual({ valid: true, appState: {} });
  });
});

describe('SessionStateStore: the words of its errors', () => {
  it.each([
    ['no session', undefined],
    ['a session that is a string', 'sess:abc'],
    ['a session that is a number', 1],
  ])('%s: store and verify reject, saying what to use instead', async (_name, session) => {
    const store = new SessionStateStore();
    await expect(store.store(requestWith(session), {})).rejects.toThrow(new Error(NO_SESSION));
    await expect(store.verify(requestWith(session), 'x')).rejects.toThrow(new Error(NO_SESSION));
  });

  it.each([
    [{ ttlSeconds: 0 }, 'passport-withpersona: ttlSeconds must be an integer ≥ 1'],
    [{ maxFlows: 0 }, 'passport-withpersona: maxFlows must be an integer ≥ 1'],
  ])('%j is refused, naming the option', (options, message) => {
    expect(() => new SessionStateStore(options)).toThrow(new TypeError(message));
  });
});

describe('createStateStore: each option', () => {
  it.each([
    ['false', false],
    ['null', null],
    ['a string', 'signed'],
    ['a number', 1],
    ['an empty object', {}],
    ['an object naming neither', { memory: {} }],
  ])('refuses %s, saying what it takes', (_name, option) => {
    expect(() => createStateStore(option as never)).toThrow(new TypeError(NOT_AN_OPTION));
  });

  it('{ session } makes session state under the key given', async () => {
    const store = createStateStore({ session: { key: 'flows' } });
    const req = requestWith({});
    const state = await store.store(req, { returnTo: '/back' });
    expect(Object.keys(req.session)).toEqual(['flows']);
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: { returnTo: '/back' } });
  });

  it('refuses a returnTo that is not a same-origin path, before anything is stored', async () => {
    const store = createStateStore(true);
    const req = requestWith({});
    await expect(store.store(req, { returnTo: '//evil.example/x' })).rejects.toThrow(
      new TypeError('passport-withpersona: returnTo must be a same-origin relative path'),
    );
    expect(req.session).toEqual({});
  });
});
