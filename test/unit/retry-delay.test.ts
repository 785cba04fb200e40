// The wait before a retry, with the randomness pinned to its two ends: exponential backoff from
// 200 ms (jitter down to half) without a wait from Persona, and Persona's own wait plus at most
// 250 ms (or half the wait and 50 ms, when that is less) when it gives one.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryDelay } from '../../src/persona-http.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function withRandom(value: number, run: () => number): number {
  vi.spyOn(Math, 'random').mockReturnValue(value);
  return run();
}

describe('retryDelay', () => {
  it.each([
    [1, 0, 100],
    [1, 0.9999999, 200],
    [2, 0, 200],
    [2, 0.9999999, 400],
    [3, 0, 400],
  ])('retry %i without a wait from Persona, random %f: %i ms', (attempt, random, ms) => {
    expect(withRandom(random, () => retryDelay(attempt, undefined))).toBeCloseTo(ms, 3);
  });

  it.each([
    [0, 0, 0],
    [0, 0.5, 25],
    [1, 0, 1000],
    [1, 0.5, 1125],
    [2, 0.9999999, 2250],
  ])("Persona's wait of %i s, random %f: %i ms", (seconds, random, ms) => {
    expect(withRandom(random, () => retryDelay(1, seconds))).toBeCloseTo(ms, 3);
  });
});
