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
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifySecureSession from '@fastify/secure-session';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Request, Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { afterEach, describe, it } from 'vitest';
import {
  attachStateResponse,
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

/** The Nest module of one app: the controller, and the strategy with these options. */
function appModule(options: PersonaStrategyOptions, controller: new () => object): new () => object {
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
  Module({ controllers: [controller], providers: [PersonaNestStrategy] })(AppModule);
  return AppModule;
}

async function nestApp(state: PersonaStrategyOptions['state']): Promise<string> {
  const AppModule = appModule({ ...strategyOptions(emulator), state }, AuthController);
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

// On the Fastify adapter there is no passport.session(): the token set is kept in
// @fastify/secure-session by the callback, and read from there by /me and the scope guard.
type SessionRequest = FastifyRequest & {
  session: { get(key: string): unknown; set(key: string, value: unknown): void };
};

class FastifyPersonaGuard extends PersonaGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    // The parent's logIn needs passport.session(); the callback keeps the user itself.
    return (await AuthGuard('persona').prototype.canActivate.call(this, context)) as boolean;
  }
  override getAuthenticateOptions(context: ExecutionContext): { returnTo?: string; session: false } {
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    return { session: false, ...(req.url.startsWith('/auth/persona/dashboard') ? { returnTo: '/dashboard' } : {}) };
  }
}

class FastifyInquiryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<SessionRequest & { params: { id?: string } }>();
    const refusal = checkScope(req.session.get('user') as PersonaTokenSet | undefined, 'inquiry.read', {
      objectId: req.params.id,
    });
    if (refusal) throw refusal;
    return true;
  }
}

class FastifyAuthController {
  start(): void {}
  callback(req: SessionRequest & { user?: unknown; authInfo?: { returnTo?: string } }, reply: FastifyReply): void {
    req.session.set('user', req.user);
    // The status too: Nest has set 200 on the reply, which Fastify's redirect would keep.
    reply.redirect(req.authInfo?.returnTo ?? '/profile', 302);
  }
  me(req: SessionRequest): { scope: string | undefined; hasToken: boolean } {
    const user = req.session.get('user') as PersonaTokenSet | undefined;
    return { scope: user?.scope, hasToken: typeof user?.accessToken === 'string' };
  }
  inquiry(req: { params: { id?: string } }): { id: unknown } {
    return { id: req.params.id };
  }
}
const fastifyProto = FastifyAuthController.prototype;
decorate(fastifyProto, 'start', Get(['auth/persona', 'auth/persona/dashboard']), UseGuards(FastifyPersonaGuard));
decorate(fastifyProto, 'callback', Get('auth/persona/callback'), UseGuards(FastifyPersonaGuard));
Req()(fastifyProto, 'callback', 0);
Res()(fastifyProto, 'callback', 1);
decorate(fastifyProto, 'me', Get('me'));
Req()(fastifyProto, 'me', 0);
decorate(fastifyProto, 'inquiry', Get('inquiries/:id'), UseGuards(FastifyInquiryGuard));
Req()(fastifyProto, 'inquiry', 0);
Controller()(FastifyAuthController);

async function nestFastifyApp(state: PersonaStrategyOptions['state']): Promise<string> {
  const AppModule = appModule({ ...strategyOptions(emulator), state }, FastifyAuthController);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
  await app.register(fastifySecureSession, { key: Buffer.alloc(32, 9), cookie: { path: '/', httpOnly: true } });
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', attachStateResponse);
  // Passport's redirect (the start of a flow) calls res.setHeader and res.end, which a
  // FastifyReply lacks; passport-oauth2 needs the same two lines on this adapter.
  fastify.addHook('onRequest', async (_request, reply) => {
    Object.assign(reply, {
      setHeader: (name: string, value: string) => reply.header(name, value),
      end: () => reply.send(),
    });
  });
  await app.listen(0, '127.0.0.1');
  opened.push(app);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

describe('NestJS 11 + @nestjs/passport on the Fastify adapter (with @fastify/secure-session)', () => {
  it("signs in with session state, once Passport's redirect has res.setHeader and res.end", async () => {
    await signInScenario(emulator, await nestFastifyApp(true));
  });

  it('signs in with signed state, the same way', async () => {
    await signInScenario(emulator, await nestFastifyApp({ signed: { secrets: [SECRET] } }));
  });
});
