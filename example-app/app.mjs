// The sample app: one Express 5 app playing both organisations. The recipient (Org B) is the
// library's user; the data owner (Org A) is simulated so the whole flow runs on one machine.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import session from 'express-session';
import { Passport } from 'passport';
import { createSharedObjectReader, PersonaStrategy } from 'passport-withpersona';
import { Agent } from 'undici';
import { ownerRouter } from './owner.mjs';
import { recipientRouter } from './recipient.mjs';
import { csrfToken, noStore, securityHeaders } from './security.mjs';
import { MemorySessionStore, SIGN_IN_WINDOW_MS } from './sessions.mjs';
import { homePage, problemPage, sendPage } from './views.mjs';

/**
 * @import { Server } from 'node:http';
 * @import { Express } from 'express';
 * @import { Store } from 'express-session';
 * @import { PersonaStrategy as Strategy } from 'passport-withpersona';
 */

/**
 * An inquiry as the simulated owner lists it on its share page.
 * @typedef {object} OwnerInquiry
 * @property {string} id
 * @property {string} status
 * @property {string} nameFirst
 * @property {string | null} [nameMiddle]
 * @property {string} nameLast
 * @property {string} createdAt
 */

/**
 * A verification as the simulated owner lists it on its share page.
 * @typedef {object} OwnerVerification
 * @property {string} id
 * @property {string} type
 * @property {string} status
 * @property {string | null} inquiryId
 */

/**
 * The recipient's side: its Persona API key and where Persona is.
 * @typedef {object} RecipientOptions
 * @property {string} apiKey
 * @property {string} [baseURL]
 * @property {string} [organizationName]
 * @property {string} [label]
 * @property {number} [timeoutMs]
 */

/**
 * The simulated data owner: its key, its organisation's objects, and whom it shares with.
 * @typedef {object} OwnerOptions
 * @property {string} apiKey
 * @property {string} baseURL
 * @property {string} [name]
 * @property {string} recipientOrgId
 * @property {() => readonly OwnerInquiry[]} inquiries
 * @property {() => readonly OwnerVerification[]} [verifications]
 */

/**
 * What `createApp` takes (see its comment for each option).
 * @typedef {object} SampleAppOptions
 * @property {string} publicURL
 * @property {string | string[]} sessionSecret
 * @property {Store} [sessionStore]
 * @property {RecipientOptions} persona
 * @property {OwnerOptions} [owner]
 * @property {string} [authorizationURL]
 * @property {boolean} [secureCookies]
 * @property {(message: string, error?: unknown) => void} [log]
 * @property {() => number} [now]
 * @property {number} [signInLimit]
 */

/**
 * The built app and what it holds open.
 * @typedef {object} SampleApp
 * @property {Express} app
 * @property {Strategy} strategy
 * @property {string} callbackURL
 * @property {() => Promise<void>} close
 */

/**
 * A started app: `SampleApp` plus where it listens.
 * @typedef {SampleApp & { url: string, server: Server }} RunningSampleApp
 */

const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));
export const SESSION_COOKIE = 'persona_sample.sid';

/** @type {(message: string, error?: any) => void} */
function defaultLog(message, error) {
  const detail = error
    ? ` ${error.name ?? 'Error'}${error.code ? ` ${error.code}` : ''}: ${error.message ?? String(error)}`
    : '';
  console.error(`[example-app] ${message}${detail}`);
}

/**
 * Limits a client's sign-in starts and callbacks: each callback with a fresh state (free to get)
 * and a made-up code costs one request from the Persona environment's rate limit, which a few
 * hundred anonymous requests would otherwise spend in a second, locking everyone out. A client
 * over the limit gets a 429 page with `Retry-After`; Persona is not asked.
 *
 * @param {number} perMinute
 * @param {import('./views.mjs').Site} site
 * @returns {import('express').RequestHandler}
 */
function signInLimiter(perMinute, site) {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res, _next, options) => {
      sendPage(
        res,
        options.statusCode,
        problemPage({
          site,
          title: 'Too many sign-in attempts',
          message: 'This browser or network started or finished too many sign-ins in the last minute.',
          hint: 'Wait a minute, then start again.',
          code: 'too_many_requests',
          startAgain: false,
        }),
      );
    },
  });
}

