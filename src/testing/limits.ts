import { errorResponse, type EmulatorResponse } from './http.js';
import type { Principal } from './pipeline.js';
import { isPositiveInteger } from './settings.js';
import type { EmulatorClock } from './types.js';

// ── Rate limits ─────────────────────────────────────────────────────────────

const WINDOW_MS = 60_000;

/** A fixed 60-second window of requests, opened by the first one (or by the clock set back). */
interface Window {
  start: number;
  count: number;
}

function tick(window: Window | undefined, now: number): Window {
  const fresh = !window || now >= window.start + WINDOW_MS || now < window.start;
  const next = fresh ? { start: now, count: 0 } : window;
  next.count += 1;
  return next;
}

/**
 * The environment's request limit, shared by every API key and token, and the limits some API
 * keys have of their own (`apiKeyRateLimit`): a request with such a key counts against both.
 */
export class RateLimiter {
  private environment: Window | undefined;
  private readonly keys = new Map<string, Window>();

  constructor(private readonly limit: number) {}

  /**
   * Counts a request: the RateLimit headers of whichever limit is closer to being reached (the
   * key's on a tie), and the 429 when either is passed. An access token counts against the environment only.
   */
  count(now: number, principal: Principal): { headers: Record<string, string>; refusal?: EmulatorResponse } {
    this.environment = tick(this.environment, now);
    const counted = [{ window: this.environment, limit: this.limit, name: "the environment's" }];
    const keyLimit = principal.kind === 'api-key' ? principal.org.apiKeyRateLimit : undefined;
    if (isPositiveInteger(keyLimit)) {
      const window = tick(this.keys.get(principal.credential), now);
      this.keys.set(principal.credential, window);
      counted.unshift({ window, limit: keyLimit, name: "this API key's" });
    }
    const remaining = ({ window, limit }: (typeof counted)[number]) => Math.max(0, limit - window.count);
    const shown = counted.reduce((closest, next) => (remaining(next) < remaining(closest) ? next : closest));
    const headers = {
      'ratelimit-limit': String(shown.limit),
      'ratelimit-remaining': String(remaining(shown)),
      'ratelimit-reset': String(Math.max(1, Math.ceil((shown.window.start + WINDOW_MS - now) / 1000))),
    };
    const over = counted.find(({ window, limit }) => window.count > limit);
    if (!over) return { headers };
    const details = `More than ${over.name} ${over.limit} requests in this minute; retry after RateLimit-Reset seconds`;
    return { headers, refusal: errorResponse(429, 'Rate limit exceeded', details) };
  }

  /** Starts fresh windows, the environment's and every key's, with the next request. */
  reset(): void {
    this.environment = undefined;
    this.keys.clear();
  }
}

// ── Idempotency ─────────────────────────────────────────────────────────────

/** Longest `Idempotency-Key` accepted. */
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

interface StoredAnswer {
  fingerprint: string;
  response: EmulatorResponse;
  storedAt: number;
}

const idempotencyError = (details: string) => errorResponse(400, 'Idempotency error', details);

/** The answers stored per credential and Idempotency-Key, each replayed for `ttlMs` on the emulated clock. */
export class IdempotencyStore {
  private readonly answers = new Map<string, StoredAnswer>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: EmulatorClock,
  ) {}

  /**
   * Runs a POST under its Idempotency-Key: replays the answer stored for the same request (the
   * same `fingerprint`), refuses another request, and stores what `run` answers (except 401 and 429).
   */
  run(credential: string, key: string, fingerprint: string, run: () => EmulatorResponse): EmulatorResponse {
    if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      return idempotencyError(`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    }
    const slot = `${credential}\u0000${key}`;
    const stored = this.answers.get(slot);
    if (stored && this.live(stored)) {
      if (stored.fingerprint !== fingerprint) {
        return idempotencyError('This Idempotency-Key was already used with different parameters');
      }
      return { ...stored.response, headers: { ...stored.response.headers, 'idempotent-replayed': 'true' } };
    }
    const response = run();
    if (response.status !== 401 && response.status !== 429) {
      this.answers.set(slot, { fingerprint, response, storedAt: this.clock.now() });
    }
    return response;
  }

  /** Drops every answer past its lifetime. */
  sweep(): void {
    for (const [slot, stored] of this.answers) if (!this.live(stored)) this.answers.delete(slot);
  }

  private live(stored: StoredAnswer): boolean {
    return this.clock.now() - stored.storedAt < this.ttlMs;
  }
}
