import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PersonaRequest } from '../../src/index.js';
import { SignedStateStore } from '../../src/state/signed.js';

const SECRET_A = `${'a'.repeat(16)}secret-number-one-0123456789`;
const SECRET_B = `${'b'.repeat(16)}secret-number-two-0123456789`;

/** A browser: keeps the cookies the store sets and sends them back. */
class Browser {
  readonly jar = new Map<string, string>();
  lastSetCookies: string[] = [];

  request(extra: Record<string, unknown> = {}): PersonaRequest {
    const cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    return { headers: cookie ? { cookie } : {}, res, ...extra } as unknown as PersonaRequest;
  }

  absorb(req: PersonaRequest): void {
    const raw = req.res?.getHeader('set-cookie');
    const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
    this.lastSetCookies = list;
    for (const line of list) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async start(store: SignedStateStore, returnTo?: string): Promise<string> {
    const req = this.request();
    const state = await store.store(req, returnTo === undefined ? {} : { returnTo });
    this.absorb(req);
    return state;
  }

  async callback(store: SignedStateStore, state: string) {
    const req = this.request();
    const result = await store.verify(req, state);
    this.absorb(req);
    return result;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_700_000_000_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('SignedStateStore: construction', () => {
  it.each([
    ['no secrets', []],
    ['a short secret', ['x'.repeat(31)]],
    ['a short secret after a good one', [SECRET_A, 'short']],
    ['a non-string secret', [42]],
  ])('throws a TypeError for %s', (_name, secrets) => {
    expect(() => new SignedStateStore({ secrets: secrets as string[] })).toThrow(TypeError);
  });

  it('throws a TypeError without options or with a non-array secrets', () => {
    expect(() => new SignedStateStore(undefined as never)).toThrow(TypeError);
    expect(() => new SignedStateStore({ secrets: SECRET_A as never })).toThrow(TypeError);
  });

  it('accepts a 32-character secret', () => {
    expect(() => new SignedStateStore({ secrets: ['x'.repeat(32)] })).not.toThrow();
  });

  it('keeps its secrets out of util.inspect and JSON', () => {
    const store = new SignedStateStore({ secrets: [SECRET_A, SECRET_B] });
    const views = [inspect(store, { depth: null, showHidden: true }), JSON.stringify(store)];
    for (const view of views) {
      expect(view).not.toContain(SECRET_A);
      expect(view).not.toContain(SECRET_B);
    }
  });

  it('refuses a cookie name that could break the Set-Cookie header', () => {
    expect(() => new SignedStateStore({ secrets: [SECRET_A], cookieName: 'a;b' })).toThrow(TypeError);
    expect(() => new SignedStateStore({ secrets: [SECRET_A], cookieName: '' })).toThrow(TypeError);
  });
});

describe('SignedStateStore: store and verify', () => {
  it('verifies a state it issued and hands back returnTo', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store, '/inquiries/inq_1?tab=2');
    expect(state.split('.')).toHaveLength(4);
    expect(await browser.callback(store, state)).toEqual({
      valid: true,
      appState: { returnTo: '/inquiries/inq_1?tab=2' },
    });
  });

  it('hands back an empty app state when no returnTo was given', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store);
    expect(await browser.callback(store, state)).toEqual({ valid: true, appState: {} });
  });

