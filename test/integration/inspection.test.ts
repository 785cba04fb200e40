import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createCodeExchanger, PersonaStrategy, type PersonaStrategyOptions } from '../../src/index.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

// Passport keeps the strategy reachable from every request (req._passport.instance), and the
// strategy's HTTP pool holds the token request in flight: `Bearer <apiKey>` and `code=…`. An
// error logger that dumps `req` in an unrelated route must print neither.

const API_KEY = 'persona_production_inspection-suite-key-0123456789abcdef';
const CODE = 'victim-authorization-code-0f1e2d3c4b5a69788796a5b4';
const SIGNING_SECRET = 'signed-state-secret-that-must-stay-hidden-0123456789';

let server: TokenServer | undefined;
let strategy: PersonaStrategy | undefined;

afterEach(async () => {
  await server?.close();
  await strategy?.close();
  strategy = undefined;
  server = undefined;
});

/** A token endpoint that holds each answer until `release()`. */
async function holdingServer(): Promise<{ release: () => void }> {
  const held: ServerResponse[] = [];
  server = await startTokenServer((_req, res) => void held.push(res));
  return {
    release: () => {
      for (const res of held.splice(0)) {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(TOKEN_BODY));
      }
    },
  };
}

function appWith(options: Partial<PersonaStrategyOptions>) {
  const passport = new Passport();
  strategy = new PersonaStrategy({ apiKey: API_KEY, baseURL: server?.url, ...options });
  passport.use(strategy as never);
  const app = express();
  app.use(session({ secret: 'inspection-session-secret', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.get('/start', passport.authenticate('persona', { session: false }));
  app.get('/callback', passport.authenticate('persona', { session: false }), (_req, res) => res.json({ ok: true }));
  // The unrelated route: what a careless error logger prints.
  app.get('/debug', (req, res) => {
    let json = '';
    try {
      json = JSON.stringify(req);
    } catch {
      json = '(circular)';
    }
    res.type('text').send(`${inspect(req, { depth: null })}\n${json}`);
  });
  return app;
}

describe('no secret through inspection while an exchange is in flight', () => {
  it.each([
    ['the default pool', {}],
    [
      'signed state',
      { state: { signed: { secrets: [SIGNING_SECRET] } }, authorizationURL: 'http://127.0.0.1:9/share' },
    ],
  ] as const)('deep inspect of an unrelated req and of the strategy (%s)', async (_name, options) => {
    const { release } = await holdingServer();
    const app = appWith(options);
    const browser = request.agent(app);
    const query: Record<string, string> = { code: CODE };
    if ('state' in options) {
      const start = await browser.get('/start').expect(302);
      query.state = new URL(start.headers.location as string).searchParams.get('state') ?? '';
    }
    const login = browser
      .get('/callback')
      .query(query)
      .then((r) => r);
    await expect.poll(() => server?.requests.length).toBe(1);
    expect(server?.requests[0]?.body).toContain(CODE);

    const dump = await request(app).get('/debug');
    expect(dump.status).toBe(200);
    expect(dump.text).toContain('_passport');
    expect(dump.text).toContain('PersonaStrategy');
    const views = [
      dump.text,
      inspect(strategy, { depth: null }),
      inspect(strategy, { depth: null, showHidden: true }),
      inspect(Object.create(strategy as object), { depth: null, showHidden: true }),
      JSON.stringify(strategy),
    ];
    for (const view of views) {
      for (const secret of [API_KEY, CODE, SIGNING_SECRET]) expect(view).not.toContain(secret);
    }

    release();
    expect((await login).status).toBe(200);
  });

  it('a standalone exchanger prints neither the key nor the code while its exchange is in flight', async () => {
    const { release } = await holdingServer();
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server?.url });
    try {
      const exchange = exchanger.exchange(CODE);
      await expect.poll(() => server?.requests.length).toBe(1);
      expect(server?.requests[0]?.body).toContain(CODE);
      const views = [inspect(exchanger, { depth: null, showHidden: true }), JSON.stringify(exchanger)];
      for (const view of views) {
        for (const secret of [API_KEY, CODE]) expect(view).not.toContain(secret);
      }
      release();
      expect((await exchange).accessToken).toBe(TOKEN_BODY['access-token']);
    } finally {
      await exchanger.close();
    }
  });

  it('a strategy used by Passport still signs in (private state is found through the per-request clone)', async () => {
    server = await startTokenServer();
    const app = appWith({});
    const res = await request(app).get('/callback').query({ code: CODE });
    expect(res.status).toBe(200);
    expect(server.requests).toHaveLength(1);
  });
});
