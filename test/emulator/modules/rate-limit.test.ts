import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/testing/rate-limit.js';

describe('RateLimiter', () => {
  it('counts requests in a 60-second window opened by the first one', () => {
    const limiter = new RateLimiter(2);
    expect(limiter.count(1000)).toEqual({
      limited: false,
      headers: { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '60' },
    });
    expect(limiter.count(11_000).headers['ratelimit-reset']).toBe('50');
    const third = limiter.count(60_999);
    expect(third.limited).toBe(true);
    expect(third.headers['ratelimit-remaining']).toBe('0');
    expect(third.headers['ratelimit-reset']).toBe('1');
  });

  it('opens a new window once the old one has closed', () => {
    const limiter = new RateLimiter(1);
    limiter.count(0);
    expect(limiter.count(59_999).limited).toBe(true);
    expect(limiter.count(60_000).limited).toBe(false);
  });

  it('opens a new window when the clock goes back before the window started', () => {
    const limiter = new RateLimiter(1);
    limiter.count(100_000);
    expect(limiter.count(50_000).limited).toBe(false);
  });

  it('starts afresh after reset()', () => {
    const limiter = new RateLimiter(1);
    limiter.count(0);
    limiter.reset();
    expect(limiter.count(1).limited).toBe(false);
  });
});
