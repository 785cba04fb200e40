import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { PersonaStrategy, type SignedStateStoreOptions } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { closeAfterEach, readCode, tokenRequests, useEmulator } from '../helpers/emulator.js';
import { recipientApp, stateFrom } from '../helpers/recipient-app.js';

// The signed state store's nonce cookies as a browser sees them over HTTP: their exact
// attributes, which flow is evicted whatever order the browser sends its cookies in, and the
// callbacks that must be refused as forged.

let emulator: PersonaEmulator;
const strategies: PersonaStrategy[] = [];
const SECRET = `${'c'.repeat(16)}signed-cookie-secret-0123456789`;

useEmulator((started) => {
  emulator = started;
});
closeAfterEach(strategies);

type SignedOptions = Omit<SignedStateStoreOptions, 'secrets'>;

/** The recipient app with signed state, behind a trusted proxy so X-Forwarded-Proto counts. */
function signedApp(options: SignedOptions = {}): express.Express {
  const made = recipientApp(
    { apiKey: emulator.recipient.apiKey, url: emulator.url },
    { strategy: { state: { signed: { secrets: [SECRET], ...options } } }, session: false },
  );
  strategies.push(made.strategy);
  const app = express();
  app.set('trust proxy', 'loopback');
  app.use(made.app);
  return app;
}

interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case → their value ('' for a flag). */
  attributes: Map<string, string>;
  line: string;
}

function setCookies(res: request.Response): SetCookie[] {
  const lines = (res.headers['set-cookie'] ?? []) as unknown as string[];
  return lines.map((line) => {
    const [pair = '', ...rest] = line.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const attributes = new Map<string, string>();
    for (const attribute of rest) {
      const at = attribute.indexOf('=');
      if (at === -1) attributes.set(attribute.toLowerCase(), '');
      else attributes.set(attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1));
    }
    return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes, line };
  });
}

async function start(app: express.Express, https = false, cookie?: string) {
  let req = request(app).get('/start');
  if (https) req = req.set('x-forwarded-proto', 'https');
  if (cookie) req = req.set('cookie', cookie);
  const res = await req;
  expect(res.status).toBe(302);
  return { res, state: stateFrom(res.headers.location), cookies: setCookies(res) };
}

async function callback(app: express.Express, state: string, cookie: string, https = false) {
  let req = request(app).get('/callback').set('cookie', cookie);
  if (https) req = req.set('x-forwarded-proto', 'https');
  return req.query({ code: readCode(emulator), state });
}

