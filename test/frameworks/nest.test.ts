// NestJS 11 + @nestjs/passport on the Express adapter: the full sign-in of helpers.ts over real
// HTTP against the emulator, with session and signed state, the PassportStrategy mixin, an
// AuthGuard that keeps a failure's status, a checkScope guard, and errors answered by Nest's
// default exception filter (which reads statusCode). The decorators are applied as functions,
// as the compiled output of `@Get()` and friends does, so this file needs no decorator flags.
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import {
  type CanActivate,
  Controller,
  type ExecutionContext,
  Get,
  HttpException,
  type INestApplication,
  Injectable,
  Module,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import type { Request, Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { afterEach, describe, it } from 'vitest';
import {
  checkScope,
  type PersonaChallenge,
  PersonaStrategy,
  type PersonaStrategyOptions,
  type PersonaTokenSet,
} from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { SECRET, signInScenario, strategyOptions } from './helpers.js';

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

/** Applies method decorators to `target[key]`, as `@A() @B() key() {}` does. */
function decorate(target: object, key: string, ...decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (!descriptor) throw new Error(`no method ${key}`);
  for (const decorator of decorators.reverse()) decorator(target, key, descriptor);
}

/** The guard on the sign-in routes: keeps a failure's status (403 for a bad state), logs in. */
class PersonaGuard extends AuthGuard('persona') {
  override getAuthenticateOptions(context: ExecutionContext): { returnTo?: string } {
    const req = context.switchToHttp().getRequest<Request>();
    return req.path === '/auth/persona/dashboard' ? { returnTo: '/dashboard' } : {};
  }

  override handleRequest<TUser>(
    err: unknown,
    user: TUser,
    info: unknown,
    _context: ExecutionContext,
    status?: number,
  ): TUser {
    // A PersonaOAuthError (Persona down, a timeout) carries statusCode: Nest answers with it.
    if (err) throw err;
    if (!user) throw new HttpException((info as PersonaChallenge | undefined) ?? 'Unauthorized', status ?? 401);
    return user;
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const allowed = (await super.canActivate(context)) as boolean;
    await super.logIn(context.switchToHttp().getRequest());
    return allowed;
  }
}

/** The scope guard: inquiry.read on the route's :id, through checkScope. */
class InquiryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request>();
    const refusal = checkScope(req.user as PersonaTokenSet | undefined, 'inquiry.read', { objectId: req.params.id });
    if (refusal) throw refusal;
    return true;
  }
}

class AuthController {
  start(): void {}
  callback(req: Request, res: Response): void {
    const returnTo = (req.authInfo as { returnTo?: string } | undefined)?.returnTo;
    res.redirect(returnTo ?? '/profile');
  }
  me(req: Request): { scope: string | undefined; hasToken: boolean } {
    const user = req.user as PersonaTokenSet | undefined;
    return { scope: user?.scope, hasToken: typeof user?.accessToken === 'string' };
  }
  inquiry(req: Request): { id: unknown } {
    return { id: req.params.id };
  }
}
const proto = AuthController.prototype;
decorate(proto, 'start', Get(['auth/persona', 'auth/persona/dashboard']), UseGuards(PersonaGuard));
decorate(proto, 'callback', Get('auth/persona/callback'), UseGuards(PersonaGuard));
Req()(proto, 'callback', 0);
Res()(proto, 'callback', 1);
decorate(proto, 'me', Get('me'));
Req()(proto, 'me', 0);
decorate(proto, 'inquiry', Get('inquiries/:id'), UseGuards(InquiryGuard));
Req()(proto, 'inquiry', 0);
Controller()(AuthController);

async function nestApp(state: PersonaStrategyOptions['state']): Promise<string> {
  const options: PersonaStrategyOptions = { ...strategyOptions(emulator), state };
  class PersonaNestStrategy extends PassportStrategy(PersonaStrategy, 'persona') {
    constructor() {
      super(options);
      opened.push({ close: () => this.close() });
    }
    validate(tokens: PersonaTokenSet): PersonaTokenSet {
      return tokens;
    }
  }
  Injectable()(PersonaNestStrategy);
  class AppModule {}
  Module({ controllers: [AuthController], providers: [PersonaNestStrategy] })(AppModule);

  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user: Express.User, done) => done(null, user));
  const app: INestApplication = await NestFactory.create(AppModule, { logger: false });
  app.use(session({ secret: 'a nest session secret', resave: false, saveUninitialized: false }));
  app.use(passport.initialize());
  app.use(passport.session());
  await app.listen(0, '127.0.0.1');
  opened.push(app);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

describe('NestJS 11 + @nestjs/passport on the Express adapter', () => {
  it('signs in with session state: token and scope, returnTo, forged and replayed state, scope guard, outage', async () => {
    await signInScenario(emulator, await nestApp(true));
  });

  it('signs in with signed state, the same way', async () => {
    await signInScenario(emulator, await nestApp({ signed: { secrets: [SECRET] } }));
  });
});
