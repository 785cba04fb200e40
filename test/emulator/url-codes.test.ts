import express from 'express';
import passport from 'passport';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { readCode } from './helpers.js';

let persona: PersonaEmulator;
let strategy: PersonaStrategy;
let app: express.Express;

beforeAll(async () => {
  persona = await startPersonaEmulator();
  strategy = new PersonaStrategy({ apiKey: persona.recipient.apiKey, baseURL: persona.url });
  const authenticator = new passport.Passport();
  authenticator.use(strategy);
  app = express();
  app.get('/callback', (req, res, next) => {
    authenticator.authenticate(
      'persona',
      { session: false },
      (err: unknown, user: unknown, info: unknown, status: unknown) => {
        if (err) return next(err);
        res.status(user ? 200 : Number(status)).json({ signedIn: Boolean(user), info });
      },
    )(req, res, next);
  });
});
afterAll(async () => {
  await strategy.close();
  await persona.close();
});

describe('emulator codes in URLs, through the strategy', () => {
  it('signs in with a code pasted into the callback URL without encoding', async () => {
    const code = readCode(persona);
    const res = await request(app).get(`/callback?code=${code}`);
    expect(res.body).toEqual({ signedIn: true, info: expect.anything() });
  });

  it('fails with a message saying the code looks URL-decoded when a + arrived as a space', async () => {
    // A code from another source with a + in it, pasted unencoded: the query parser reads the + as a space.
    const res = await request(app).get('/callback?code=AbCdEf+GhIjKl');
    expect(res.status).toBe(401);
    expect(res.body.info).toMatchObject({ code: 'invalid_grant', message: expect.stringMatching(/looks URL-decoded/) });
    const sent = persona.requests.filter((r) => r.endpoint === 'token').at(-1);
    expect(new URLSearchParams(sent?.body).get('code')).toBe('AbCdEf GhIjKl');
  });
});
