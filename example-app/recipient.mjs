// The recipient's side (Org B): the library's user. Sign-in with passport + express-session and
// PersonaStrategy on the callback, then pages that use the access token within its scope.
import express from 'express';
import { isPersonaOAuthError, requireScope, ScopeError } from 'passport-withpersona';
import { csrfToken, noStore, validCsrf } from './security.mjs';
import { INQUIRIES, showSharedObject, VERIFICATIONS } from './shared-objects.mjs';
import { SIGNED_IN_MS } from './sessions.mjs';
import { linkUsedPage, problemPage, profilePage, sendPage as send } from './views.mjs';

/** What a failed callback (a Passport "fail") means for the person who clicked the link. */
const FAILURES = {
  access_denied: {
    title: 'The data owner declined to share',
    message: 'Nothing was shared, so you are not signed in.',
    signedInMessage: 'Nothing new was shared. You are still signed in with what was shared before.',
    hint: 'Start again if that was a mistake.',
  },
  invalid_state: {
    title: 'This sign-in link is not valid here',
    message:
      'The link did not come from a sign-in started in this browser, or it was already used, changed or left too long. It was not sent to Persona.',
    hint: 'Start again from this page to get a fresh link.',
  },
  invalid_request: {
    title: 'This sign-in link is malformed',
    message: 'The link is missing its code or carries values that cannot be right. It was not sent to Persona.',
  },
  authorization_error: {
    title: 'The data owner reported an error',
    message: 'The data owner’s side could not complete the share.',
  },
  verify_rejected: {
    title: 'The account was not accepted',
    message: 'Persona accepted the code, but this app did not accept the result.',
  },
};

/** What an error (Persona or the network failed, not the person) means. */
function errorView(error) {
  switch (error.code) {
    case 'rate_limited':
      return {
        title: 'Persona is busy',
        message: 'Persona is rate limiting requests right now.',
        hint: 'Wait a minute, then start again.',
      };
    case 'timeout':
      return {
        title: 'Persona did not answer in time',
        message: 'The token exchange took too long and was abandoned.',
      };
    case 'request_rejected':
      return {
        title: 'This app is not configured correctly',
        message: 'Persona rejected this app’s token request itself, so the code could not be exchanged.',
        hint: 'Check PERSONA_VERSION and the Persona error in the server log.',
      };
    case 'invalid_api_key':
    case 'forbidden':
      return {
        title: 'This app is not configured correctly',
        message: 'Persona refused this app’s API key, so the code could not be exchanged.',
        hint: 'Check PERSONA_API_KEY.',
      };
    default:
      return {
        title: 'Persona is unavailable',
        message: 'Persona could not be reached or gave an answer this app could not use.',
      };
  }
}

function isExpired(user, now) {
  return typeof user?.expiresAt === 'number' && user.expiresAt <= now();
}

// Persona's Request-Id, carried to the "link used" page in its query string.
function requestIdParam(value) {
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value) ? value : undefined;
}

/**
 * Persona refused the code (used or expired). When two tabs (or two instances) race on one
 * callback URL, one signs in and the other ends here: redirect rather than render, so the
 * browser asks again with whatever session cookie the winning tab has set by then. A session
 * the winner replaced (regenerated on sign-in) is not written back, or its stale cookie would
 * overwrite the signed-in one.
 */
function codeRefused(req, res, requestId, now) {
  if (req.user && !isExpired(req.user, now)) return res.redirect(303, '/profile');
  const target = requestId ? `/auth/persona/used?request_id=${encodeURIComponent(requestId)}` : '/auth/persona/used';
  req.session.reload((gone) => {
    if (gone) req.session = null;
    res.redirect(303, target);
  });
}

/**
 * The recipient's routes: /auth/persona, /auth/persona/callback, /profile, /inquiries/:id,
 * /verifications/:id and /logout. `strategy` is the PersonaStrategy registered on `passport` (a Passport instance);
 * `now` is the clock a token's `expiresAt` is compared with (epoch ms).
 */
