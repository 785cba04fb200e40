import { inspect } from 'node:util';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';
import { startPersonaEmulator } from '../../src/testing/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { json, useAnsweringServer } from '../helpers/answering-server.js';
import { collectReports } from '../helpers/diagnostics.js';

// The promise "no secret reaches anything the app can log, render or serialise", against a token
// endpoint that echoes what it was sent transformed, or echoes the access token it issues in the
// Request-Id of its success; and the deadline and error-code promises at their edges.

const API_KEY = 'persona_production_Zq8Kx4Wm2Lp7Rt5Yv3Nb6Hc9Jd1Fg0S';
const CODE = 'authz7Hq2Wx9Lm4Kp8Rt3Vz6Nb1Cy5Jd0Fg';
const TOKEN = 'tokVn5Rk2Qw8Lz3Xc7Mb4Jh9Gd6Fs1Pa0Ty';

const persona = useAnsweringServer();
let current: TestApp | undefined;
afterEach(async () => {
  await current?.strategy.close();
  current = undefined;
});

function app(): TestApp {
  current = createTestApp({ apiKey: API_KEY, baseURL: persona.url, retries: 0 });
  return current;
}

const hex = (s: string) => Buffer.from(s).toString('hex');
const percent = (s: string) => [...Buffer.from(s)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');

describe('a Request-Id that echoes the access token of its own success', () => {
  it('is redacted on req.authInfo, the DEBUG line and the diagnostics report', async () => {
    persona.answer = json(
      201,
      { 'access-token': TOKEN, 'expires-in': 3600, 'token-type': 'bearer', scope: 'inquiry.read:inq_1' },
      { 'request-id': `req_${TOKEN}` },
    );
    const { app: express } = app();
    const { result: res, reports } = await collectReports(() => request(express).get('/plain').query({ code: CODE }));
    expect(res.status).toBe(200);
    expect(res.body.user.accessToken).toBe(TOKEN);
    expect(res.body.info.requestId).toBe('req_[REDACTED]');
    expect(res.body.user.requestId).toBe('req_[REDACTED]');
    expect(JSON.stringify(reports)).not.toContain(TOKEN.slice(0, 12));
    expect(reports[0]?.requestId).toBe('req_[REDACTED]');
    expect(persona.logLines.join('\n')).not.toContain(TOKEN.slice(0, 12));
  });
});

describe('echoes of the code and the key, transformed', () => {
  const echoes: [string, string][] = [
    ['the code upper-cased', CODE.toUpperCase()],
    ['the code lower-cased', CODE.toLowerCase()],
    ['the code with zero-width spaces', [...CODE].join('\u200b')],
    ['the code spaced out', [...CODE].join(' ')],
    ['the code in hex', hex(CODE)],
    ['the code percent-encoded', percent(CODE)],
    ['the code in base64', Buffer.from(CODE).toString('base64')],
    ['the key in base64url from its second byte', Buffer.from(API_KEY.slice(1)).toString('base64url')],
    ['the key upper-cased', API_KEY.toUpperCase()],
  ];
  it.each(echoes)('%s never reaches the error, its JSON, inspect or the log', async (_name, echo) => {
    persona.answer = json(
      404,
      { errors: [{ title: 'Not found', details: `no such code ${echo}` }] },
      { 'request-id': 'req_1' },
    );
    const { app: express } = app();
    const res = await request(express).get('/callback').query({ code: CODE });
    expect(res.status).toBe(401);
    const error = res.body.info;
    expect(error.code).toBe('invalid_grant');
    const seen = `${res.text}\n${persona.logLines.join('\n')}`;
    expect(seen).not.toContain(echo.slice(0, 24));
    expect(seen).not.toContain(echo.slice(-24));
  });

  it('an echo split between title, details and pointer is redacted in each', async () => {
    const cut = [CODE.slice(0, 8), CODE.slice(8, 16), CODE.slice(16)];
    persona.answer = json(404, {
      errors: [{ title: `bad ${cut[0]}`, details: cut[1], source: { pointer: `${cut[2]}` } }],
    });
    const { app: express } = app();
    const exchange = createExchangeError(express);
    const error = await exchange;
    expect(JSON.stringify(error)).not.toMatch(new RegExp(`${cut[0]}|${cut[1]}|${cut[2]}`));
  });

  it('an upper-cased echo with markup never reaches req.session.messages: the message is fixed text', async () => {
    persona.answer = json(404, { errors: [{ title: `<IMG SRC=X ONERROR=alert(1)> ${CODE.toUpperCase()}` }] });
    const strategy = new PersonaStrategy({ apiKey: API_KEY, baseURL: persona.url, retries: 0 });
    const passport = new Passport();
    passport.use(strategy as never);
    const site = express();
    site.use(session({ secret: 'echo-test-secret', resave: false, saveUninitialized: true }));
    site.get('/callback', passport.authenticate('persona', { failureMessage: true, failureRedirect: '/failed' }));
    site.get('/failed', (req, res) => {
      res.json((req.session as unknown as { messages?: string[] }).messages ?? []);
    });
    try {
      const agent = request.agent(site);
      expect((await agent.get('/callback').query({ code: CODE })).status).toBe(302);
      const messages = (await agent.get('/failed')).body as string[];
      expect(messages).toEqual([
        'Persona refused the authorization code (HTTP 404); it may be expired, already used or issued to another organization',
      ]);
    } finally {
      await strategy.close();
    }
  });
});

/** The error a custom-callback route answers for one callback, as JSON. */
async function createExchangeError(site: TestApp['app']): Promise<unknown> {
  const res = await request(site).get('/callback').query({ code: CODE });
  return res.body.info;
}

describe('a 400 that is the deployment’s fault', () => {
  it.each([
    ['an unknown Persona-Version', { title: 'Invalid Persona-Version', details: 'Unknown API version "2099-01-01"' }],
    ['an Idempotency-Key reused with other parameters', { title: 'Idempotency error', details: 'already used' }],
  ])('%s is request_rejected (500), not the person’s link', async (_name, detail) => {
    persona.answer = json(400, { errors: [detail] }, { 'request-id': 'req_400' });
    const { app: site } = app();
    const res = await request(site).get('/callback').query({ code: CODE });
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'request_rejected', requestId: 'req_400' });
  });

  it('a 400 pointing at the code stays invalid_grant (401)', async () => {
    persona.answer = json(400, {
      errors: [{ title: 'Invalid parameter', details: 'bad', source: { pointer: '/code' } }],
    });
    const { app: site } = app();
    const res = await request(site).get('/callback').query({ code: CODE });
    expect(res.status).toBe(401);
    expect(res.body.info.code).toBe('invalid_grant');
  });

  it('the emulator’s refusal of an unknown Persona-Version is request_rejected', async () => {
    const emulator = await startPersonaEmulator();
    try {
      current = createTestApp({
        apiKey: emulator.recipient.apiKey,
        baseURL: emulator.url,
        personaVersion: '2099-01-01',
      });
      const inquiry = emulator.owner.inquiries[0]?.id;
      const { code } = emulator.createAuthorization({ scope: `inquiry.read:${inquiry}` });
      const res = await request(current.app).get('/callback').query({ code });
      expect(res.status).toBe(500);
      expect(res.body.code).toBe('request_rejected');
    } finally {
      await emulator.close();
    }
  });
});

describe('the deadline, whatever the options', () => {
  it('refuses a timeoutMs a timer cannot hold, at construction', () => {
    for (const timeoutMs of [2 ** 31, 2 ** 31 - 1, 600_001, Number.MAX_SAFE_INTEGER]) {
      expect(() => new PersonaStrategy({ apiKey: API_KEY, baseURL: persona.url, timeoutMs })).toThrow(
        /timeoutMs must be an integer from 1 to 600000/,
      );
    }
  });

  it('keeps the longest one allowed: a slow answer within it signs in', async () => {
    persona.answer = (res) => {
      setTimeout(
        () => json(201, { 'access-token': TOKEN, 'expires-in': 60, 'token-type': 'bearer', scope: '' })(res),
        50,
      );
    };
    current = createTestApp({ apiKey: API_KEY, baseURL: persona.url, timeoutMs: 600_000 });
    const res = await request(current.app).get('/plain').query({ code: CODE });
    expect(res.status).toBe(200);
    expect(inspect(res.body)).not.toContain(API_KEY);
  });
});