const pair = (c: SetCookie): string => `${c.name}=${c.value}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('signed state: the nonce cookie attributes', () => {
  it('sets Max-Age to the TTL in seconds, exactly: 600 by default, ttlSeconds when given', async () => {
    for (const [options, maxAge] of [
      [{}, '600'],
      [{ ttlSeconds: 30 }, '30'],
      [{ ttlSeconds: 1 }, '1'],
    ] as const) {
      const { cookies } = await start(signedApp(options));
      expect(cookies).toHaveLength(1);
      expect(cookies[0]?.attributes.get('max-age')).toBe(maxAge);
    }
  });

  it('sets exactly Path, Max-Age, HttpOnly and SameSite over HTTP, in that order, and no Secure', async () => {
    const { cookies } = await start(signedApp());
    const [cookie] = cookies;
    expect(cookie?.name).toMatch(/^pwp_state_[A-Za-z0-9_-]{16}$/);
    expect(cookie?.value).toMatch(/^[0-9a-z]{1,12}\.[A-Za-z0-9_-]{22}$/);
    expect(cookie?.line).toBe(`${cookie?.name}=${cookie?.value}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax`);
  });

  it('sameSite: strict gives SameSite=Strict, and the flow still completes', async () => {
    const app = signedApp({ sameSite: 'strict' });
    const { state, cookies } = await start(app);
    expect(cookies[0]?.attributes.get('samesite')).toBe('Strict');
    expect(cookies[0]?.attributes.has('secure')).toBe(false);
    const res = await callback(app, state, pair(cookies[0] as SetCookie));
    expect(res.status).toBe(200);
  });

  it('secure: true marks the cookie Secure and __Host- even over plain HTTP, and reads only that name', async () => {
    const app = signedApp({ secure: true });
    const { state, cookies } = await start(app);
    const [cookie] = cookies;
    expect(cookie?.name).toMatch(/^__Host-pwp_state_/);
    expect(cookie?.attributes.has('secure')).toBe(true);
    expect(cookie?.attributes.get('path')).toBe('/');
    const unprefixed = pair(cookie as SetCookie).replace(/^__Host-/, '');
    expect((await callback(app, state, unprefixed)).status).toBe(403);
    expect((await callback(app, state, pair(cookie as SetCookie))).status).toBe(200);
  });

  it('secure: false leaves Secure and the prefix off even over HTTPS', async () => {
    const app = signedApp({ secure: false });
    const { state, cookies } = await start(app, true);
    const [cookie] = cookies;
    expect(cookie?.name).toMatch(/^pwp_state_/);
    expect(cookie?.attributes.has('secure')).toBe(false);
    expect((await callback(app, state, pair(cookie as SetCookie), true)).status).toBe(200);
  });

  it("secure: 'auto' (the default) follows the request: Secure over HTTPS only", async () => {
    const app = signedApp();
    expect((await start(app, true)).cookies[0]?.attributes.has('secure')).toBe(true);
    expect((await start(app, false)).cookies[0]?.attributes.has('secure')).toBe(false);
  });

  it('a path other than / goes into Path= and turns __Host- into __Secure-', async () => {
    const { cookies } = await start(signedApp({ path: '/auth', secure: true }));
    expect(cookies[0]?.name).toMatch(/^__Secure-pwp_state_/);
    expect(cookies[0]?.attributes.get('path')).toBe('/auth');
  });

  it.each(['auth', 'auth/', '', ' /auth', '/a;b', '/a b', '/a\u0000'])('refuses the path %j', (path) => {
    expect(
      () =>
        new PersonaStrategy({
          apiKey: 'persona_sandbox_key',
          baseURL: 'http://127.0.0.1:9',
          state: { signed: { secrets: [SECRET], path } },
        }),
    ).toThrow(/path must start with \//);
  });

  it.each([['yes'], [1], [{}]])('refuses secure: %j', (secure) => {
    expect(
      () =>
        new PersonaStrategy({
          apiKey: 'persona_sandbox_key',
          baseURL: 'http://127.0.0.1:9',
          state: { signed: { secrets: [SECRET], secure: secure as never } },
        }),
    ).toThrow(/secure must be true, false or 'auto'/);
  });

  it.each(['Lax', 'STRICT', 'none ', ''])('refuses sameSite: %j', (sameSite) => {
    expect(
      () =>
        new PersonaStrategy({
          apiKey: 'persona_sandbox_key',
          baseURL: 'http://127.0.0.1:9',
          state: { signed: { secrets: [SECRET], sameSite: sameSite as never } },
        }),
    ).toThrow(/sameSite must be lax, strict or none/);
  });
});

describe('signed state: eviction beyond maxFlows, in the order the flows were started', () => {
  /** Starts `n` flows one after the other, a few ms apart; the cookies come back oldest first. */
  async function startFlows(app: express.Express, n: number): Promise<{ states: string[]; cookies: SetCookie[] }> {
    const states: string[] = [];
    const cookies: SetCookie[] = [];
    for (let i = 0; i < n; i++) {
      const flow = await start(app, false, cookies.map(pair).join('; ') || undefined);
      states.push(flow.state);
      cookies.push(flow.cookies.at(-1) as SetCookie);
      await pause(3);
    }
    return { states, cookies };
  }

  it('evicts the oldest flow when the browser sends its cookies newest first', async () => {
    const app = signedApp({ maxFlows: 3 });
    const { cookies } = await startFlows(app, 3);
    const newestFirst = [...cookies].reverse().map(pair).join('; ');
    const fourth = await start(app, false, newestFirst);
    const cleared = fourth.cookies.filter((c) => c.attributes.get('max-age') === '0');
    expect(cleared.map((c) => c.name)).toEqual([cookies[0]?.name]);
    expect(cleared[0]?.value).toBe('');
    expect(fourth.cookies.at(-1)?.attributes.get('max-age')).toBe('600');
  });

  it('evicts the two oldest when four are pending under maxFlows 3, in any cookie order', async () => {
    const app = signedApp({ maxFlows: 4 });
    const { cookies } = await startFlows(app, 4);
    const strict = signedApp({ maxFlows: 3 });
    const shuffled = [cookies[2], cookies[0], cookies[3], cookies[1]].map((c) => pair(c as SetCookie)).join('; ');
    const next = await start(strict, false, shuffled);
    const cleared = next.cookies.filter((c) => c.attributes.get('max-age') === '0').map((c) => c.name);
    expect(cleared.sort()).toEqual([cookies[0]?.name, cookies[1]?.name].sort());
  });

  it('the evicted flow is refused, the others still complete', async () => {
    const app = signedApp({ maxFlows: 2 });
    const { states, cookies } = await startFlows(app, 3);
    // The browser applied each answer: the first cookie was cleared when the third flow started.
    const jar = cookies.slice(1);
    const all = [...jar].reverse().map(pair).join('; ');
    const refused = await callback(app, states[0] as string, all);
    expect(refused.status).toBe(403);
    expect(refused.body.info.message).toContain('(unknown)');
    for (const i of [1, 2]) expect((await callback(app, states[i] as string, all)).status).toBe(200);
  });

  it('ignores cookies of other names and malformed values when counting the pending flows', async () => {
    const app = signedApp({ maxFlows: 2 });
    const { cookies } = await startFlows(app, 1);
    const noise = ['pwp_state_AAAAAAAAAAAAAAAA=garbage', 'other_AAAAAAAAAAAAAAAA=1.AAAAAAAAAAAAAAAAAAAAAA', 'x=1'];
    const next = await start(app, false, [...noise, pair(cookies[0] as SetCookie)].join('; '));
    expect(next.cookies.filter((c) => c.attributes.get('max-age') === '0')).toEqual([]);
  });
});

describe('signed state: callbacks refused as forged', () => {
  async function flow(app: express.Express) {
    const { state, cookies } = await start(app);
    return { state, cookie: cookies[0] as SetCookie };
  }

  async function expectForged(app: express.Express, state: string, cookie: string) {
    const res = await callback(app, state, cookie);
    expect(res.status).toBe(403);
    expect(res.body.info.code).toBe('invalid_state');
    expect(res.body.info.message).toContain('(forged)');
    expect(tokenRequests(emulator)).toHaveLength(0);
    return res;
  }

  it('a state that is not four dot-separated parts', async () => {
    const app = signedApp();
    const { state, cookie } = await flow(app);
    const parts = state.split('.');
    for (const bad of [parts.slice(0, 3).join('.'), `${state}.x`, 'plain']) await expectForged(app, bad, pair(cookie));
  });

  it('a flow id that is not 16 base64url characters, or an expiry that is not base 36', async () => {
    const app = signedApp();
    const { state, cookie } = await flow(app);
    const [flowId = '', expires = '', returnTo = '', signature = ''] = state.split('.');
    for (const bad of [
      [`${flowId}A`, expires, returnTo, signature],
      [flowId.slice(1), expires, returnTo, signature],
      [`${flowId.slice(1)}!`, expires, returnTo, signature],
      [flowId, 'ABC', returnTo, signature],
      [flowId, '', returnTo, signature],
      [flowId, '1234567890abc', returnTo, signature],
    ]) {
      await expectForged(app, bad.join('.'), pair(cookie));
    }
  });

  it('a nonce cookie whose value was tampered with, and its cookie is cleared all the same', async () => {
    const app = signedApp();
    for (const tamper of [
      (value: string) => `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`,
      (value: string) => `${value}x`,
      () => 'not-a-nonce',
      () => '',
    ]) {
      const { state, cookie } = await flow(app);
      const res = await expectForged(app, state, `${cookie.name}=${tamper(cookie.value)}`);
      const cleared = setCookies(res).find((c) => c.name === cookie.name);
      expect(cleared?.attributes.get('max-age')).toBe('0');
    }
  });

  it('reads the first of two cookies with the same name, as a browser sends the more specific first', async () => {
    const app = signedApp();
    const genuine = await flow(app);
    const tampered = `${genuine.cookie.name}=zz.${'A'.repeat(22)}`;
    await expectForged(app, genuine.state, `${tampered}; ${pair(genuine.cookie)}`);

    const again = await flow(app);
    const res = await callback(app, again.state, `${pair(again.cookie)}; ${again.cookie.name}=zz.${'A'.repeat(22)}`);
    expect(res.status).toBe(200);
  });
});
