import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../src/testing/rate-limit.js';

describe('RateLimiter: the environment', () => {
  it('counts requests in a 60-second window opened by the first one', () => {
    const limiter = new RateLimiter(2);
    expect(limiter.count(1000)).toEqual({
      limited: undefined,
      headers: { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': '60' },
    });
    expect(limiter.count(11_000).headers['ratelimit-reset']).toBe('50');
    const third = limiter.count(60_999);
    expect(third.limited).toBe('environment');
    expect(third.headers['ratelimit-remaining']).toBe('0');
    expect(third.headers['ratelimit-reset']).toBe('1');
  });

  it('opens a new window once the old one has closed', () => {
    const limiter = new RateLimiter(1);
    limiter.count(0);
    expect(limiter.count(59_999).limited).toBe('environment');
    expect(limiter.count(60_000).limited).toBeUndefined();
  });

  it('opens a new window when the clock goes back before the window started', () => {
    const limiter = new RateLimiter(1);
    limiter.count(100_000);
    expect(limiter.count(50_000).limited).toBeUndefined();
  });

  it('starts afresh after reset(), the keys too', () => {
    const limiter = new RateLimiter(1);
    limiter.count(0, { id: 'k', limit: 1 });
    limiter.reset();
    expect(limiter.count(1, { id: 'k', limit: 1 }).limited).toBeUndefined();
  });
});

describe('RateLimiter: an API key with a limit of its own', () => {
  const key = { id: 'key_a', limit: 3 };

  it('counts against both and reports the key when it is closer to its limit', () => {
    const limiter = new RateLimiter(300);
    expect(limiter.count(0, key).headers).toEqual({
      'ratelimit-limit': '3',
      'ratelimit-remaining': '2',
      'ratelimit-reset': '60',
    });
    limiter.count(1, key);
    limiter.count(2, key);
    const over = limiter.count(3, key);
    expect(over.limited).toBe('api-key');
    expect(over.headers['ratelimit-remaining']).toBe('0');
    // The environment counted all four: another key without its own limit sees 296 left.
    expect(limiter.count(4).headers['ratelimit-remaining']).toBe('295');
  });

  it('reports the environment when it is the closer one, and refuses with it', () => {
    const limiter = new RateLimiter(4);
    for (let i = 0; i < 3; i += 1) limiter.count(i);
    const near = limiter.count(3, { id: 'key_b', limit: 10 });
    expect(near).toEqual({
      limited: undefined,
      headers: { 'ratelimit-limit': '4', 'ratelimit-remaining': '0', 'ratelimit-reset': '60' },
    });
    expect(limiter.count(4, { id: 'key_b', limit: 10 }).limited).toBe('environment');
  });

  it('prefers the key on a tie, and keeps keys apart', () => {
    const limiter = new RateLimiter(2);
    expect(limiter.count(0, { id: 'key_c', limit: 2 }).headers['ratelimit-limit']).toBe('2');
    const other = new RateLimiter(100);
    other.count(0, { id: 'key_d', limit: 1 });
    expect(other.count(1, { id: 'key_e', limit: 1 }).limited).toBeUndefined();
  });

  it('keeps its own window: the key and the environment reset at their own times', () => {
    const limiter = new RateLimiter(100);
    limiter.count(0);
    const first = limiter.count(30_000, key);
    expect(first.headers['ratelimit-reset']).toBe('60');
    expect(limiter.count(61_000, key).headers['ratelimit-reset']).toBe('29');
  });
});
