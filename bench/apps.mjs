// The Express apps the Passport servers mount their strategy in, so that servers of one kind
// differ only in the strategy.
import express from 'express';
import session from 'express-session';
import passport from 'passport';

export const CALLBACK_URL = 'http://127.0.0.1/auth/persona/callback';
export const SHARE_PAGE = 'https://owner.example/share';

/** GET /callback through the strategy registered as `name`, `session: false`, answering req.user. */
export function callbackApp(name) {
  const app = express();
  app.get('/callback', passport.authenticate(name, { session: false }), (req, res) => {
    res.json(req.user);
  });
  return app;
}

/**
 * The README's setup around the strategy registered as `name`: express-session (memory store),
 * passport.session(), the start and callback routes, and GET /profile answering the session's
 * user for the runner's checks.
 */
export function readmeApp(name) {
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));
  const app = express();
  app.use(session({ secret: 'bench session secret', resave: false, saveUninitialized: false }));
  app.use(passport.session());
  app.get('/auth/persona', passport.authenticate(name));
  app.get(
    '/auth/persona/callback',
    passport.authenticate(name, { failureRedirect: '/login', failureMessage: true }),
    (_req, res) => res.redirect('/profile'),
  );
  app.get('/profile', (req, res) => res.json(req.user ?? null));
  return app;
}
