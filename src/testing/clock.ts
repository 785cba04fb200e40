import { performance } from 'node:perf_hooks';
import type { EmulatorClock } from './types.js';

/**
 * The emulated clock: starts at `start` and follows real time (unless frozen), shifted by
 * whatever `advance` and `set` added. Expiry is therefore testable without waiting.
 */
export function createClock(start: number, frozen: boolean): EmulatorClock {
  const realStart = performance.now();
  let offset = 0;
  const elapsed = (): number => (frozen ? 0 : Math.floor(performance.now() - realStart));
  return {
    now: () => start + elapsed() + offset,
    advance(ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        throw new RangeError('clock.advance(ms) needs a finite number of milliseconds ≥ 0');
      }
      offset += ms;
    },
    set(epochMs) {
      if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) {
        throw new RangeError('clock.set(epochMs) needs a finite number');
      }
      offset = epochMs - start - elapsed();
    },
  };
}
