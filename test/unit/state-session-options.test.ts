import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PersonaRequest } from '../../src/index.js';
import { SessionStateStore } from '../../src/state/session.js';

// The session store's key option, and its memory of accepted states over time: an accepted state
// is refused to a racing copy of its session until it expires, and forgotten after.

type SessionRequest = PersonaRequest & { session: Record<string, unknown> };
const fakeReq = (session: Record<string, unknown> = {}): SessionRequest => ({ session }) as unknown as SessionRequest;
const copyOf = (req: SessionRequest): SessionRequest => fakeReq(JSON.parse(JSON.stringify(req.session)));

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SessionStateStore: key', () => {
  it.each([[''], [42], [false]])('refuses key %j with a TypeError naming it', (key) => {
    expect(() => new SessionStateStore({ key: key as never })).toThrow(
      new TypeError('passport-withpersona: key must be a non-empty string'),
    );
  });

  it('takes the default key when key is undefined', async () => {
    const store = new SessionStateStore({ key: undefined });
    const req = fakeReq();
    await store.store(req, {});
    expect(Object.keys(req.session)).toEqual(['passport-withpersona:state']);
  });

  it('accepts a one-character key', async () => {
    const store = new SessionStateStore({ key: 'k' });
    const req = fakeReq();
    const state = await store.store(req, {});
    expect(Object.keys(req.session)).toEqual(['k']);
    expect((await store.verify(req, state)).valid).toBe(true);
  });
});

describe('SessionStateStore: the accepted states it remembers', () => {
  it('keeps refusing a racing copy of a live state after older accepted states expire and are pruned', async () => {
    const store = new SessionStateStore({ ttlSeconds: 60 });
    // A, accepted first; B, accepted 30 s later.
    const a = fakeReq();
    const stateA = await store.store(a, {});
    const racingA = copyOf(a);
    expect((await store.verify(a, stateA)).valid).toBe(true);
    vi.advanceTimersByTime(30_000);
    const b = fakeReq();
    const stateB = await store.store(b, {});
    const racingB = copyOf(b);
    expect((await store.verify(b, stateB)).valid).toBe(true);

    // A has expired; C's acceptance prunes it and must stop at B, which is still live.
    vi.advanceTimersByTime(30_001);
    const c = fakeReq();
    expect((await store.verify(c, await store.store(c, {}))).valid).toBe(true);
    expect(await store.verify(racingB, stateB)).toEqual({ valid: false, reason: 'in-use' });
    // A's racing copy is refused as expired, whatever the store remembers.
    expect(await store.verify(racingA, stateA)).toEqual({ valid: false, reason: 'expired' });
  });

  it('accepts a state exactly once within its lifetime, to its last millisecond', async () => {
    const store = new SessionStateStore({ ttlSeconds: 60 });
    const req = fakeReq();
    const state = await store.store(req, {});
    const racing = [copyOf(req), copyOf(req)];
    vi.advanceTimersByTime(59_999);
    expect((await store.verify(req, state)).valid).toBe(true);
    expect(await store.verify(racing[0] as SessionRequest, state)).toEqual({ valid: false, reason: 'in-use' });
    vi.advanceTimersByTime(1);
    expect(await store.verify(racing[1] as SessionRequest, state)).toEqual({ valid: false, reason: 'expired' });
  });
});
