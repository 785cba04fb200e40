import { errorResponse, type EmulatorResponse, type ParsedParams } from './http.js';
import type { Decorate, PipelineState, Principal } from './pipeline.js';
import type { EmulatedOrganization } from './types.js';

// ── Rate limits ─────────────────────────────────────────────────────────────

const WINDOW_MS = 60_000;

/** The outcome of counting one request. */
export interface RateCount {
  /** Which limit was passed, if any: the API key's own, or the environment's. */
  limited: 'api-key' | 'environment' | undefined;
  /** `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, names in lower case. */
  headers: Record<string, string>;
}

interface Window {
  start: number;
  count: number;
}

/** One request counted in a fixed 60-second window, opened by the first request (or a clock set back). */
function tick(window: Window | undefined, now: number): Window {
  const fresh = !window || now >= window.start + WINDOW_MS || now < window.start;
  const next = fresh ? { start: now, count: 0 } : window;
  next.count += 1;
  return next;
}

function report(window: Window, limit: number, now: number): { remaining: number; headers: Record<string, string> } {
  const remaining = Math.max(0, limit - window.count);
  return {
    remaining,
    headers: {
      'ratelimit-limit': String(limit),
      'ratelimit-remaining': String(remaining),
      'ratelimit-reset': String(Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000))),
    },
  };
}

/**
 * The environment's request limit, shared by every API key and token, and the limits some API
 * keys have of their own. A request with such a key counts against both, and the RateLimit
 * headers report whichever is closer to being reached (the key's on a tie).
 */
export class RateLimiter {
  private environment: Window | undefined;
  private readonly keys = new Map<string, Window>();

  constructor(private readonly limit: number) {}

  /** Counts one request at `now`, against the environment and against `key`'s own limit when it has one. */
  count(now: number, key?: { id: string; limit: number }): RateCount {
    this.environment = tick(this.environment, now);
    const environment = report(this.environment, this.limit, now);
    const environmentLimited = this.environment.count > this.limit;
    if (!key) return { limited: environmentLimited ? 'environment' : undefined, headers: environment.headers };
    const window = tick(this.keys.get(key.id), now);
    this.keys.set(key.id, window);
    const own = report(window, key.limit, now);
    const limited = window.count > key.limit ? 'api-key' : environmentLimited ? 'environment' : undefined;
    return { limited, headers: own.remaining <= environment.remaining ? own.headers : environment.headers };
  }

  /** Starts fresh windows, the environment's and every key's, with the next request. */
  reset(): void {
    this.environment = undefined;
    this.keys.clear();
  }
}

/** An organisation's API key's own limit, when it has a valid one. */
function ownRateLimit(org: EmulatedOrganization): number | undefined {
  const limit = org.apiKeyRateLimit;
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : undefined;
}

/**
 * Counts the request against the environment and, for an API key with a limit of its own,
 * against the key: the RateLimit headers, and the 429 when either limit is passed. An access
 * token counts against the environment only.
 */
export function countRequest(
  state: PipelineState,
  principal: Principal,
): { headers: Record<string, string>; refusal?: EmulatorResponse } {
  const keyLimit = principal.kind === 'api-key' ? ownRateLimit(principal.org) : undefined;
  const key = keyLimit === undefined ? undefined : { id: principal.credential, limit: keyLimit };
  const rate = state.rateLimiter.count(state.clock.now(), key);
  if (!rate.limited) return { headers: rate.headers };
  const which =
    rate.limited === 'api-key' ? `this API key's ${keyLimit}` : `the environment's ${state.settings.rateLimit}`;
  const details = `More than ${which} requests in this minute; retry after RateLimit-Reset seconds`;
  const refusal = errorResponse(429, 'Rate limit exceeded', details);
  return { headers: rate.headers, refusal };
}

// ── Idempotency ─────────────────────────────────────────────────────────────

/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

interface StoredAnswer {
  fingerprint: string;
  response: EmulatorResponse;
  storedAt: number;
}

/** What the store holds for a key: nothing, the same request's answer, or another request's. */
export type IdempotencyLookup =
  | { kind: 'miss' }
  | { kind: 'replay'; response: EmulatorResponse }
  | { kind: 'conflict' };

/**
 * What makes two requests "the same" for an Idempotency-Key: the method, the endpoint and the
 * parameters after normalisation (names to kebab-case, sorted), so JSON and form bodies in any
 * inflection compare equal. An unparseable body is compared by its raw text.
 */
export function requestFingerprint(
  method: string,
  endpoint: string,
  parsed: ParsedParams | undefined,
  body: string,
): string {
  const params = parsed?.ok
    ? JSON.stringify([...parsed.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : `raw:${body}`;
  return `${method} ${endpoint} ${params}`;
}

/** Stored answers per key (credential and Idempotency-Key), each kept `ttlMs` on the emulated clock. */
export class IdempotencyStore {
  private readonly answers = new Map<string, StoredAnswer>();

  constructor(private readonly ttlMs: number) {}

  /** Looks a key up; an answer past its lifetime is dropped and counts as a miss. */
  lookup(key: string, fingerprint: string, now: number): IdempotencyLookup {
    const stored = this.answers.get(key);
    if (!stored) return { kind: 'miss' };
    if (now - stored.storedAt >= this.ttlMs) {
      this.answers.delete(key);
      return { kind: 'miss' };
    }
    if (stored.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', response: { ...stored.response, headers: { ...stored.response.headers } } };
  }

  store(key: string, fingerprint: string, response: EmulatorResponse, now: number): void {
    this.answers.set(key, {
      fingerprint,
      response: { ...response, headers: { ...response.headers } },
      storedAt: now,
    });
  }

  /** Drops every answer past its lifetime. */
  sweep(now: number): void {
    for (const [key, stored] of this.answers) {
      if (now - stored.storedAt >= this.ttlMs) this.answers.delete(key);
    }
  }
}

/**
 * Runs a POST under its Idempotency-Key: replays the stored answer for the same parameters,
 * refuses other parameters, and stores what `run` answers (except 401 and 429).
 */
export function idempotent(
  state: PipelineState,
  key: { credential: string; idempotencyKey: string; fingerprint: string },
  run: () => EmulatorResponse,
  decorate: Decorate,
): EmulatorResponse {
  const { credential, idempotencyKey, fingerprint } = key;
  const refuse = (details: string): EmulatorResponse => decorate(errorResponse(400, 'Idempotency error', details));
  if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return refuse(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
  }
  const slot = `${credential}\u0000${idempotencyKey}`;
  const found = state.idempotency.lookup(slot, fingerprint, state.clock.now());
  if (found.kind === 'conflict') return refuse('This Idempotency-Key was already used with different parameters');
  if (found.kind === 'replay') return decorate(found.response, { 'idempotent-replayed': 'true' });
  const response = run();
  if (response.status !== 401 && response.status !== 429) {
    state.idempotency.store(slot, fingerprint, response, state.clock.now());
  }
  return decorate(response);
}
