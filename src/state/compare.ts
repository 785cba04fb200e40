import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string equality that also hides the length of the secret side. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}
