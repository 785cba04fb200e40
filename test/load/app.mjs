// The Express 5 app the load driver (test/load/run.mjs) drives: sessions (express-session),
// passport.session(), PersonaStrategy with `state: true`, and personaErrorHandler(), mounted the
// way the README's quickstart mounts them. Forked by the driver with --expose-gc; it reports its
// URL over the IPC channel and exits when that channel closes.
//
// Environment: PERSONA_BASE_URL (the emulator), PERSONA_API_KEY (the recipient's key),
// SESSION_STORE_MAX (sessions kept, default 2000).
//
// Extra route for the driver: GET /__heap (loopback only) runs the garbage collector twice and
// answers { heapUsed, rss } in bytes.
import { createServer } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { PersonaStrategy, personaErrorHandler } from 'passport-withpersona';

const baseURL = process.env.PERSONA_BASE_URL;
const apiKey = process.env.PERSONA_API_KEY;
const storeMax = Number(process.env.SESSION_STORE_MAX ?? 2000);
if (!baseURL || !apiKey || !Number.isSafeInteger(storeMax) || storeMax < 1) {
  process.stderr.write('load app: set PERSONA_BASE_URL, PERSONA_API_KEY (and SESSION_STORE_MAX ≥ 1)\n');
  process.exit(2);
}
if (typeof globalThis.gc !== 'function') {
  process.stderr.write('load app: start with node --expose-gc\n');
  process.exit(2);
}

/**
 * A session store that keeps only the `max` most recently written sessions. express-session's
 * MemoryStore keeps every session until its cookie expires (these never do), so over 20,000
 * logins it would grow by one session per login and hide the library's own memory behind the
 * store's. Sessions are kept as JSON strings, as MemoryStore keeps them.
 */
class BoundedSessionStore extends session.Store {
  #sessions = new Map();
  #max;

  constructor(max) {
    super();
    this.#max = max;
  }

  get(sid, callback) {
    const raw = this.#sessions.get(sid);
    setImmediate(() => callback(null, raw === undefined ? null : JSON.parse(raw)));
  }

  set(sid, data, callback) {
    this.#sessions.delete(sid);
    this.#sessions.set(sid, JSON.stringify(data));
    while (this.#sessions.size > this.#max) this.#sessions.delete(this.#sessions.keys().next().value);
    if (callback) setImmediate(callback);
  }

  touch(_sid, _data, callback) {
    if (callback) setImmediate(callback);
  }

  destroy(sid, callback) {
    this.#sessions.delete(sid);
    if (callback) setImmediate(callback);
  }

  length(callback) {
    callback(null, this.#sessions.size);
  }

  clear(callback) {
    this.#sessions.clear();
    if (callback) callback();
  }
}

const isLoopback = (address) =>
  address === '::1' || address === '::ffff:127.0.0.1' || (typeof address === 'string' && address.startsWith('127.'));

const app = express();
const server = createServer(app);
// Longer than the driver's idle keep-alive, so an idle connection is always closed by the client:
// a server closing it while a request is on its way answers that request with a reset.
server.keepAliveTimeout = 60_000;
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', resolve);
});
const { port } = server.address();
const url = `http://127.0.0.1:${port}`;

const strategy = new PersonaStrategy({
  apiKey,
  baseURL,
  authorizationURL: `${url}/owner/share`,
  callbackURL: `${url}/auth/persona/callback`,
  state: true,
});
passport.use(strategy);
passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((user, done) => done(null, user));

app.get('/__heap', async (req, res) => {
  if (!isLoopback(req.socket.remoteAddress)) return res.status(403).end();
  globalThis.gc();
  await tick();
  globalThis.gc();
  const { heapUsed, rss } = process.memoryUsage();
  res.json({ heapUsed, rss });
});

app.use(
  session({
    secret: 'passport-withpersona load test session secret',
    resave: false,
    saveUninitialized: false,
    store: new BoundedSessionStore(storeMax),
  }),
);
app.use(passport.session());

app.get('/auth/persona', passport.authenticate('persona'));
app.get('/auth/persona/callback', passport.authenticate('persona'), (_req, res) => res.redirect('/profile'));
app.get('/owner/share', (_req, res) => res.type('text').send("The data owner's share page\n"));
app.get('/profile', (req, res) => {
  if (!req.user) return res.status(401).json({ error: 'unauthenticated' });
  res.json({ scope: req.user.scope, expiresAt: req.user.expiresAt });
});

app.use(personaErrorHandler());
// Anything that is not the library's error is a defect of this test: answer 500 and say so.
app.use((err, _req, res, _next) => {
  process.stderr.write(`load app: unexpected error: ${err?.stack ?? String(err)}\n`);
  res.status(500).json({ error: 'internal' });
});

const stop = () => {
  server.closeAllConnections();
  server.close();
  strategy.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

process.send?.({ ready: true, url });
