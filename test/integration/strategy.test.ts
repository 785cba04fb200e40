import { inspect } from 'node:util';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createCodeExchanger,
  PersonaStrategy,
  type PersonaStrategyOptions,
  type PersonaTokenSet,
} from '../../src/index.js';
import { VERSION } from '../../src/version.js';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { tokenRequests, useEmulator } from '../helpers/emulator.js';
import { startTokenServer } from '../helpers/token-server.js';

let emulator: PersonaEmulator;
let current: TestApp | undefined;

useEmulator((started) => {
  emulator = started;
});
afterEach(async () => {
  await current?.strategy.close();
  current = undefined;
});

function setup(options: Partial<PersonaStrategyOptions> = {}, verify?: Parameters<typeof createTestApp>[1]): TestApp {
  current = createTestApp({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url, ...options }, verify);
  return current;
}

// Forced answers use a code of their own, so no test depends on what another did to a code.
let sequence = 0;
function freshCode(): string {
  sequence += 1;
  return `unknown-code-${sequence}`;
}

function share(count = 2, from = emulator): { code: string; inquiryIds: string[] } {
  const inquiryIds = from.owner.inquiries.slice(0, count).map((i) => i.id);
  const { code } = from.createAuthorization({ scope: inquiryIds.map((id) => `inquiry.read:${id}`) });
  return { code, inquiryIds };
}

