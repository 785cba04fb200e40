import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Passport } from 'passport';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { readCode, tokenRequests, useEmulator } from '../helpers/emulator.js';

// Where the strategy reads a callback's parameters from: the form body of a POST that carries
// any of them, else the query Express parsed, else the raw request URL (node:http, no Express).

const AUTHORIZATION_URL = 'http://127.0.0.1:9/owner/share';

let emulator: PersonaEmulator;
let current: TestApp | undefined;
let server: Server | undefined;

useEmulator((started) => {
  emulator = started;
});
afterEach(async () => {
  await current?.strategy.close();
  current = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

function expressApp(): TestApp {
  current = createTestApp({
    apiKey: emulator.recipient.apiKey,
    baseURL: emulator.url,
    authorizationURL: AUTHORIZATION_URL,
  });
  return current;
}

describe('callback parameters in Express', () => {
  it('a GET does not read a code from its body: it starts a flow, and nothing is exchanged', async () => {
    const { app } = expressApp();
    const res = await request(app)
      .get('/callback')
      .type('form')
      .send({ code: readCode(emulator) });
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:9\/owner\/share(\?|$)/);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('a GET reads its query string even when it has a form body with another code', async () => {
    const { app } = expressApp();
    const code = readCode(emulator);
    const res = await request(app).get('/callback').query({ code }).type('form').send({ code: 'from-the-body' });
    expect(res.status).toBe(200);
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });

  it('a POST whose body carries a parameter is read from the body, not the query', async () => {
    const { app } = expressApp();
    const code = readCode(emulator);
    const res = await request(app).post('/callback').query({ code: 'from-the-query' }).type('form').send({ code });
    expect(res.status).toBe(200);
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });

  it('a POST whose body carries only an error is read from the body', async () => {
    const { app } = expressApp();
    const res = await request(app)
      .post('/callback')
      .query({ code: readCode(emulator) })
      .type('form')
      .send({ error: 'access_denied' });
    expect(res.status).toBe(403);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it("reads the raw URL when Express's query parser is turned off (req.query is always empty)", async () => {
    const { app } = expressApp();
    app.set('query parser', false);
    const code = readCode(emulator);
    const res = await request(app).get('/callback').query({ code });
    expect(res.status).toBe(200);
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });

  it('a POST whose body carries none of them is read from the query', async () => {
    const { app } = expressApp();
    const code = readCode(emulator);
    const res = await request(app).post('/callback').query({ code }).type('form').send({ unrelated: 'x' });
    expect(res.status).toBe(200);
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });
});

describe('callback parameters on node:http, where nothing parses the query', () => {
  /** A node:http server with Passport and the strategy, answering each outcome as JSON. */
  async function nodeServer(): Promise<string> {
    const passport = new Passport();
    const strategy = new PersonaStrategy({
      apiKey: emulator.recipient.apiKey,
      baseURL: emulator.url,
      authorizationURL: AUTHORIZATION_URL,
    });
    passport.use(strategy as never);
    current = { app: undefined as never, strategy: strategy as PersonaStrategy<unknown> };
    server = createServer((req, res) => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const next = (err?: unknown) => answer(500, { error: String(err) });
      passport.authenticate(
        'persona',
        { session: false },
        (err: unknown, user: unknown, info: unknown, status: unknown) => {
          if (err) return answer(500, { code: (err as { code?: string }).code });
          if (!user) return answer(typeof status === 'number' ? status : 401, { info });
          answer(200, { user });
        },
      )(req, res, next);
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('reads the code from the request URL and signs in', async () => {
    const url = await nodeServer();
    const code = readCode(emulator);
    const res = await fetch(`${url}/callback?other=1&code=${encodeURIComponent(code)}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { user: { scopes: unknown[] } }).user.scopes).toHaveLength(1);
    expect(new URLSearchParams(tokenRequests(emulator)[0]?.body).get('code')).toBe(code);
  });

  it('refuses a code given twice in the URL, before any exchange', async () => {
    const url = await nodeServer();
    const code = readCode(emulator);
    const res = await fetch(`${url}/callback?code=${code}&code=${code}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('more than once');
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('reads error and error_description from the URL', async () => {
    const url = await nodeServer();
    const res = await fetch(`${url}/callback?error=access_denied&error_description=No%20thanks`);
    expect(res.status).toBe(403);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });

  it('starts a flow when the URL carries none of the parameters', async () => {
    const url = await nodeServer();
    const res = await fetch(`${url}/callback?unrelated=1`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9\/owner\/share(\?|$)/);
  });

  it('takes a request URL that does not parse (//…) as carrying nothing: a new flow, no exchange, no throw', async () => {
    const url = await nodeServer();
    const res = await fetch(`${url}//?code=${readCode(emulator)}`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(/^http:\/\/127\.0\.0\.1:9\/owner\/share(\?|$)/);
    expect(tokenRequests(emulator)).toHaveLength(0);
  });
});
