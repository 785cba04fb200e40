import { performance } from 'node:perf_hooks';
import type { EmulatorClock } from './types.js';

/** The last instant a `Date` can hold (epoch ms): beyond it every timestamp the emulator writes would throw. */
export const LATEST_INSTANT = 8_640_000_000_000_000;

/** True for an epoch-ms time the emulated clock may show: from 0 to {@link LATEST_INSTANT}. */
export function isClockInstant(ms: unknown): ms is number {
  return typeof ms === 'number' && ms >= 0 && ms <= LATEST_INSTANT;
}

/**
 * The emulated clock: starts at `start` and follows real time (unless frozen), shifted by
 * whatever `advance` and `set` added. Expiry is therefore testable without waiting. The clock
 * never leaves 0 … {@link LATEST_INSTANT}: a move that would is refused and changes nothing.
 */
export function createClock(start: number, frozen: boolean): EmulatorClock {
  const realStart = performance.now();
  let offset = 0;
  const elapsed = (): number => (frozen ? 0 : Math.floor(performance.now() - realStart));
  const now = (): number => start + elapsed() + offset;
  return {
    now,
    advance(ms) {
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || !isClockInstant(now() + ms)) {
        throw new RangeError(
          `clock.advance(ms) needs a number of milliseconds ≥ 0 that keeps the clock ≤ ${LATEST_INSTANT}`,
        );
      }
      offset += ms;
    },
    set(epochMs) {
      if (!isClockInstant(epochMs)) {
        throw new RangeError(`clock.set(epochMs) needs an epoch ms from 0 to ${LATEST_INSTANT}`);
      }
      offset = epochMs - start - elapsed();
    },
  };
}
