// Express 5 + passport 0.7, the baseline the other frameworks are measured against: the scope
// guard fails closed on a misspelt route parameter, and signed state behind a TLS-terminating
// proxy keeps its Secure, __Host- nonce cookie without `trust proxy`. Real HTTP on loopback
// against the emulator.
import express, { type Express } from 'express';
import session from 'express-session';
import { Passport } from 'passport';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { PersonaStrategy, personaErrorHandler, requireScope, type PersonaStrategyOptions } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { closeAfterEach, useEmulator } from '../helpers/emulator.js';
import { cookieHeader, SECRET, sharedAndOther } from './helpers.js';

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});
const strategies: PersonaStrategy[] = [];
closeAfterEach(strategies);

function app(state: PersonaStrategyOptions['state']): Express {
  const passport = new Passport();
  const strategy = new PersonaStrategy({
    apiKey: emulator.recipient.apiKey,
    baseURL: emulator.url,
    authorizationURL: 'https://owner.example/share',
    state,
  });
  strategies.push(strategy);
  passport.use(strategy as never);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const server = express();
  server.use(session({ secret: 'express test session secret', resave: false, saveUninitialized: false }));
  server.use(passport.session());
  server.get('/auth/persona', passport.authenticate('persona'));
  server.get('/auth/persona/callback', passport.authenticate('persona'), (_req, res) => {
    res.json({ signedIn: true });
  });
  // The route names :inquiryId; the guard reads a misspelt parameter, which is undefined.
  server.get(
    '/typo/:inquiryId',
    requireScope('inquiry.read', { objectId: (req) => req.params.inquiryID }),
    (req, res) => res.json({ allowed: req.params.inquiryId }),
  );
  server.get(
    '/inquiries/:inquiryId',
    requireScope('inquiry.read', { objectId: (req) => req.params.inquiryId }),
    (req, res) => res.json({ allowed: req.params.inquiryId }),
  );
  server.use(personaErrorHandler());
  return server;
}

async function signIn(server: Express, scope: string, headers: Record<string, string> = {}): Promise<string> {
  const start = await request(server).get('/auth/persona').set(headers);
  expect(start.status).toBe(302);
  const state = new URL(start.headers.location as string).searchParams.get('state') ?? '';
  let cookie = cookieHeader(start.headers['set-cookie']);
  const { code } = emulator.createAuthorization({ scope });
  const callback = await request(server)
    .get('/auth/persona/callback')
    .query({ code, state })
    .set({ ...headers, cookie });
  expect(callback.status, JSON.stringify(callback.body)).toBe(200);
  cookie = cookieHeader(callback.headers['set-cookie']) || cookie;
  return cookie;
}

describe('Express: requireScope with an objectId that yields no id', () => {
  it('refuses with 403 insufficient_scope, on the shared inquiry and on any other', async () => {
    const server = app(true);
    const [shared, other] = sharedAndOther(emulator);
    const cookie = await signIn(server, `inquiry.read:${shared}`);

    const allowed = await request(server).get(`/inquiries/${shared}`).set('cookie', cookie);
    expect(allowed.status).toBe(200);
    const refusedOther = await request(server).get(`/inquiries/${other}`).set('cookie', cookie);
    expect(refusedOther.status).toBe(403);

    for (const id of [shared, other]) {
      const typo = await request(server).get(`/typo/${id}`).set('cookie', cookie);
      expect(typo.status).toBe(403);
      expect(typo.body).toMatchObject({ error: 'insufficient_scope' });
    }
  });
});

describe('Express: signed state behind a TLS-terminating proxy, without trust proxy', () => {
  it('sets a Secure __Host- nonce cookie for X-Forwarded-Proto: https, and its callback verifies', async () => {
    const server = app({ signed: { secrets: [SECRET] } });
    const [shared] = sharedAndOther(emulator);
    const forwarded = { 'x-forwarded-proto': 'https' };
    const start = await request(server).get('/auth/persona').set(forwarded);
    expect(start.status).toBe(302);
    const setCookie = [start.headers['set-cookie'] ?? []].flat();
    const nonce = setCookie.find((line) => line.includes('pwp_state_'));
    expect(nonce).toMatch(/^__Host-pwp_state_[A-Za-z0-9_-]{16}=/);
    expect(nonce).toMatch(/; Secure$/);

    const cookie = await signIn(server, `inquiry.read:${shared}`, forwarded);
    const allowed = await request(server).get(`/inquiries/${shared}`).set('cookie', cookie);
    expect(allowed.status).toBe(200);
  });

  it('takes the first value of a list, and keeps plain HTTP without the header', async () => {
    const server = app({ signed: { secrets: [SECRET] } });
    const listed = await request(server).get('/auth/persona').set('x-forwarded-proto', 'https, http');
    expect(String(listed.headers['set-cookie'])).toMatch(/^__Host-pwp_state_.*; Secure$/);
    const plain = await request(server).get('/auth/persona');
    expect(String(plain.headers['set-cookie'])).toMatch(
      /^pwp_state_[^;]+=[^;]+; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/,
    );
    const http = await request(server).get('/auth/persona').set('x-forwarded-proto', 'http, https');
    expect(String(http.headers['set-cookie'])).not.toContain('Secure');
  });
});
