import { describe, expect, it } from 'vitest';
import { Timers } from '../../../src/testing/timers.js';

describe('Timers', () => {
  it('runs a callback later and wakes a sleeper with true', async () => {
    const timers = new Timers();
    const ran = new Promise<string>((resolve) => timers.later(1, () => resolve('ran')));
    expect(await ran).toBe('ran');
    expect(await timers.sleep(1)).toBe(true);
  });

  it('on close, cancels pending callbacks and wakes sleepers with false at once', async () => {
    const timers = new Timers();
    let ran = false;
    timers.later(20, () => {
      ran = true;
    });
    const sleeping = timers.sleep(60_000);
    timers.close();
    expect(timers.closed).toBe(true);
    expect(await sleeping).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(ran).toBe(false);
  });

  it('after close, schedules nothing and sleeps not at all', async () => {
    const timers = new Timers();
    timers.close();
    let ran = false;
    timers.later(0, () => {
      ran = true;
    });
    expect(await timers.sleep(60_000)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ran).toBe(false);
  });
});