export function recipientRouter({ site, passport, strategy, reader, sessionCookieName, log, now }) {
  const router = express.Router();
  const problem = (req, res, status, fields) =>
    send(
      res,
      status,
      problemPage({ site, side: 'recipient', csrfToken: req.user ? csrfToken(req) : undefined, ...fields }),
    );

  const notSignedIn = (req, res) =>
    problem(req, res, 401, {
      title: 'You are not signed in',
      message: `Connect with Persona first: the data owner chooses what to share with ${site.recipientName}.`,
      code: 'unauthenticated',
    });
  const reconnect = (req, res) =>
    problem(req, res, 401, {
      title: 'Your access has expired: reconnect',
      message:
        'Persona access tokens last one hour and cannot be refreshed, so this app no longer uses the one it had.',
      hint: 'Reconnect to ask the data owner for a new code.',
      code: 'token_expired',
    });
  const notShared = (req, res, id, noun) =>
    problem(req, res, 403, {
      title: `This ${noun} was not shared with you`,
      message: `The data owner did not include ${id} in what it shared with ${site.recipientName}, so this app did not ask Persona for it.`,
      hint: 'Start again and ask the owner to share it, or go back to what you have.',
      code: 'insufficient_scope',
      backToProfile: true,
    });

  // Both the start (no code yet: redirect to the owner's share page with state and redirect_uri)
  // and the callback (check state, exchange the code, sign in) go through the strategy. A custom
  // callback turns every outcome into a page that says what happened.
  const authenticate = (req, res, next) => {
    passport.authenticate(strategy.name, (err, user, info, status) => {
      if (err) {
        log('callback: token exchange error', err);
        if (!isPersonaOAuthError(err)) return next(err);
        if (err.code === 'rate_limited' && err.retryAfter !== undefined) res.set('Retry-After', String(err.retryAfter));
        return problem(req, res, err.status ?? 502, { ...errorView(err), code: err.code, requestId: err.requestId });
      }
      if (!user) {
        const code = typeof info?.code === 'string' ? info.code : 'invalid_request';
        if (code === 'invalid_grant') return codeRefused(req, res, requestIdParam(info?.requestId), now);
        const { signedInMessage, ...view } = FAILURES[code] ?? FAILURES.invalid_request;
        // A browser that was signed in before this link stays signed in: say so, and lead back.
        const signedIn = Boolean(req.user) && !isExpired(req.user, now);
        return problem(req, res, typeof status === 'number' ? status : 401, {
          ...view,
          ...(signedIn ? { message: signedInMessage ?? view.message, openProfile: true } : {}),
          code,
          requestId: info?.requestId,
        });
      }
      // Passport regenerates the session on login (no session fixation). A signed-in session
      // lives longer than the sign-in window (saved again, since the store keeps the expiry);
      // then a clean URL, so the code leaves the address bar and the history.
      req.logIn(user, (loginError) => {
        if (loginError) return next(loginError);
        req.session.cookie.maxAge = SIGNED_IN_MS;
        req.session.save((saveError) => {
          if (saveError) return next(saveError);
          res.redirect(303, '/profile');
        });
      });
    })(req, res, next);
  };

  router.get('/auth/persona', noStore, (req, res, next) => {
    if (!site.canStart) {
      return problem(req, res, 400, {
        title: 'Connecting is not available here',
        message: 'This instance has no data owner share page to send you to (PERSONA_AUTHORIZATION_URL is not set).',
        startAgain: false,
      });
    }
    authenticate(req, res, next);
  });

  router.get(
    '/auth/persona/callback',
    (_req, res, next) => {
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      next();
    },
    authenticate,
  );

  router.get('/auth/persona/used', noStore, (req, res) => {
    if (req.user && !isExpired(req.user, now)) return res.redirect(303, '/profile');
    send(res, 200, linkUsedPage({ site, requestId: requestIdParam(req.query.request_id) }));
  });

  router.get('/profile', noStore, (req, res) => {
    if (!req.user) return notSignedIn(req, res);
    if (isExpired(req.user, now)) return reconnect(req, res);
    send(res, 200, profilePage({ site, user: req.user, now: now(), csrfToken: csrfToken(req) }));
  });

  // Each shared object's page checks the token's scope (and expiry) before anything else: a
  // refusal never reaches Persona. Then it reads the object from Persona with the access token.
  const pages = { site, problem, reconnect, notShared, reader, log };
  router.get(
    '/inquiries/:id',
    noStore,
    requireScope('inquiry.read', { objectId: (req) => req.params.id, now }),
    showSharedObject(INQUIRIES, pages),
  );
  router.get(
    '/verifications/:id',
    noStore,
    requireScope('verification.read', { objectId: (req) => req.params.id, now }),
    showSharedObject(VERIFICATIONS, pages),
  );

  router.post('/logout', express.urlencoded({ extended: false, limit: '4kb' }), (req, res, next) => {
    if (!validCsrf(req)) {
      if (!req.user) return res.redirect(303, '/');
      return problem(req, res, 403, {
        title: 'Sign-out form expired',
        message: 'The sign-out form did not come from this session. You are still signed in.',
        hint: 'Use the Sign out button below.',
        code: 'invalid_csrf',
        startAgain: false,
      });
    }
    req.session.destroy((error) => {
      if (error) return next(error);
      res.clearCookie(sessionCookieName, { path: '/' });
      res.redirect(303, '/');
    });
  });

  // requireScope's refusals become pages: 401 (not signed in, or the token expired and is not
  // used) and 403 (the token does not cover this object, so Persona is not even asked).
  router.use((err, req, res, next) => {
    if (!(err instanceof ScopeError)) return next(err);
    if (err.code === 'token_expired') return reconnect(req, res);
    if (err.code === 'unauthenticated') return notSignedIn(req, res);
    return notShared(req, res, err.objectId ?? 'this object', err.permission.split('.')[0] ?? 'object');
  });

  return router;
}
