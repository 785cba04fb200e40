import type { EmulatedRequest } from './types.js';

/** Appends a request to the log, dropping the oldest beyond `cap` (0 keeps none). */
export function recordRequest(log: EmulatedRequest[], record: EmulatedRequest, cap: number): void {
  if (cap <= 0) return;
  log.push(record);
  if (log.length > cap) log.splice(0, log.length - cap);
}
