import { randomBytes } from 'node:crypto';
import { integerOption } from '../options.js';
import { safeEqual } from './compare.js';
import type { PersonaRequest } from '../request.js';
import type { AppState, StateStore, StateVerification } from './types.js';

/** Options of session-backed state: `state: { session: { … } }`, or `createStateStore({ session })`. */
export interface SessionStateStoreOptions {
  /** Session key the pending flows live under (default `passport-withpersona:state`). */
  key?: string;
  /** How long a flow may take, in seconds (default 600). */
  ttlSeconds?: number;
  /** Pending flows kept per session, oldest evicted beyond it (default 10). */
  maxFlows?: number;
}

// Accepted states remembered at most (about 100 bytes each): at a sustained 1,000 sign-ins a
// second, the states accepted over the last 100 s. Racing copies of a session are verified
// within moments of each other; beyond that, Persona's single-use code still lets one sign in.
const MAX_REMEMBERED = 100_000;

interface PendingFlow {
  state: string;
  expiresAt: number;
  appState?: AppState;
}

function sessionOf(req: PersonaRequest): Record<string, unknown> {
  const session = req.session;
  if (!session || typeof session !== 'object') {
    throw new Error(
      'passport-withpersona: state: true needs a session (express-session or similar) on req.session; ' +
        'use state: { signed: { secrets } } for stateless state',
    );
  }
  return session as Record<string, unknown>;
}

// Writes what is left of the flows back. An assignment is what every session library sees:
// `delete` alone is lost on @fastify/secure-session (a Proxy without a delete trap), which then
// saves nothing and hands the consumed state back on the next request. The delete after it
// drops the emptied key where properties are plain (express-session, koa-session).
function consume(session: Record<string, unknown>, key: string, remaining: PendingFlow[]): void {
  session[key] = remaining.length > 0 ? remaining : undefined;
  if (remaining.length === 0) delete session[key];
}

function pendingFlows(value: unknown, now: number): PendingFlow[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (f): f is PendingFlow =>
      f !== null &&
      typeof f === 'object' &&
      typeof (f as PendingFlow).state === 'string' &&
      typeof (f as PendingFlow).expiresAt === 'number' &&
      (f as PendingFlow).expiresAt > now,
  );
}

/**
 * Session-backed CSRF state (what `state: true` uses).
 *
 * Keeps several outstanding flows per session (several tabs), each one-time and expiring; the
 * oldest is evicted when more than `maxFlows` are pending. Needs `req.session` (express-session,
 * @fastify/session, @fastify/secure-session, koa-session); `createCodeExchanger` users call
 * `store(req, appState)` and `verify(req, state)` themselves.
 *
 * Consumption is atomic within a process: two callbacks racing with one state each load their
 * own copy of the session (neither sees the other's removal until it is saved), so the store
 * also remembers, until they expire, the states it has accepted (the latest 100,000 at most, so
 * memory stays bounded whatever the sign-in rate), and accepts each once. Across
 * processes sharing a session store there is no such guarantee (the store has no
 * compare-and-delete): two instances may both accept one state, and Persona's single-use code
 * is then what lets only one of them sign in.
 *
 * @throws {TypeError} from the constructor for an empty `key` or an invalid number option.
 */
export class SessionStateStore implements StateStore {
  private readonly key: string;
  private readonly ttlMs: number;
  private readonly maxFlows: number;
  // Accepted states → when they expire; pruned as it is used. Private: it holds live states.
  readonly #accepted = new Map<string, number>();

  constructor(options: SessionStateStoreOptions = {}) {
    this.key = options.key ?? 'passport-withpersona:state';
    if (typeof this.key !== 'string' || this.key === '')
      throw new TypeError('passport-withpersona: key must be a non-empty string');
    this.ttlMs = integerOption('ttlSeconds', options.ttlSeconds, 600) * 1000;
    this.maxFlows = integerOption('maxFlows', options.maxFlows, 10);
  }

  async store(req: PersonaRequest, appState: AppState): Promise<string> {
    const session = sessionOf(req);
    const now = Date.now();
    const flows = pendingFlows(session[this.key], now);
    const state = randomBytes(24).toString('base64url');
    const flow: PendingFlow = { state, expiresAt: now + this.ttlMs };
    if (appState.returnTo !== undefined) flow.appState = { returnTo: appState.returnTo };
    flows.push(flow);
    session[this.key] = flows.slice(-this.maxFlows);
    return state;
  }

  async verify(req: PersonaRequest, state: string): Promise<StateVerification> {
    const session = sessionOf(req);
    const stored: unknown = session[this.key];
    const all = Array.isArray(stored) ? (stored as unknown[]) : [];
    const now = Date.now();
    let found: PendingFlow | undefined;
    // Compare against every entry so timing does not tell where (or whether) a match was.
    for (const entry of all) {
      const candidate = entry as PendingFlow | null;
      if (candidate && typeof candidate.state === 'string' && safeEqual(candidate.state, state)) {
        found = candidate;
      }
    }
    const remaining = pendingFlows(all, now).filter((f) => f !== found);
    consume(session, this.key, remaining);
    if (!found) return { valid: false, reason: 'unknown' };
    if (typeof found.expiresAt !== 'number' || found.expiresAt <= now) return { valid: false, reason: 'expired' };
    // Found in this request's own session, but a racing copy of the session (a double click)
    // was accepted first: the strategy may let it share that callback's exchange.
    if (!this.#acceptOnce(found.state, found.expiresAt, now)) return { valid: false, reason: 'in-use' };
    return { valid: true, appState: found.appState ? { ...found.appState } : {} };
  }

  // True the first time a state is accepted in this process, false for every racing copy.
  #acceptOnce(state: string, expiresAt: number, now: number): boolean {
    // Entries go in about in expiry order (one TTL for all), so the expired ones sit in front.
    for (const [old, until] of this.#accepted) {
      if (until > now) break;
      this.#accepted.delete(old);
    }
    if (this.#accepted.has(state)) return false;
    this.#accepted.set(state, expiresAt);
    if (this.#accepted.size > MAX_REMEMBERED) this.#accepted.delete(this.#accepted.keys().next().value as string);
    return true;
  }
}