/**
 * Builds the app. Options:
 * - `publicURL` (required): where browsers reach the app, e.g. `http://127.0.0.1:3000`; the
 *   callback (`/auth/persona/callback`) and the owner's share page are derived from it. Behind a
 *   load balancer every instance gets the same one.
 * - `sessionSecret` (required): a string, or an array (first signs, all verify).
 * - `sessionStore`: an express-session store (default: a MemorySessionStore of its own).
 * - `persona`: `{ apiKey, baseURL?, organizationName?, label?, timeoutMs? }`, the recipient's side.
 * - `owner`: `{ apiKey, baseURL, name, recipientOrgId, inquiries: () => inquiry[],
 *   verifications?: () => verification[] }` to simulate the data owner; omit it to hide the owner side.
 * - `authorizationURL`: the data owner's share page when `owner` is omitted.
 * - `secureCookies`: default true when `publicURL` is https.
 * - `log(message, error?)`: where failures are reported (default: stderr).
 * - `signInLimit`: sign-in requests (starts and callbacks together) a client may make per minute
 *   (default 20; `Infinity`: no limit); more get a 429 page. Each callback with a fresh state costs one request from
 *   the Persona environment's rate limit, so without it anyone could spend that limit.
 * - `now()`: the clock access tokens' `expiresAt` is compared with, in epoch ms (default
 *   `Date.now`); tests move it instead of waiting for a token to expire.
 *
 * Returns `{ app, strategy, callbackURL, close }`; `close()` releases the outbound connection pools.
 *
 * @param {SampleAppOptions} options
 * @returns {SampleApp}
 */
