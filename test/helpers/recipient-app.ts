import express, { type Express } from 'express';
import session, { type Store } from 'express-session';
import { Passport } from 'passport';
import { PersonaStrategy, type PersonaStrategyOptions } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { closeAfterEach, useEmulator } from './emulator.js';

export interface RecipientApp {
  app: Express;
  strategy: PersonaStrategy;
}

export interface RecipientAppOptions {
  /** The strategy's options, on top of `apiKey` and `baseURL`. */
  strategy?: Partial<Omit<PersonaStrategyOptions, 'passReqToCallback'>>;
  /** Mount express-session (default true); `store` shares sessions between apps. */
  session?: boolean;
  store?: Store;
}

/**
 * A recipient's app the way a user mounts the strategy with state: express-session (optional),
 * Passport, `/start` (redirects to the share page with a state) and `/callback`, whose custom
 * callback answers JSON: `{ ok, info }` on success, `{ info }` with the failure's status.
 */
export function recipientApp(
  persona: { apiKey: string; url: string },
  options: RecipientAppOptions = {},
): RecipientApp {
  const passport = new Passport();
  const strategy = new PersonaStrategy({
    apiKey: persona.apiKey,
    baseURL: persona.url,
    authorizationURL: 'http://127.0.0.1:9/owner/share',
    callbackURL: 'http://127.0.0.1:9/callback',
    ...options.strategy,
  });
  passport.use(strategy as never);
  const app = express();
  if (options.session ?? true) {
    app.use(
      session({
        secret: 'test-session-secret',
        resave: false,
        saveUninitialized: false,
        name: 'sid',
        ...(options.store ? { store: options.store } : {}),
      }),
    );
  }
  app.get('/start', (req, res, next) => {
    const returnTo = typeof req.query.returnTo === 'string' ? req.query.returnTo : undefined;
    passport.authenticate('persona', { session: false, ...(returnTo ? { returnTo } : {}) })(req, res, next);
  });
  app.get('/callback', (req, res, next) => {
    passport.authenticate(
      'persona',
      { session: false },
      (err: unknown, user: unknown, info: unknown, status: unknown) => {
        if (err) return next(err);
        if (!user) return res.status(typeof status === 'number' ? status : 401).json({ info });
        res.json({ ok: true, user, info });
      },
    )(req, res, next);
  });
  return { app, strategy };
}

/** The `state` parameter of a start redirect's Location. */
export function stateFrom(location: string | undefined): string {
  const state = new URL(location ?? 'http://x.invalid').searchParams.get('state');
  if (!state) throw new Error(`no state in ${location}`);
  return state;
}

/** One emulator for the test file, and recipient apps on it whose strategies close after each test. */
export interface RecipientApps {
  readonly emulator: PersonaEmulator;
  /** A recipient app (express-session, Passport, `/start`, `/callback`) with these strategy options. */
  appWith(strategy: Partial<Omit<PersonaStrategyOptions, 'passReqToCallback'>>): Express;
}

export function useRecipientApps(): RecipientApps {
  let started: PersonaEmulator | undefined;
  const strategies: PersonaStrategy[] = [];
  useEmulator((emulator) => {
    started = emulator;
  });
  closeAfterEach(strategies);
  const apps: RecipientApps = {
    get emulator() {
      if (!started) throw new Error('the emulator is not started yet');
      return started;
    },
    appWith(strategy) {
      const made = recipientApp({ apiKey: apps.emulator.recipient.apiKey, url: apps.emulator.url }, { strategy });
      strategies.push(made.strategy);
      return made.app;
    },
  };
  return apps;
}
