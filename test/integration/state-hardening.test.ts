import express from 'express';
import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PersonaStrategy } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { closeAfterEach, readCode, tokenRequests, useEmulator } from '../helpers/emulator.js';
import { recipientApp, stateFrom } from '../helpers/recipient-app.js';

let emulator: PersonaEmulator;
const strategies: PersonaStrategy[] = [];
const SECRET = `${'h'.repeat(16)}state-hardening-secret-0123456789`;

useEmulator((started) => {
  emulator = started;
});
closeAfterEach(strategies);

function setCookies(res: request.Response): string[] {
  return (res.headers['set-cookie'] ?? []) as unknown as string[];
}

describe('session state: consumed atomically within a process', () => {
  it('a double click (two callbacks of one browser with one state) signs in both on one Persona request', async () => {
    const made = recipientApp({ apiKey: emulator.recipient.apiKey, url: emulator.url }, { strategy: { state: true } });
    strategies.push(made.strategy);
    const browser = request.agent(made.app);
    const state = stateFrom((await browser.get('/start')).headers.location);
    const code = readCode(emulator);
    // The first exchange is held back, so the second callback loads the session before the
    // first one saves it: the store accepts the state once and calls the second copy in-use.
    emulator.setFault('token', { kind: 'latency', ms: 200 }, { times: 1 });
    const answers = await Promise.all([
      browser.get('/callback').query({ code, state }),
      browser.get('/callback').query({ code, state }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[0]?.body.user.accessToken).toBe(answers[1]?.body.user.accessToken);
    expect(tokenRequests(emulator)).toHaveLength(1);
    // Once that exchange is over, the same callback again is refused before Persona is called.
    const late = await browser.get('/callback').query({ code, state });
    expect(late.status).toBe(403);
    expect(late.body.info.code).toBe('invalid_state');
    expect(tokenRequests(emulator)).toHaveLength(1);
  });
});

describe('signed state', () => {
  // Behind a TLS-terminating proxy (X-Forwarded-Proto from loopback, trusted), so the request
  // counts as HTTPS and the nonce cookie gets Secure and its prefix.
  let app: express.Express;
  beforeEach(() => {
    const made = recipientApp(
      { apiKey: emulator.recipient.apiKey, url: emulator.url },
      { strategy: { state: { signed: { secrets: [SECRET] } } }, session: false },
    );
    strategies.push(made.strategy);
    app = express();
    app.set('trust proxy', 'loopback');
    app.use(made.app);
  });
  const overHttps = (req: request.Test): request.Test => req.set('x-forwarded-proto', 'https');

  it('over HTTPS the nonce cookie is __Host-: Secure, Path=/, no Domain; and it still round-trips', async () => {
    const start = await overHttps(request(app).get('/start'));
    const [cookie] = setCookies(start);
    expect(cookie).toMatch(/^__Host-pwp_state_[A-Za-z0-9_-]{16}=/);
    expect(cookie).toContain('; Secure');
    expect(cookie).toContain('; Path=/;');
    expect(cookie).not.toMatch(/domain=/i);
    const state = stateFrom(start.headers.location);
    const res = await overHttps(request(app).get('/callback'))
      .set('cookie', String(cookie).split(';')[0] as string)
      .query({ code: readCode(emulator), state });
    expect(res.status).toBe(200);
    expect(setCookies(res).join('\n')).toMatch(/^__Host-pwp_state_[^=]+=;.*Max-Age=0/);
  });

  it('over HTTPS a cookie without the prefix (settable by a sibling subdomain or over HTTP) is refused', async () => {
    const start = await overHttps(request(app).get('/start'));
    const [cookie] = setCookies(start);
    const unprefixed = String(cookie)
      .split(';')[0]
      ?.replace(/^__Host-/, '') as string;
    const res = await overHttps(request(app).get('/callback'))
      .set('cookie', unprefixed)
      .query({ code: readCode(emulator), state: stateFrom(start.headers.location) });
    expect(res.status).toBe(403);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('decodes the returnTo part strictly: a non-canonical base64url (L2E!!) is forged', async () => {
    const made = recipientApp(
      { apiKey: emulator.recipient.apiKey, url: emulator.url },
      { strategy: { state: { signed: { secrets: [SECRET] } } }, session: false },
    );
    strategies.push(made.strategy);
    const start = await request(made.app).get('/start').query({ returnTo: '/a' });
    const cookie = String(setCookies(start)[0]).split(';')[0] as string;
    const [flowId, expires, encoded, signature] = stateFrom(start.headers.location).split('.');
    expect(encoded).toBe('L2E');
    for (const tampered of ['L2E!!', 'L2E=', 'L2F', ' L2E']) {
      const res = await request(made.app)
        .get('/callback')
        .set('cookie', cookie)
        .query({ code: readCode(emulator), state: `${flowId}.${expires}.${tampered}.${signature}` });
      expect(res.status, tampered).toBe(403);
      expect(res.body.info.message, tampered).toContain('forged');
    }
    expect(tokenRequests(emulator)).toHaveLength(0);
  });
});
