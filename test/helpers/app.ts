import express, { type ErrorRequestHandler, type Express } from 'express';
import { Passport } from 'passport';
import { PersonaStrategy, type PersonaStrategyOptions, type PersonaVerify } from '../../src/index.js';

export interface TestApp {
  app: Express;
  strategy: PersonaStrategy<unknown>;
}

/** What the test app's error handler answers for an `error` outcome. */
export interface ErrorBody {
  code?: string;
  message?: string;
  requestId?: string;
  retryAfter?: number;
}

/**
 * An Express 5 app with Passport and the strategy on `/callback` (GET and form POST), the way a
 * user would mount it:
 * - `/callback` uses a custom callback and answers the challenge as JSON, so tests see the code;
 * - `/plain` uses the stock middleware (`session: false`), so tests see Passport's own answers.
 * Errors reach an error handler that answers `err.status` with the error's JSON.
 */
export function createTestApp(options: PersonaStrategyOptions, verify?: PersonaVerify<unknown>): TestApp {
  const passport = new Passport();
  const strategy = new PersonaStrategy<unknown>(options, verify);
  passport.use(strategy as never);
  const app = express();
  app.use(express.urlencoded({ extended: false }));

  const custom: express.RequestHandler = (req, res, next) => {
    passport.authenticate(
      strategy.name,
      { session: false },
      (err: unknown, user: unknown, info: unknown, status: unknown) => {
        if (err) return next(err);
        if (!user) return res.status(typeof status === 'number' ? status : 401).json({ failed: true, info });
        res.json({ user, info });
      },
    )(req, res, next);
  };
  app.get('/callback', custom);
  app.post('/callback', custom);
  app.get('/plain', passport.authenticate(strategy.name, { session: false }), (req, res) => {
    res.json({ user: req.user, info: req.authInfo });
  });
  const onError: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
    const e = err as { status?: number; code?: string; message?: string; requestId?: string; retryAfter?: number };
    res.status(typeof e.status === 'number' ? e.status : 500).json({
      code: e.code,
      message: e.message,
      requestId: e.requestId,
      retryAfter: e.retryAfter,
    } satisfies ErrorBody);
  };
  app.use(onError);
  return { app, strategy: strategy as PersonaStrategy<unknown> };
}
