// The load side of the benchmark: what one login is (a flow), closed-loop load over N keep-alive
// connections, and open-loop load at a fixed rate, with every login's latency kept, so percentiles
// are exact (not histogram buckets) and a login of two requests is timed as one.
import { isDeepStrictEqual } from 'node:util';
import { EXPIRES_IN, SCOPE, parseScopes } from './common.mjs';
import { Connection } from './http1.mjs';

const EXPECTED_SCOPES = parseScopes(SCOPE);
const ACCESS_TOKEN = /^persona_access_token_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What is wrong with a req.user answered as JSON (empty when it is the expected token set). */
export function userProblems(user) {
  const problems = [];
  if (user === null || typeof user !== 'object') return ['not a JSON object'];
  if (typeof user.accessToken !== 'string' || !ACCESS_TOKEN.test(user.accessToken)) problems.push('accessToken');
  if (user.tokenType !== 'bearer') problems.push('tokenType');
  if (user.expiresIn !== EXPIRES_IN) problems.push('expiresIn');
  const expected = Date.now() + EXPIRES_IN * 1000;
  if (typeof user.expiresAt !== 'number' || Math.abs(user.expiresAt - expected) > 120_000) problems.push('expiresAt');
  if (user.scope !== SCOPE) problems.push('scope');
  if (!isDeepStrictEqual(user.scopes, EXPECTED_SCOPES)) problems.push('scopes');
  if (user.requestId !== undefined && (typeof user.requestId !== 'string' || !user.requestId.startsWith('req_'))) {
    problems.push('requestId');
  }
  return problems;
}

function checkUser(what, body) {
  let problems;
  try {
    problems = userProblems(JSON.parse(body));
  } catch {
    problems = ['not JSON'];
  }
  if (problems.length)
    throw new Error(`${what}: unexpected req.user fields ${problems.join(', ')}: ${body.slice(0, 300)}`);
}

function unexpected(what, response) {
  return new Error(`${what} answered ${response.status}: ${response.body.slice(0, 300)}`);
}

const firstCookie = (response) => response.headers['set-cookie']?.split(';')[0];

/**
 * What one login is. `login(connection, code, validate)` resolves when it is done and throws on
 * anything unexpected; with `validate`, it also checks every field of the user the server built.
 */
export const FLOWS = {
  /** GET /callback?code=…, answered 200 with req.user as JSON (`session: false`). */
  callback: {
    requestsPerLogin: 1,
    async login(connection, code, validate) {
      const response = await connection.get(`/callback?code=${code}`);
      if (response.status !== 200) throw unexpected('GET /callback', response);
      if (validate) checkUser('GET /callback', response.body);
    },
  },
  /**
   * The README's two requests: GET /auth/persona (302 to the share page with a state, a session
   * cookie), then the callback with that code, state and cookie (302 to /profile). With
   * `validate`, GET /profile with the logged-in session's cookie checks the user it holds.
   */
  readme: {
    requestsPerLogin: 2,
    async login(connection, code, validate) {
      const start = await connection.get('/auth/persona');
      const state = new URL(start.headers.location ?? '/', 'http://x').searchParams.get('state');
      const cookie = firstCookie(start);
      if (start.status !== 302 || !state || !cookie) throw unexpected('GET /auth/persona (no state or cookie)', start);
      const callback = await connection.get(
        `/auth/persona/callback?code=${code}&state=${encodeURIComponent(state)}`,
        cookie,
      );
      if (callback.status !== 302 || callback.headers.location !== '/profile') {
        throw unexpected(`GET /auth/persona/callback (to ${callback.headers.location})`, callback);
      }
      if (!validate) return;
      const profile = await connection.get('/profile', firstCookie(callback) ?? cookie);
      if (profile.status !== 200) throw unexpected('GET /profile', profile);
      checkUser('GET /profile', profile.body);
    },
  },
};

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** p50, p99 and p99.9 (ms) of a list of latencies. */
export function latencySummary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9) };
}

/**
 * Closed-loop load: one lane per connection (bench/http1.mjs), each starting its next login as
 * soon as the last one ends, until `seconds` have passed. Every login gets a fresh code. The
 * connections stay open for the caller's next run (the warm-up's are the measured run's). A lane
 * stops at its first failure; the caller fails the run when `failures` is not 0.
 */
export async function closedLoop({ connections, seconds, flow, codePrefix, validate = false }) {
  const latencies = [];
  const failures = [];
  const deadline = performance.now() + seconds * 1000;
  let seq = 0;
  async function lane(connection) {
    try {
      while (performance.now() < deadline) {
        const started = performance.now();
        await flow.login(connection, `${codePrefix}${++seq}`, validate);
        latencies.push(performance.now() - started);
      }
    } catch (err) {
      failures.push(err?.message ?? String(err));
      connection.close();
    }
  }
  const started = performance.now();
  await Promise.all(connections.map(lane));
  const elapsed = (performance.now() - started) / 1000;
  return {
    logins: latencies.length,
    seconds: elapsed,
    loginsPerSecond: latencies.length / elapsed,
    ...latencySummary(latencies),
    failures: failures.length,
    firstFailure: failures[0] ?? null,
  };
}

