// The load side of the benchmark: what one login is (a flow), and closed-loop load over N
// keep-alive connections with every login's latency kept, so percentiles are exact (not
// histogram buckets) and a login of two requests is timed as one.
import { isDeepStrictEqual } from 'node:util';
import { EXPIRES_IN, SCOPE, parseScopes } from './common.mjs';

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

/** p50 and p99 (ms) of a list of latencies. */
export function latencySummary(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
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
