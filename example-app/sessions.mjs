// Where sessions live: in memory by default (MemorySessionStore below), or Redis through
// connect-redis when a Redis URL is given (several instances sharing one SESSION_SECRET then share
// sessions, and with them the pending sign-in states and the signed-in token sets).
import { RedisStore } from 'connect-redis';
import session from 'express-session';
import { createClient } from 'redis';

/** @import { SessionData, Store } from 'express-session' */

/** How long a session lasts before sign-in: about as long as a sign-in flow. */
export const SIGN_IN_WINDOW_MS = 10 * 60 * 1000;
/** How long a signed-in session lasts (the access token itself lasts one hour). */
export const SIGNED_IN_MS = 2 * 60 * 60 * 1000;

const PRUNE_EVERY_MS = 60 * 1000;
const DEFAULT_MAX_PENDING = 10_000;

// When a stored session ends: its cookie's expiry, as express-session's own stores read it.
function expiryOf(sess) {
  const expires = sess?.cookie?.expires;
  const at = expires ? new Date(expires).getTime() : Number.NaN;
  return Number.isFinite(at) ? at : Date.now() + SIGN_IN_WINDOW_MS;
}

function isSignedIn(sess) {
  return Boolean(sess?.passport?.user);
}

/**
 * An express-session store in memory that forgets what has ended. express-session's MemoryStore
 * never drops an expired session unless it is asked for again, so every visitor who started a
 * sign-in and left stayed in memory: 30,000 anonymous starts kept 15 MB of heap (and 100 MB of
 * RSS) for the 2 hours the cookie lived. Here expired sessions are pruned every minute, and
 * sessions not signed in (a pending sign-in at most) are capped at `maxPending`, the oldest
 * dropped first: a flood of anonymous starts can cost a real visitor a pending sign-in ("start
 * again"), never the app's memory or a signed-in session. Sessions live in #private maps, so a
 * `util.inspect(req)` (req.sessionStore) prints none of them.
 */
export class MemorySessionStore extends session.Store {
  // sid → { json, expiresAt }, oldest first: pending (not signed in) and signed-in apart.
  #pending = new Map();
  #signedIn = new Map();
  #maxPending;
  #timer;

  /** @param {{ maxPending?: number, pruneEveryMs?: number }} [options] */
  constructor({ maxPending = DEFAULT_MAX_PENDING, pruneEveryMs = PRUNE_EVERY_MS } = {}) {
    super();
    this.#maxPending = maxPending;
    this.#timer = setInterval(() => this.prune(), pruneEveryMs);
    this.#timer.unref();
  }

  /**
   * @param {string} sid
   * @param {(err: unknown, session?: SessionData | null) => void} callback
   */
  get(sid, callback) {
    const entry = this.#entry(sid);
    if (entry === undefined || entry.expiresAt <= Date.now()) {
      this.#forget(sid);
      setImmediate(callback, null, null);
      return;
    }
    setImmediate(callback, null, JSON.parse(entry.json));
  }

  /**
   * @param {string} sid
   * @param {SessionData} sess
   * @param {(err?: unknown) => void} [callback]
   */
  set(sid, sess, callback) {
    this.#forget(sid);
    const entry = { json: JSON.stringify(sess), expiresAt: expiryOf(sess) };
    if (isSignedIn(sess)) {
      this.#signedIn.set(sid, entry);
    } else {
      this.#pending.set(sid, entry);
      for (const oldest of this.#pending.keys()) {
        if (this.#pending.size <= this.#maxPending) break;
        this.#pending.delete(oldest);
      }
    }
    if (callback) setImmediate(callback, null);
  }

  /**
   * @override
   * @param {string} sid
   * @param {SessionData} sess
   * @param {(err?: unknown) => void} [callback]
   */
  touch(sid, sess, callback) {
    const entry = this.#entry(sid);
    if (entry) {
      const stored = JSON.parse(entry.json);
      stored.cookie = sess.cookie;
      entry.json = JSON.stringify(stored);
      entry.expiresAt = expiryOf(sess);
    }
    if (callback) setImmediate(callback, null);
  }

  /**
   * @param {string} sid
   * @param {(err?: unknown) => void} [callback]
   */
  destroy(sid, callback) {
    this.#forget(sid);
    if (callback) setImmediate(callback, null);
  }

  /**
   * @override
   * @param {(err: unknown, length?: number) => void} callback
   */
  length(callback) {
    setImmediate(callback, null, this.#pending.size + this.#signedIn.size);
  }

  /**
   * @override
   * @param {(err?: unknown) => void} [callback]
   */
  clear(callback) {
    this.#pending.clear();
    this.#signedIn.clear();
    if (callback) setImmediate(callback, null);
  }

  /** Drops every session that has ended. */
  prune(now = Date.now()) {
    for (const sessions of [this.#pending, this.#signedIn]) {
      for (const [sid, entry] of sessions) if (entry.expiresAt <= now) sessions.delete(sid);
    }
  }

  /** Stops the pruning timer. */
  close() {
    clearInterval(this.#timer);
  }

  #entry(sid) {
    return this.#pending.get(sid) ?? this.#signedIn.get(sid);
  }

  #forget(sid) {
    this.#pending.delete(sid);
    this.#signedIn.delete(sid);
  }
}

/**
 * Resolves to `{ store, kind, close }`: a MemorySessionStore, or a connected RedisStore when
 * `redisUrl` is given. `close()` stops the memory store's pruning or disconnects from Redis.
 *
 * @param {{ redisUrl?: string, prefix?: string, log?: (message: string, error?: unknown) => void }} [options]
 * @returns {Promise<{ store: Store, kind: 'memory' | 'redis', close(): Promise<void> }>}
 */
export async function createSessionStore({ redisUrl, prefix = 'persona-sample:sess:', log = () => {} } = {}) {
  if (!redisUrl) {
    const store = new MemorySessionStore();
    return { store, kind: 'memory', close: async () => store.close() };
  }
  const client = createClient({ url: redisUrl });
  // Without a listener a dropped connection would crash the process; the client reconnects itself.
  client.on('error', (error) => log('redis: connection error', error));
  await client.connect();
  const store = new RedisStore({ client, prefix });
  /** @type {Promise<void> | undefined} */
  let closing;
  return {
    store,
    kind: 'redis',
    close: () => {
      closing ??= client.isOpen ? client.close() : Promise.resolve();
      return closing;
    },
  };
}
