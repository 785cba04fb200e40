// Fastify 5 + @fastify/passport 4, with @fastify/secure-session and with @fastify/session: the
// full sign-in of helpers.ts over real HTTP against the emulator, with session state and with
// signed state (its nonce cookie set through attachStateResponse), the scope guard a preHandler
// over checkScope, and errors answered by Fastify's default error handler.
import fastifyCookie from '@fastify/cookie';
import { Authenticator } from '@fastify/passport';
import fastifySecureSession from '@fastify/secure-session';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import {
  attachStateResponse,
  checkScope,
  PersonaStrategy,
  type PersonaStrategyOptions,
  type PersonaTokenSet,
} from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { Browser, SECRET, sharedAndOther, signInScenario, strategyOptions, tokenCalls } from './helpers.js';

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});

const SESSION_KEY = Buffer.alloc(32, 7);
const opened: { app: FastifyInstance; strategy: PersonaStrategy }[] = [];
afterEach(async () => {
  for (const { app, strategy } of opened.splice(0)) {
    await app.close();
    await strategy.close();
  }
});

// A variable, not a literal: @fastify/passport's options type does not list returnTo, and a
// variable with one option it knows (authInfo, true by default) passes its check.
const toDashboard = { authInfo: true, returnTo: '/dashboard' };

type Sessions = 'secure-session' | 'session';

async function fastifyApp(
  sessions: Sessions,
  state: PersonaStrategyOptions['state'],
  store?: fastifySession.SessionStore,
): Promise<string> {
  const passport = new Authenticator();
  const strategy = new PersonaStrategy({ ...strategyOptions(emulator), state });
  const app = Fastify();
  opened.push({ app, strategy });
  if (sessions === 'secure-session') {
    await app.register(fastifySecureSession, { key: SESSION_KEY, cookie: { path: '/', httpOnly: true } });
    await app.register(passport.initialize());
    await app.register(passport.secureSession());
  } else {
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: 'a fastify session secret of enough length',
      cookie: { secure: false },
      ...(store ? { store } : {}),
    });
    await app.register(passport.initialize());
    await app.register(passport.secureSession());
  }
  app.addHook('onRequest', attachStateResponse);
  passport.use('persona', strategy);
  passport.registerUserSerializer(async (user: PersonaTokenSet) => user);
  passport.registerUserDeserializer(async (user: PersonaTokenSet) => user);

  app.get('/auth/persona', { preValidation: passport.authenticate('persona') }, async () => undefined);
  app.get(
    '/auth/persona/dashboard',
    { preValidation: passport.authenticate('persona', toDashboard) },
    async () => undefined,
  );
  app.get('/auth/persona/callback', { preValidation: passport.authenticate('persona') }, async (request, reply) => {
    const returnTo = request.authInfo?.returnTo;
    return reply.redirect(typeof returnTo === 'string' ? returnTo : '/profile');
  });
  app.get('/me', async (request) => {
    const user = request.user as PersonaTokenSet | undefined;
    return { scope: user?.scope, hasToken: typeof user?.accessToken === 'string' };
  });
  app.get<{ Params: { id: string } }>(
    '/inquiries/:id',
    {
      preHandler: async (request) => {
        const refusal = checkScope(request.user as PersonaTokenSet | undefined, 'inquiry.read', {
          objectId: request.params.id,
        });
        if (refusal) throw refusal;
      },
    },
    async (request) => ({ id: request.params.id }),
  );
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe.each([
  ['@fastify/secure-session', 'secure-session'],
  ['@fastify/session', 'session'],
] as const)('Fastify 5 + @fastify/passport with %s', (_name, sessions) => {
  it('signs in with session state: token and scope, returnTo, forged and replayed state, scope guard, outage', async () => {
    await signInScenario(emulator, await fastifyApp(sessions, true));
  });

  it('signs in with signed state, the same way', async () => {
    await signInScenario(emulator, await fastifyApp(sessions, { signed: { secrets: [SECRET] } }));
  });
});

describe('Fastify with @fastify/secure-session and session state', () => {
  it('consumes a state on a failed callback: a second instance refuses it from the updated cookie', async () => {
    const first = await fastifyApp('secure-session', true);
    const second = await fastifyApp('secure-session', true);
    const [shared] = sharedAndOther(emulator);
    const browser = new Browser(first);
    const callback = await browser.start();

    emulator.setFault('token', { kind: 'status', status: 422 }, { times: 1 });
    const refused = await browser.get(callback(emulator.createAuthorization({ scope: `inquiry.read:${shared}` }).code));
    expect(refused.status).toBe(401);

    const calls = tokenCalls(emulator);
    const elsewhere = new Browser(second);
    for (const [name, value] of browser.cookies) elsewhere.cookies.set(name, value);
    const again = await elsewhere.get(callback(emulator.createAuthorization({ scope: `inquiry.read:${shared}` }).code));
    expect(again.status).toBe(403);
    expect(tokenCalls(emulator)).toBe(calls);
  });
});

describe('Fastify behind a TLS-terminating proxy, without trustProxy', () => {
  it('sets a Secure __Host- nonce cookie for X-Forwarded-Proto: https, and its callback verifies', async () => {
    const base = await fastifyApp('session', { signed: { secrets: [SECRET] } });
    const [shared] = sharedAndOther(emulator);
    const browser = new Browser(base);
    const forwarded = { 'x-forwarded-proto': 'https' };
    const start = await browser.get('/auth/persona', forwarded);
    expect(start.status).toBe(302);
    expect([...browser.cookies.keys()]).toContainEqual(expect.stringMatching(/^__Host-pwp_state_/));
    const state = new URL(start.location ?? 'x:').searchParams.get('state') ?? '';
    const code = emulator.createAuthorization({ scope: `inquiry.read:${shared}` }).code;
    const callback = await browser.get(
      `/auth/persona/callback?code=${code}&state=${encodeURIComponent(state)}`,
      forwarded,
    );
    expect(callback.status, callback.body).toBe(302);
    expect([...browser.cookies.keys()].filter((name) => name.includes('pwp_state_'))).toEqual([]);
  });
});
