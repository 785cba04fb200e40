import express from 'express';
import passport from 'passport';
import request from 'supertest';
import { PersonaStrategy, type PersonaStrategyOptions } from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';

/** What the callback route saw: the user (the token set) or the failure's info and status, or the error. */
export interface CallbackOutcome {
  status: number;
  /** The Location header of a redirect. */
  location?: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON the route answered and assert on it.
  body: any;
}

/** The strategy in an Express app against the emulator, as a user's app would mount it. */
export interface StrategyApp {
  strategy: PersonaStrategy;
  /** GET /callback?code=… (the code form-encoded) through the strategy. */
  callback(code: string): Promise<CallbackOutcome>;
  /** GET `path` exactly as written, query string included. */
  callbackRaw(path: string): Promise<CallbackOutcome>;
  close(): Promise<void>;
}

/**
 * An app whose /callback answers 200 `{ user }`, the failure's status with `{ info }`, or 500
 * with `{ error: { code, status, message, retryAfter } }`, so a test sees every outcome as JSON.
 */
export function strategyApp(
  persona: PersonaEmulator,
  options: Omit<Partial<PersonaStrategyOptions>, 'passReqToCallback'> = {},
  apiKey = persona.recipient.apiKey,
): StrategyApp {
  const strategy = new PersonaStrategy({ apiKey, baseURL: persona.url, ...options });
  const authenticator = new passport.Passport();
  authenticator.use(strategy);
  const app = express();
  app.get('/callback', (req, res, next) => {
    authenticator.authenticate(
      'persona',
      { session: false },
      (err: unknown, user: unknown, info: unknown, status: unknown) => {
        if (err) {
          const {
            code,
            status: errStatus,
            message,
            retryAfter,
          } = err as {
            code?: string;
            status?: number;
            message?: string;
            retryAfter?: number;
          };
          res.status(500).json({ error: { code, status: errStatus, message, retryAfter } });
          return;
        }
        if (user) res.json({ user });
        else res.status(Number(status) || 401).json({ info });
      },
    )(req, res, next);
  });
  return {
    strategy,
    callback: async (code) => {
      const res = await request(app).get('/callback').query({ code });
      return { status: res.status, body: res.body };
    },
    callbackRaw: async (path) => {
      const res = await request(app).get(path);
      return { status: res.status, body: res.body, location: res.headers.location };
    },
    close: () => strategy.close(),
  };
}