/**
 * The keep-alive connections of an open-loop load: an idle one is reused (the most recently
 * freed first), a new one is opened when none is idle, up to `max` open at once. `peakBusy` is
 * the most connections carrying a login at once since it was last reset.
 */
export class ConnectionPool {
  constructor(port, max) {
    this.port = port;
    this.max = max;
    this.idle = [];
    this.open = new Set();
    this.busy = 0;
    this.peakBusy = 0;
  }

  /** An idle or new connection, or null when `max` are open and busy. */
  take() {
    let connection = this.idle.pop();
    if (!connection) {
      if (this.open.size >= this.max) return null;
      connection = new Connection(this.port);
      this.open.add(connection);
    }
    this.busy++;
    this.peakBusy = Math.max(this.peakBusy, this.busy);
    return connection;
  }

  release(connection) {
    this.busy--;
    this.idle.push(connection);
  }

  /** Closes a connection a login failed on; the next take() may open another in its place. */
  discard(connection) {
    this.busy--;
    connection.close();
    this.open.delete(connection);
  }

  close() {
    for (const connection of this.open) connection.close();
    this.open.clear();
    this.idle = [];
    this.busy = 0;
  }
}

/** How long an open-loop run waits, after its last scheduled login, for the ones still out. */
const OPEN_LOOP_DRAIN_MS = 30_000;

/**
 * Open-loop load: `rate` logins a second for `seconds`, login i due at start + i / rate whatever
 * the server does, each sent on an idle connection of `pool` (a new one when none is idle, up to
 * the pool's cap; past the cap it waits for the first connection freed). A login's latency runs
 * from when it was due, not from when it could be sent, so time spent queued behind a slow server
 * counts (no coordinated omission). `loginsPerSecond` counts the logins completed within the
 * schedule's `seconds`; `connections` is the most in use at once; `lateP99` is how late the
 * generator itself sent (its timers and event loop), the part of every latency that is not the
 * server's. Failed logins are counted, not thrown; logins still out `OPEN_LOOP_DRAIN_MS` after
 * the schedule ends count as failed.
 */
export function openLoop(options) {
  return new OpenLoop(options).run();
}

/** The state of one open-loop run (see openLoop). */
class OpenLoop {
  constructor({ pool, rate, seconds, flow, codePrefix, validate = false }) {
    this.pool = pool;
    this.seconds = seconds;
    this.flow = flow;
    this.codePrefix = codePrefix;
    this.validate = validate;
    this.total = Math.max(1, Math.round(rate * seconds));
    this.intervalMs = 1000 / rate;
    this.latencies = [];
    this.late = [];
    this.failures = [];
    /** Scheduled times of the logins due while every connection the pool may open was busy. */
    this.backlog = [];
    this.scheduled = 0;
    this.outstanding = 0;
    this.completedInWindow = 0;
    this.seq = 0;
  }

  run() {
    this.pool.peakBusy = this.pool.busy;
    this.t0 = performance.now();
    this.windowEnd = this.t0 + this.seconds * 1000;
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.tick();
    });
  }

  /** Sends every login now due, then sleeps until the next one is. */
  tick() {
    const now = performance.now();
    while (this.scheduled < this.total && this.dueAt(this.scheduled) <= now) {
      const due = this.dueAt(this.scheduled++);
      this.outstanding++;
      this.late.push(now - due);
      const connection = this.pool.take();
      if (connection) this.carry(connection, due);
      else this.backlog.push(due);
    }
    if (this.scheduled < this.total) setTimeout(() => this.tick(), this.dueAt(this.scheduled) - performance.now());
    else this.drainTimer = setTimeout(() => this.finish(), OPEN_LOOP_DRAIN_MS);
  }

  dueAt(i) {
    return this.t0 + i * this.intervalMs;
  }

  /** One connection carries a login, then the logins waiting for a connection, one at a time. */
  async carry(connection, due) {
    let current = connection;
    for (let next = due; next !== undefined; next = this.backlog.shift()) {
      // After a failure: the discarded connection made room for a new one.
      current ??= this.pool.take();
      try {
        await this.flow.login(current, `${this.codePrefix}${++this.seq}`, this.validate);
        const now = performance.now();
        this.latencies.push(now - next);
        if (now <= this.windowEnd) this.completedInWindow++;
      } catch (err) {
        this.failures.push(err?.message ?? String(err));
        this.pool.discard(current);
        current = null;
      }
      this.outstanding--;
    }
    if (current) this.pool.release(current);
    if (this.scheduled === this.total && this.outstanding === 0) this.finish();
  }

  finish() {
    if (!this.resolve) return;
    clearTimeout(this.drainTimer);
    const unanswered = this.outstanding;
    if (unanswered > 0)
      this.failures.push(`${unanswered} logins unanswered ${OPEN_LOOP_DRAIN_MS} ms after the last was due`);
    this.resolve({
      logins: this.latencies.length,
      offered: this.total,
      seconds: this.seconds,
      loginsPerSecond: this.completedInWindow / this.seconds,
      ...latencySummary(this.latencies),
      lateP99: latencySummary(this.late).p99,
      connections: this.pool.peakBusy,
      failures: this.total - this.latencies.length,
      firstFailure: this.failures[0] ?? null,
    });
    this.resolve = null;
  }
}