describe('successful exchange', () => {
  it('puts the token set on req.user and sends the documented request to Persona', async () => {
    const { app } = setup();
    const { code, inquiryIds } = share(2);
    const before = Date.now();
    const res = await request(app).get('/plain').query({ code });
    expect(res.status).toBe(200);
    const user = res.body.user as PersonaTokenSet;
    expect(user.accessToken).toMatch(/^persona_access_token_[0-9a-f-]{36}$/);
    expect(user.tokenType).toBe('bearer');
    expect(user.expiresIn).toBeGreaterThan(0);
    expect(user.expiresIn).toBeLessThanOrEqual(3600);
    expect(user.expiresAt).toBeGreaterThanOrEqual(before + user.expiresIn * 1000);
    expect(user.scopes).toEqual(
      inquiryIds.map((id) => ({ permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: id })),
    );
    expect(user.requestId).toMatch(/^req_/);
    expect(res.body.info.requestId).toBe(user.requestId);

    const [sent] = tokenRequests(emulator);
    expect(sent).toBeDefined();
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/api/v1/oauth/token');
    expect(sent?.headers.authorization).toBe(`Bearer ${emulator.recipient.apiKey}`);
    expect(sent?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent?.headers.accept).toBe('application/json');
    expect(sent?.headers['user-agent']).toMatch(new RegExp(`^passport-withpersona/${VERSION.replaceAll('.', '\\.')} `));
    expect(sent?.headers['idempotency-key']).toMatch(
      /^pwp3-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(sent?.headers['persona-version']).toBeUndefined();
    expect(sent?.headers['key-inflection']).toBeUndefined();
    const body = new URLSearchParams(sent?.body);
    expect(body.get('code')).toBe(code);
    expect(body.get('grant-type')).toBe('authorization_code');
  });

  it('accepts the code from a form POST body', async () => {
    const { app } = setup();
    const { code } = share(1);
    const res = await request(app).post('/callback').type('form').send({ code });
    expect(res.status).toBe(200);
    expect(res.body.user.scopes).toHaveLength(1);
  });

  it.each(['kebab', 'snake', 'camel'] as const)(
    'reads a %s-case response and sends Key-Inflection',
    async (keyInflection) => {
      const { app } = setup({ keyInflection, personaVersion: '2023-01-05' });
      const { code } = share(1);
      const res = await request(app).get('/plain').query({ code });
      expect(res.status).toBe(200);
      expect(res.body.user.accessToken).toMatch(/^persona_access_token_/);
      const [sent] = tokenRequests(emulator);
      expect(sent?.headers['key-inflection']).toBe(keyInflection);
      expect(sent?.headers['persona-version']).toBe('2023-01-05');
    },
  );

  it('delivers a code holding + / = & intact', async () => {
    const { app } = setup();
    const code = 'a+b/c=d&e f';
    emulator.setFault('token', {
      kind: 'status',
      status: 201,
      body: { 'access-token': 'persona_access_token_x', 'expires-in': 60, scope: null, 'token-type': 'bearer' },
    });
    const res = await request(app).get(`/plain?code=${encodeURIComponent(code)}`);
    expect(res.status).toBe(200);
    expect(res.body.user.scopes).toEqual([]);
    expect(res.body.user.scope).toBe('');
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });

  it('reuses one keep-alive connection across logins', async () => {
    const server = await startTokenServer();
    const { app } = setup({ baseURL: server.url });
    for (let i = 0; i < 3; i += 1) {
      expect(
        (
          await request(app)
            .get('/plain')
            .query({ code: `code-${i}` })
        ).status,
      ).toBe(200);
    }
    expect(server.requests).toHaveLength(3);
    expect(server.connections).toBe(1);
    await current?.strategy.close();
    await expect.poll(() => server.openSockets()).toBe(0);
    await server.close();
  });

  it('without state, shares nothing: of two identical callbacks in flight at once, the second is refused', async () => {
    const { app } = setup();
    const { code } = share(1);
    emulator.setFault('token', { kind: 'latency', ms: 150 }, { times: 1 });
    const answers = await Promise.all([
      request(app).get('/plain').query({ code }),
      request(app).get('/plain').query({ code }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    // Refused in this process, as Persona would refuse a used code: one request reached it.
    expect(tokenRequests(emulator)).toHaveLength(1);
  });
});

describe('verify', () => {
  it('takes (tokens, done) and signs in what done returns', async () => {
    const { app } = setup({}, (tokens, done) => done(null, { id: 'u1', scopes: tokens.scopes.length }));
    const res = await request(app)
      .get('/plain')
      .query({ code: share(2).code });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({ id: 'u1', scopes: 2 });
  });

  it('takes a promise of the user', async () => {
    const { app } = setup({}, async (tokens) => ({ id: 'u2', token: tokens.tokenType }));
    const res = await request(app)
      .get('/plain')
      .query({ code: share(1).code });
    expect(res.body.user).toEqual({ id: 'u2', token: 'bearer' });
  });

  it('passes the request first with passReqToCallback', async () => {
    const strategy = new PersonaStrategy<{ path: string | undefined; n: number }>(
      { apiKey: emulator.recipient.apiKey, baseURL: emulator.url, passReqToCallback: true },
      (req, tokens, done) => done(null, { path: req.url?.split('?')[0], n: tokens.scopes.length }),
    );
    const { Passport } = await import('passport');
    const passport = new Passport();
    passport.use(strategy as never);
    const express = (await import('express')).default;
    const app = express();
    app.get('/cb', passport.authenticate('persona', { session: false }), (req, res) => res.json(req.user));
    const res = await request(app)
      .get('/cb')
      .query({ code: share(3).code });
    await strategy.close();
    expect(res.body).toEqual({ path: '/cb', n: 3 });
  });

  it('fails with 401 when verify gives no user', async () => {
    const { app } = setup({}, (_tokens, done) => done(null, false, { message: 'unknown partner' }));
    const res = await request(app)
      .get('/callback')
      .query({ code: share(1).code });
    expect(res.status).toBe(401);
    expect(res.body.info).toMatchObject({ code: 'verify_rejected', message: 'unknown partner' });
  });

  it('errors when verify throws or rejects', async () => {
    const { app } = setup({}, async () => {
      throw Object.assign(new Error('database down'), { status: 500 });
    });
    const res = await request(app)
      .get('/callback')
      .query({ code: share(1).code });
    expect(res.status).toBe(500);
    expect(res.body.message).toBe('database down');
  });
});

describe('callback input is checked before Persona is called', () => {
  const cases: [string, string][] = [
    ['missing code', ''],
    ['empty code', 'code='],
    ['repeated code', 'code=a&code=b'],
    ['code as an object', 'code[x]=1'],
    ['code too long', `code=${'a'.repeat(2049)}`],
    ['code with a control character', 'code=ab%0Acd'],
    ['code with a NUL', 'code=ab%00cd'],
    ['code with non-ASCII', 'code=%C3%A9t%C3%A9'],
  ];
  it.each(cases)('%s → 400 invalid_request', async (_name, query) => {
    const { app } = setup();
    const res = await request(app).get(`/callback?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.info.code).toBe('invalid_request');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('accepts a code of exactly 2048 characters (and Persona refuses it)', async () => {
    const { app } = setup();
    const res = await request(app).get(`/callback?code=${'a'.repeat(2048)}`);
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
    expect(tokenRequests(emulator)).toHaveLength(1);
  });

  it('rejects a repeated code in a form body', async () => {
    const { app } = setup();
    const res = await request(app).post('/callback').type('form').send('code=a&code=b');
    expect(res.status).toBe(400);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('answers 400 through the stock middleware too', async () => {
    const { app } = setup();
    const res = await request(app).get('/plain');
    expect(res.status).toBe(400);
  });

  it('redirects to authorizationURL when there is no code', async () => {
    const { app } = setup({ authorizationURL: 'http://127.0.0.1:9/share?x=1', callbackURL: 'http://127.0.0.1:9/cb' });
    const res = await request(app).get('/plain');
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location as string);
    expect(location.origin + location.pathname).toBe('http://127.0.0.1:9/share');
    expect(location.searchParams.get('x')).toBe('1');
    expect(location.searchParams.get('redirect_uri')).toBe('http://127.0.0.1:9/cb');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('error=access_denied → 403 access_denied without calling Persona', async () => {
    const { app } = setup();
    const res = await request(app)
      .get('/callback')
      .query({ error: 'access_denied', error_description: 'Declined by owner', code: 'x' });
    expect(res.status).toBe(403);
    expect(res.body.info.code).toBe('access_denied');
    expect(res.body.info.message).toBe('The data owner declined to share');
    expect(res.body.info.description).toBe('Declined by owner');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('any other error → 400 authorization_error', async () => {
    const { app } = setup();
    const res = await request(app).get('/callback').query({ error: 'server_error' });
    expect(res.status).toBe(400);
    expect(res.body.info.code).toBe('authorization_error');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });
});

describe('Persona refuses the code → fail 401 invalid_grant', () => {
  it('unknown code (404)', async () => {
    const { app } = setup();
    const res = await request(app).get('/callback').query({ code: 'no-such-code' });
    expect(res.status).toBe(401);
    expect(res.body.info).toMatchObject({ code: 'invalid_grant' });
    expect(res.body.info.requestId).toMatch(/^req_/);
    expect(tokenRequests(emulator)[0]?.status).toBe(404);
  });

  it('already used code (409)', async () => {
    const { app } = setup();
    const { code } = share(1);
    // Someone else redeems the code first (no Idempotency-Key, so nothing is replayed for us).
    const first = await fetch(`${emulator.url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${emulator.recipient.apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ code, 'grant-type': 'authorization_code' }),
    });
    expect(first.status).toBe(201);
    emulator.requests.length = 0;
    const res = await request(app).get('/callback').query({ code });
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
    expect(tokenRequests(emulator)[0]?.status).toBe(409);
  });

  it('the same code a second time is refused (each exchange has its own Idempotency-Key)', async () => {
    const { app } = setup();
    const { code } = share(1);
    const a = await request(app).get('/callback').query({ code });
    expect(a.status).toBe(200);
    const b = await request(app).get('/callback').query({ code });
    expect(b.status).toBe(401);
    expect(b.body.info.code).toBe('invalid_grant');
    expect(b.text).not.toContain(a.body.user.accessToken);
    const [first, second] = tokenRequests(emulator);
    expect(second?.status).toBe(409);
    expect(second?.headers['idempotency-key']).not.toBe(first?.headers['idempotency-key']);
  });

  it('expired code (emulated clock)', async () => {
    const { app } = setup();
    const { code } = share(1);
    emulator.clock.advance(11 * 60 * 1000);
    const res = await request(app).get('/callback').query({ code });
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
    expect(tokenRequests(emulator)[0]?.status).toBe(422);
  });

  it("another organization's code", async () => {
    const third = emulator.addOrganization({ name: 'Third party' });
    const { code } = emulator.createAuthorization({
      scope: [`inquiry.read:${emulator.owner.inquiries[0]?.id}`],
      clientId: third.id,
    });
    const { app } = setup();
    const res = await request(app).get('/callback').query({ code });
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
  });

  it.each([400, 404, 409, 422])('forced %i', async (status) => {
    const { app } = setup();
    emulator.setFault('token', { kind: 'status', status, body: { errors: [{ title: 'Nope' }] } });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
  });
});

describe('Persona and network failures → error with a status for the app', () => {
  it('401 invalid API key → 500 invalid_api_key', async () => {
    const { app } = setup({ apiKey: 'persona_sandbox_not_a_real_key' });
    const res = await request(app)
      .get('/callback')
      .query({ code: share(1).code });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('invalid_api_key');
    expect(res.body.requestId).toMatch(/^req_/);
  });

  it('403 → 500 forbidden', async () => {
    const { app } = setup();
    emulator.setFault('token', { kind: 'status', status: 403, body: { errors: [{ title: 'Forbidden' }] } });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(500);
    expect(res.body.code).toBe('forbidden');
  });

  it('429 with RateLimit-Reset beyond the deadline → 503 rate_limited with retryAfter, no retry', async () => {
    const { app } = setup();
    emulator.setFault('token', {
      kind: 'status',
      status: 429,
      headers: { 'RateLimit-Reset': '30' },
      body: { errors: [{ title: 'Rate limit exceeded' }] },
    });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'rate_limited', retryAfter: 30 });
    expect(tokenRequests(emulator)).toHaveLength(1);
  });

  it('429 once, then success: retried with the same Idempotency-Key', async () => {
    const { app } = setup();
    const { code } = share(1);
    emulator.setFault('token', { kind: 'status', status: 429, headers: { 'RateLimit-Reset': '0' } }, { times: 1 });
    const res = await request(app).get('/plain').query({ code });
    expect(res.status).toBe(200);
    const sent = tokenRequests(emulator);
    expect(sent).toHaveLength(2);
    expect(sent[0]?.headers['idempotency-key']).toBe(sent[1]?.headers['idempotency-key']);
  });

  it('the real rate limit of the emulator is honoured', async () => {
    const limited = await startPersonaEmulator({ rateLimit: 1 });
    try {
      const { app } = setup({ apiKey: limited.recipient.apiKey, baseURL: limited.url, retries: 0 });
      expect(
        (
          await request(app)
            .get('/plain')
            .query({ code: share(1, limited).code })
        ).status,
      ).toBe(200);
      const res = await request(app)
        .get('/callback')
        .query({ code: share(1, limited).code });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('rate_limited');
      expect(res.body.retryAfter).toBeGreaterThan(0);
    } finally {
      await current?.strategy.close();
      current = undefined;
      await limited.close();
    }
  });

  it.each([500, 502, 503, 504])('%i → 502 persona_unavailable, never retried', async (status) => {
    const { app } = setup();
    emulator.setFault('token', { kind: 'status', status, body: { errors: [{ title: 'Internal error' }] } });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('persona_unavailable');
    expect(tokenRequests(emulator)).toHaveLength(1);
  });

  it('418 → 502 invalid_response', async () => {
    const { app } = setup();
    emulator.setFault('token', { kind: 'status', status: 418, body: 'teapot' });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('invalid_response');
  });

  it.each([
    ['malformed JSON', { kind: 'malformed' }],
    ['oversized body', { kind: 'oversized', bytes: 200_000 }],
    ['redirect', { kind: 'redirect', status: 302, location: 'http://127.0.0.1:9/elsewhere' }],
    ['JSON array', { kind: 'status', status: 201, body: [1, 2] }],
    [
      'token type mac',
      {
        kind: 'status',
        status: 201,
        body: { 'access-token': 'persona_access_token_a', 'expires-in': 5, 'token-type': 'mac' },
      },
    ],
    [
      'no access token',
      { kind: 'status', status: 201, body: { 'access-token': null, 'expires-in': 5, 'token-type': 'bearer' } },
    ],
    [
      'malformed scope',
      {
        kind: 'status',
        status: 201,
        body: {
          'access-token': 'persona_access_token_a',
          'expires-in': 5,
          'token-type': 'bearer',
          scope: 'inquiry-read',
        },
      },
    ],
  ] as const)('%s → 502 invalid_response', async (_name, fault) => {
    const { app } = setup();
    emulator.setFault('token', fault);
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('invalid_response');
    expect(tokenRequests(emulator)).toHaveLength(1);
  });

  it('headers never sent → 504 timeout within the deadline', async () => {
    const { app } = setup({ timeoutMs: 300 });
    emulator.setFault('token', { kind: 'no-headers' });
    const started = Date.now();
    const res = await request(app).get('/callback').query({ code: freshCode() });
    const took = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('timeout');
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2000);
  });

  it('a body dripping past the deadline → 504 timeout', async () => {
    const { app } = setup({ timeoutMs: 300 });
    emulator.setFault('token', { kind: 'drip', intervalMs: 100, chunks: 50 });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('timeout');
  });

  it('connection refused → 502 network (after the allowed retries)', async () => {
    const closed = await startPersonaEmulator();
    const url = closed.url;
    await closed.close();
    const { app } = setup({ baseURL: url, retries: 1 });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('network');
  });

  it('reset before headers → retried, then success', async () => {
    const { app } = setup();
    const { code } = share(1);
    emulator.setFault('token', { kind: 'reset', when: 'before-headers' }, { times: 1 });
    const res = await request(app).get('/plain').query({ code });
    expect(res.status).toBe(200);
    const sent = tokenRequests(emulator);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sent.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('reset after headers → 502 network, not retried', async () => {
    const { app } = setup();
    emulator.setFault('token', { kind: 'reset', when: 'after-headers' });
    const res = await request(app).get('/callback').query({ code: freshCode() });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('network');
    expect(tokenRequests(emulator)).toHaveLength(1);
  });
});

describe('secrets never leak', () => {
  it('no API key, code or token in any answer or error', async () => {
    const apiKey = emulator.recipient.apiKey;
    const tokens: string[] = [];
    const codes: string[] = [];
    const errors: unknown[] = [];
    const seen: string[] = [];
    const { app, strategy } = setup({}, (t, done) => {
      tokens.push(t.accessToken);
      done(null, { ok: true });
    });
    const exchanger = createCodeExchanger({ apiKey, baseURL: emulator.url, retries: 0 });
    const first = share(1).code;
    codes.push(first);
    seen.push((await request(app).get('/callback').query({ code: first })).text);
    const faults = [
      (code: string) =>
        ({
          kind: 'status',
          status: 400,
          body: { errors: [{ title: `Code ${code} is invalid`, details: `key ${apiKey}` }] },
        }) as const,
      () =>
        ({
          kind: 'status',
          status: 500,
          body: { errors: [{ title: 'boom', details: `token ${tokens[0]}` }] },
        }) as const,
      () => ({ kind: 'malformed' }) as const,
      () =>
        ({
          kind: 'status',
          status: 201,
          body: { 'access-token': `${tokens[0]} x`, 'expires-in': 1, 'token-type': 'bearer' },
        }) as const,
    ];
    for (const fault of faults) {
      const viaApp = share(1).code;
      const direct = share(1).code;
      codes.push(viaApp, direct);
      emulator.setFault('token', fault(viaApp));
      seen.push((await request(app).get('/callback').query({ code: viaApp })).text);
      emulator.setFault('token', fault(direct));
      try {
        await exchanger.exchange(direct);
      } catch (error) {
        errors.push(error);
      }
    }
    for (const error of errors) {
      seen.push(inspect(error, { depth: 10 }), JSON.stringify(error), String((error as Error).stack));
    }
    seen.push(inspect(strategy, { depth: 10 }), JSON.stringify(strategy), inspect(exchanger, { depth: 10 }));
    await exchanger.close();
    const all = seen.join('\n');
    expect(errors).toHaveLength(faults.length);
    expect(tokens[0]).toMatch(/^persona_access_token_/);
    expect(all).toContain('[REDACTED]');
    for (const secret of [apiKey, ...codes, ...tokens]) expect(all).not.toContain(secret);
  });
});
