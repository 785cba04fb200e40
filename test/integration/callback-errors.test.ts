import express from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';

// `?error=…&error_description=…` is text anyone can put in a link. It never reaches a failure
// message (which `failureMessage: true` copies into req.session.messages, and apps render): the
// message is the library's own, and the description, reduced to printable ASCII and at most 200
// characters, travels in the challenge's own `description` field, documented as untrusted.

const MARKUP = '<script>alert(document.cookie)</script>';
let strategy: PersonaStrategy | undefined;

afterEach(async () => {
  await strategy?.close();
  strategy = undefined;
});

/** The quickstart's setup: failureRedirect + failureMessage, and a page showing the messages. */
function quickstartApp() {
  const passport = new Passport();
  strategy = new PersonaStrategy({ apiKey: 'persona_callback_errors_key_0123456789', baseURL: 'http://127.0.0.1:9' });
  passport.use(strategy as never);
  const app = express();
  app.use(session({ secret: 'callback-errors-secret', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.get(
    '/callback',
    passport.authenticate('persona', { failureRedirect: '/login', failureMessage: true }),
    (_req, res) => res.send('signed in'),
  );
  app.get('/custom', (req, res, next) => {
    passport.authenticate('persona', (_err: unknown, _user: unknown, info: unknown, status: unknown) => {
      res.status(typeof status === 'number' ? status : 500).json(info);
    })(req, res, next);
  });
  app.get('/login', (req, res) => {
    res.json({ messages: (req.session as { messages?: unknown }).messages ?? [] });
  });
  return app;
}

describe('error and error_description on the callback', () => {
  it.each([
    ['access_denied', 403, 'access_denied', 'The data owner declined to share'],
    ['server_error', 400, 'authorization_error', "The data owner's side reported an error"],
    [MARKUP, 400, 'authorization_error', "The data owner's side reported an error"],
  ])(
    'error=%s: a fixed message; the markup stays out of req.session.messages',
    async (error, status, code, message) => {
      const app = quickstartApp();
      const browser = request.agent(app);
      const fail = await browser.get('/callback').query({ error, error_description: MARKUP });
      expect(fail.status).toBe(302);
      expect(fail.headers.location).toBe('/login');
      const { messages } = (await browser.get('/login')).body as { messages: string[] };
      expect(messages).toEqual([message]);

      const custom = await request(app).get('/custom').query({ error, error_description: MARKUP });
      expect(custom.status).toBe(status);
      expect(custom.body).toEqual({ code, message, description: MARKUP });
    },
  );

  it('reduces the description to printable ASCII and 200 characters', async () => {
    const app = quickstartApp();
    const description = `Refusé\u0000par\nle propriétaire ${'x'.repeat(300)}`;
    const res = await request(app).get('/custom').query({ error: 'access_denied', error_description: description });
    expect(res.status).toBe(403);
    const reduced = res.body.description as string;
    expect(reduced).toMatch(/^[\x20-\x7e]{1,200}$/);
    expect(reduced.startsWith('Refus')).toBe(true);
    expect(reduced).toContain('par le propri');
  });

  it('leaves description out when there is none', async () => {
    const res = await request(quickstartApp()).get('/custom').query({ error: 'access_denied' });
    expect(res.body).toEqual({ code: 'access_denied', message: 'The data owner declined to share' });
  });
});
