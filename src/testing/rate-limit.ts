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
