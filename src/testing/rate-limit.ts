const WINDOW_MS = 60_000;

/** The outcome of counting one request. */
export interface RateCount {
  limited: boolean;
  /** `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`, names in lower case. */
  headers: Record<string, string>;
}

/**
 * The environment's fixed 60-second window, opened by the first counted request. A clock set
 * back before the window's start opens a new one.
 */
export class RateLimiter {
  private window: { start: number; count: number } | undefined;

  constructor(private readonly limit: number) {}

  /** Counts one request at `now`. */
  count(now: number): RateCount {
    if (!this.window || now >= this.window.start + WINDOW_MS || now < this.window.start) {
      this.window = { start: now, count: 0 };
    }
    this.window.count += 1;
    return {
      limited: this.window.count > this.limit,
      headers: {
        'ratelimit-limit': String(this.limit),
        'ratelimit-remaining': String(Math.max(0, this.limit - this.window.count)),
        'ratelimit-reset': String(Math.max(1, Math.ceil((this.window.start + WINDOW_MS - now) / 1000))),
      },
    };
  }

  /** Starts a fresh window with the next request. */
  reset(): void {
    this.window = undefined;
  }
}