  it('sets an HttpOnly, SameSite=Lax nonce cookie with the TTL as Max-Age', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    await browser.start(store);
    expect(browser.lastSetCookies).toHaveLength(1);
    const cookie = browser.lastSetCookies[0]!;
    expect(cookie).toMatch(/^pwp_state_[A-Za-z0-9_-]{16}=/);
    expect(cookie).toContain('; Path=/');
    expect(cookie).toContain('; Max-Age=600');
    expect(cookie).toContain('; HttpOnly');
    expect(cookie).toContain('; SameSite=Lax');
    expect(cookie).not.toContain('Secure');
  });

  it('marks the cookie Secure over HTTPS and with SameSite=None', async () => {
    const secureStore = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const req = browser.request({ secure: true });
    await secureStore.store(req, {});
    browser.absorb(req);
    expect(browser.lastSetCookies[0]).toContain('; Secure');

    const noneStore = new SignedStateStore({ secrets: [SECRET_A], sameSite: 'none' });
    await browser.start(noneStore);
    expect(browser.lastSetCookies.at(-1)).toContain('; SameSite=None; Secure');
  });

  it('prefixes a Secure cookie with __Host- (Path=/), or __Secure- under another path, and reads only that name', async () => {
    for (const [options, prefix] of [
      [{}, '__Host-pwp_state_'],
      [{ path: '/auth' }, '__Secure-pwp_state_'],
      [{ sameSite: 'none' as const }, '__Host-pwp_state_'],
    ] as const) {
      const store = new SignedStateStore({ secrets: [SECRET_A], ...options });
      const browser = new Browser();
      const req = browser.request({ secure: true });
      const state = await store.store(req, {});
      browser.absorb(req);
      expect(browser.lastSetCookies[0]?.startsWith(prefix)).toBe(true);
      expect(browser.lastSetCookies[0]).not.toMatch(/domain=/i);
      // The same cookie under the unprefixed name is not read.
      const plain = new Map([...browser.jar].map(([name, value]) => [name.replace(/^__(Host|Secure)-/, ''), value]));
      const spoofed = new Browser();
      for (const [name, value] of plain) spoofed.jar.set(name, value);
      expect(await store.verify(spoofed.request({ secure: true }), state)).toEqual({ valid: false, reason: 'unknown' });
      const ok = browser.request({ secure: true });
      expect(await store.verify(ok, state)).toEqual({ valid: true, appState: {} });
    }
  });

  it.each(['L2E!!', 'L2E=', 'L2F', 'L2E '])(
    'reads the returnTo part strictly: %s is forged (not another spelling of a signed value)',
    async (encoded) => {
      const store = new SignedStateStore({ secrets: [SECRET_A] });
      const browser = new Browser();
      const state = await browser.start(store, '/a');
      const [flowId, expires, , signature] = state.split('.');
      expect(await browser.callback(store, `${flowId}.${expires}.${encoded}.${signature}`)).toEqual({
        valid: false,
        reason: 'forged',
      });
    },
  );

  it('refuses bytes that are not UTF-8 even when they read as the signed text', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    // 0xFF 0x2F reads as the same text as the UTF-8 of U+FFFD '/', so it would carry the same MAC.
    const state = await browser.start(store, '\ufffd/');
    const [flowId, expires, encoded, signature] = state.split('.');
    expect(Buffer.from('_y8', 'base64url').toString('utf8')).toBe(
      Buffer.from(encoded ?? '', 'base64url').toString('utf8'),
    );
    expect(await browser.callback(store, `${flowId}.${expires}._y8.${signature}`)).toEqual({
      valid: false,
      reason: 'forged',
    });
  });

  it('is one-time: the second verify is invalid and the cookie is cleared', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store);
    expect((await browser.callback(store, state)).valid).toBe(true);
    expect(browser.jar.size).toBe(0);
    expect(browser.lastSetCookies[0]).toContain('Max-Age=0');
    const again = await browser.callback(store, state);
    expect(again.valid).toBe(false);
  });

  it('refuses a state when the browser has no cookie for it', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const state = await new Browser().start(store);
    const other = new Browser();
    expect(await other.callback(store, state)).toEqual({ valid: false, reason: 'unknown' });
  });

  it('refuses a state from another browser even when this browser has its own flow', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const victim = new Browser();
    const attacker = new Browser();
    await victim.start(store);
    const attackerState = await attacker.start(store);
    expect((await victim.callback(store, attackerState)).valid).toBe(false);
  });

  it('refuses a cookie from another flow renamed to fit the state (nonce binding)', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state1 = await browser.start(store);
    const state2 = await browser.start(store);
    const flow1 = state1.split('.')[0]!;
    const flow2 = state2.split('.')[0]!;
    // Give flow 1's cookie the nonce of flow 2.
    browser.jar.set(`pwp_state_${flow1}`, browser.jar.get(`pwp_state_${flow2}`)!);
    expect(await browser.callback(store, state1)).toEqual({ valid: false, reason: 'forged' });
  });

  it('refuses an unknown or malformed state', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    await browser.start(store);
    for (const state of ['', 'abc', 'a.b.c', 'a.b.c.d.e', '....']) {
      expect((await browser.callback(store, state)).valid).toBe(false);
    }
  });

  it.each([
    [
      'the signature',
      (parts: string[]) => {
        parts[3] = `${parts[3]!.slice(0, -2)}${parts[3]!.endsWith('AA') ? 'BB' : 'AA'}`;
      },
    ],
    [
      'the returnTo',
      (parts: string[]) => {
        parts[2] = Buffer.from('//evil.example').toString('base64url');
      },
    ],
    [
      'the expiry (extended)',
      (parts: string[]) => {
        parts[1] = (parseInt(parts[1]!, 36) + 3_600_000).toString(36);
      },
    ],
  ])('reports a state with tampered %s as forged', async (_name, tamper) => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store, '/home');
    const parts = state.split('.');
    tamper(parts);
    const forged = parts.join('.');
    expect(forged).not.toBe(state);
    expect(await browser.callback(store, forged)).toEqual({ valid: false, reason: 'forged' });
  });

  it('reports a tampered state as forged and then refuses the genuine one (the cookie is spent)', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store, '/home');
    const parts = state.split('.');
    parts[2] = Buffer.from('/other').toString('base64url');
    expect((await browser.callback(store, parts.join('.'))).valid).toBe(false);
    expect((await browser.callback(store, state)).valid).toBe(false);
  });

  it('reports an expired state after the 10-minute default', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const state = await browser.start(store);
    vi.advanceTimersByTime(600_000);
    expect(await browser.callback(store, state)).toEqual({ valid: false, reason: 'expired' });
  });

  it('accepts a state just before it expires, and honours ttlSeconds', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A], ttlSeconds: 30 });
    const browser = new Browser();
    const early = await browser.start(store);
    const late = await browser.start(store);
    expect(browser.lastSetCookies.at(-1)).toContain('Max-Age=30');
    vi.advanceTimersByTime(29_999);
    expect((await browser.callback(store, early)).valid).toBe(true);
    vi.advanceTimersByTime(1);
    expect(await browser.callback(store, late)).toEqual({ valid: false, reason: 'expired' });
  });

  it('keeps several tabs valid at once', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const states: string[] = [];
    for (let i = 0; i < 5; i++) states.push(await browser.start(store, `/tab/${i}`));
    for (const i of [3, 0, 4, 1, 2]) {
      expect(await browser.callback(store, states[i]!)).toEqual({ valid: true, appState: { returnTo: `/tab/${i}` } });
    }
  });

  it('evicts the oldest flow beyond 10 tabs', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const browser = new Browser();
    const states: string[] = [];
    for (let i = 0; i < 11; i++) {
      states.push(await browser.start(store));
      vi.advanceTimersByTime(1_000);
    }
    expect(browser.jar.size).toBe(10);
    expect((await browser.callback(store, states[0]!)).valid).toBe(false);
    for (let i = 1; i < 11; i++) expect((await browser.callback(store, states[i]!)).valid).toBe(true);
  });

  it('can be verified by another instance holding the same secret', async () => {
    const browser = new Browser();
    const state = await browser.start(new SignedStateStore({ secrets: [SECRET_A] }), '/x');
    expect(await browser.callback(new SignedStateStore({ secrets: [SECRET_A] }), state)).toEqual({
      valid: true,
      appState: { returnTo: '/x' },
    });
  });

  it('refuses a state signed with a secret the verifier does not have', async () => {
    const browser = new Browser();
    const state = await browser.start(new SignedStateStore({ secrets: [SECRET_A] }));
    expect(await browser.callback(new SignedStateStore({ secrets: [SECRET_B] }), state)).toEqual({
      valid: false,
      reason: 'forged',
    });
  });

  it('rotates secrets: a state signed with the old secret verifies with [new, old]', async () => {
    const browser = new Browser();
    const oldState = await browser.start(new SignedStateStore({ secrets: [SECRET_A] }), '/old');
    const rotated = new SignedStateStore({ secrets: [SECRET_B, SECRET_A] });
    expect(await browser.callback(rotated, oldState)).toEqual({ valid: true, appState: { returnTo: '/old' } });
  });

  it('rotates secrets: the first secret signs, so a new state verifies with [new] only', async () => {
    const browser = new Browser();
    const rotated = new SignedStateStore({ secrets: [SECRET_B, SECRET_A] });
    const state = await browser.start(rotated);
    expect((await browser.callback(new SignedStateStore({ secrets: [SECRET_B] }), state)).valid).toBe(true);

    const again = await browser.start(rotated);
    expect(await browser.callback(new SignedStateStore({ secrets: [SECRET_A] }), again)).toEqual({
      valid: false,
      reason: 'forged',
    });
  });

  it('rotates secrets: an old-secret state is forged once the old secret is dropped', async () => {
    const browser = new Browser();
    const oldState = await browser.start(new SignedStateStore({ secrets: [SECRET_A] }));
    expect(await browser.callback(new SignedStateStore({ secrets: [SECRET_B] }), oldState)).toEqual({
      valid: false,
      reason: 'forged',
    });
  });

  it('uses a custom cookie name', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A], cookieName: 'myapp_state' });
    const browser = new Browser();
    const state = await browser.start(store);
    expect([...browser.jar.keys()][0]).toMatch(/^myapp_state_/);
    expect((await browser.callback(store, state)).valid).toBe(true);
  });

  it('throws a clear error, naming attachStateResponse, when the response cannot be found', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    await expect(store.store({ headers: {} } as PersonaRequest, {})).rejects.toThrow(/attachStateResponse/);
  });

  it('works with a minimal response object (getHeader / setHeader)', async () => {
    const store = new SignedStateStore({ secrets: [SECRET_A] });
    const headers = new Map<string, unknown>();
    const res = {
      getHeader: (name: string) => headers.get(name.toLowerCase()),
      setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
    };
    const state = await store.store({ headers: {}, res } as unknown as PersonaRequest, { returnTo: '/m' });
    const [cookieLine] = headers.get('set-cookie') as string[];
    const cookie = cookieLine!.split(';')[0]!;
    const verifyReq = { headers: { cookie: `other=1; ${cookie}` }, res } as unknown as PersonaRequest;
    expect(await store.verify(verifyReq, state)).toEqual({ valid: true, appState: { returnTo: '/m' } });
  });
});
