// Koa 3 + koa-passport 6 + koa-session: the full sign-in of helpers.ts over real HTTP against
// the emulator, with session state and with signed state (its nonce cookie set through
// koa-passport's ctx, nothing to attach), a checkScope middleware as the guard, and errors
// answered by Koa's default error handler.
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import session from 'koa-session';
import { afterEach, describe, it } from 'vitest';
import { checkScope, PersonaStrategy, type PersonaStrategyOptions, type PersonaTokenSet } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { SECRET, signInScenario, strategyOptions } from './helpers.js';

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

function koaApp(state: PersonaStrategyOptions['state']): Promise<string> {
  const passport = new koaPassport.KoaPassport();
  const strategy = new PersonaStrategy({ ...strategyOptions(emulator), state });
  opened.push(strategy);
  passport.use(strategy);
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));

  const app = new Koa();
  app.keys = ['a koa session key for the tests'];
  app.silent = true; // Koa logs each 5xx; the outage is expected here
  app.use(session(app));
  app.use(passport.initialize());
  app.use(passport.session());
  const start = passport.authenticate('persona');
  const startToDashboard = passport.authenticate('persona', { returnTo: '/dashboard' });
  const callback = passport.authenticate('persona');
  app.use(async (ctx, next) => {
    if (ctx.path === '/auth/persona') return start(ctx, next);
    if (ctx.path === '/auth/persona/dashboard') return startToDashboard(ctx, next);
    if (ctx.path === '/auth/persona/callback') {
      return callback(ctx, async () => {
        const returnTo = (ctx.state.authInfo as { returnTo?: string } | undefined)?.returnTo;
        ctx.redirect(returnTo ?? '/profile');
      });
    }
    const user = ctx.state.user as PersonaTokenSet | undefined;
    if (ctx.path === '/me') {
      ctx.body = { scope: user?.scope, hasToken: typeof user?.accessToken === 'string' };
      return;
    }
    const inquiry = /^\/inquiries\/([^/]+)$/.exec(ctx.path);
    if (inquiry) {
      const refusal = checkScope(user, 'inquiry.read', { objectId: inquiry[1] });
      if (refusal) throw refusal;
      ctx.body = { id: inquiry[1] };
      return;
    }
    await next();
  });
  const server = app.listen(0, '127.0.0.1');
  opened.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  return new Promise((resolve) => {
    server.once('listening', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

describe('Koa 3 + koa-passport 6 + koa-session', () => {
  it('signs in with session state: token and scope, returnTo, forged and replayed state, scope guard, outage', async () => {
    await signInScenario(emulator, await koaApp(true));
  });

  it('signs in with signed state, the same way', async () => {
    await signInScenario(emulator, await koaApp({ signed: { secrets: [SECRET] } }));
  });
});