export function createApp(options) {
  if (!options || typeof options !== 'object') throw new TypeError('createApp(options) needs options');
  const { persona, owner, sessionStore } = options;
  const log = options.log ?? defaultLog;
  const now = options.now ?? Date.now;
  let origin;
  try {
    origin = new URL(options.publicURL).origin;
  } catch {
    throw new TypeError('createApp: publicURL must be an absolute URL such as http://127.0.0.1:3000');
  }
  const secret = options.sessionSecret;
  if (!(typeof secret === 'string' && secret.length > 0) && !(Array.isArray(secret) && secret.length > 0)) {
    throw new TypeError('createApp: sessionSecret is required');
  }
  if (!persona || typeof persona.apiKey !== 'string' || persona.apiKey === '') {
    throw new TypeError('createApp: persona.apiKey (the recipient organisation’s key) is required');
  }

  const callbackURL = `${origin}/auth/persona/callback`;
  const authorizationURL = owner ? `${origin}/owner/share` : options.authorizationURL;
  const personaBaseURL = persona.baseURL ?? 'https://api.withpersona.com';
  const site = {
    recipientName: persona.organizationName ?? 'Org B',
    ownerName: owner ? (owner.name ?? 'Org A') : undefined,
    personaLabel: persona.label ?? personaBaseURL,
    canStart: Boolean(authorizationURL),
  };

  // The library: the recipient's API key, where to send a browser that has no code yet, where
  // the owner sends it back, and CSRF state kept in the session.
  const strategy = new PersonaStrategy({
    apiKey: persona.apiKey,
    baseURL: personaBaseURL,
    authorizationURL,
    callbackURL,
    state: true,
    timeoutMs: persona.timeoutMs ?? 10_000,
  });
  const passport = new Passport();
  passport.use(strategy);
  // The user is the token set itself (access token, expiry, scopes): small and JSON-serialisable.
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));

  // One keep-alive pool for the owner's Create Authorization and the recipient's reads.
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connect: { timeout: 10_000 } });
  // The recipient's reads of shared objects with the access token (keys in kebab-case, as the pages read them).
  const reader = createSharedObjectReader({
    baseURL: personaBaseURL,
    keyInflection: 'kebab',
    timeoutMs: persona.timeoutMs ?? 10_000,
    dispatcher,
    now,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.get('/healthz', noStore, (_req, res) => {
    res.json({ status: 'ok', owner: Boolean(owner), persona: personaBaseURL });
  });
  app.use('/static', express.static(PUBLIC_DIR, { index: false, redirect: false, maxAge: '1h', fallthrough: true }));

  // A session lives as long as a sign-in flow until someone signs in (the recipient's routes
  // extend it then), so anonymous visitors who start and leave do not pile up.
  const ownStore = sessionStore ? undefined : new MemorySessionStore();
  app.use(
    session({
      name: SESSION_COOKIE,
      secret,
      store: sessionStore ?? ownStore,
      resave: false,
      saveUninitialized: false,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: options.secureCookies ?? origin.startsWith('https:'),
        maxAge: SIGN_IN_WINDOW_MS,
        path: '/',
      },
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());
  const signInLimit = options.signInLimit ?? 20;
  if (Number.isFinite(signInLimit)) {
    app.all(['/auth/persona', '/auth/persona/callback'], signInLimiter(signInLimit, site));
  }

  app.get('/', noStore, (req, res) => {
    sendPage(
      res,
      200,
      homePage({ site, user: req.user, now: now(), csrfToken: req.user ? csrfToken(req) : undefined }),
    );
  });

  if (owner) {
    app.use(ownerRouter({ owner, site, callbackURL, dispatcher, log }));
  } else {
    app.all('/owner/share', (_req, res) => {
      sendPage(
        res,
        404,
        problemPage({
          site,
          side: 'owner',
          title: 'The data owner side is switched off',
          message:
            'This instance talks to a real Persona API (PERSONA_API_KEY is set), so it does not simulate the data owner.',
          startAgain: false,
        }),
      );
    });
  }
  app.use(recipientRouter({ site, passport, strategy, reader, sessionCookieName: SESSION_COOKIE, log, now }));

  app.use((_req, res) => {
    sendPage(
      res,
      404,
      problemPage({
        site,
        side: undefined,
        title: 'Page not found',
        message: 'There is no page at this address.',
        startAgain: false,
      }),
    );
  });
  // Last resort: a page with the status and no internals (no message, no stack trace).
  app.use((err, _req, res, _next) => {
    const status = Number.isInteger(err?.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
    if (status >= 500) log('unhandled error', err);
    if (res.headersSent) return res.end();
    sendPage(
      res,
      status,
      problemPage({
        site,
        side: undefined,
        title: status >= 500 ? 'Something went wrong' : 'This request could not be handled',
        message: status >= 500 ? 'The app hit an unexpected error. It has been logged.' : 'The request was not valid.',
        code: status >= 500 ? 'internal_error' : 'bad_request',
      }),
    );
  });

  /** @type {Promise<void> | undefined} */
  let closing;
  const close = () => {
    ownStore?.close();
    closing ??= Promise.all([strategy.close(), reader.close()])
      .then(() => dispatcher.close())
      .then(() => undefined);
    return closing;
  };
  return { app, strategy, callbackURL, close };
}

/**
 * Creates an HTTP server, listens (default 127.0.0.1, a free port), then builds the app with
 * `publicURL` defaulting to the address it got. Resolves to `{ url, server, app, strategy, close }`;
 * `close()` stops the server (open connections included) and the app's pools.
 *
 * @param {Omit<SampleAppOptions, 'publicURL'> & { publicURL?: string, host?: string, port?: number }} options
 * @returns {Promise<RunningSampleApp>}
 */
export async function startApp(options) {
  const host = options.host ?? '127.0.0.1';
  /** @type {import('node:http').RequestListener} */
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handler(req, res));
  await /** @type {Promise<void>} */ (
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    })
  );
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  let built;
  try {
    built = createApp({ ...options, publicURL: options.publicURL ?? url });
  } catch (error) {
    server.close();
    throw error;
  }
  handler = built.app;
  /** @type {Promise<void> | undefined} */
  let closing;
  const close = () => {
    closing ??= /** @type {Promise<void>} */ (
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })
    ).then(() => built.close());
    return closing;
  };
  return { url, server, app: built.app, strategy: built.strategy, callbackURL: built.callbackURL, close };
}
