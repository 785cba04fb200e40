import { isClockInstant, LATEST_INSTANT } from './clock.js';
import type { PersonaEmulatorOptions } from './types.js';
import { acceptedVersions } from './versions.js';

/** The emulator's options, checked and with their defaults filled in. */
export interface EmulatorSettings {
  rateLimit: number;
  codeTtlMs: number;
  tokenTtlMs: number;
  idempotencyTtlMs: number;
  maxBodyBytes: number;
  /** Start of the emulated clock, epoch ms. */
  start: number;
  versions: ReadonlySet<string>;
  control: boolean;
  maxRecordedRequests: number;
  freezeClock: boolean;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/**
 * How many requests `requests` keeps unless told otherwise: enough for any test's assertions,
 * and a bound on what a long-running emulator holds (each record keeps up to `maxBodyBytes` of body).
 */
const DEFAULT_MAX_RECORDED_REQUESTS = 1000;

function recordCap(value: number | undefined): number {
  const cap = value === undefined ? DEFAULT_MAX_RECORDED_REQUESTS : value;
  if (!(Number.isInteger(cap) || cap === Number.POSITIVE_INFINITY) || cap < 0) {
    throw new RangeError('maxRecordedRequests must be a whole number');
  }
  return cap;
}

function clockStart(now: number | undefined): number {
  const start = now ?? Date.now();
  if (!isClockInstant(start)) throw new RangeError(`now must be an epoch ms from 0 to ${LATEST_INSTANT}`);
  return start;
}

/** Reads {@link PersonaEmulatorOptions}. Throws RangeError on an invalid value (TypeError for `personaVersions`). */
export function readSettings(options: PersonaEmulatorOptions): EmulatorSettings {
  return {
    rateLimit: positiveInteger(options.rateLimit, 300, 'rateLimit'),
    codeTtlMs: positiveInteger(options.codeTtlSeconds, 600, 'codeTtlSeconds') * 1000,
    tokenTtlMs: positiveInteger(options.tokenTtlSeconds, 3600, 'tokenTtlSeconds') * 1000,
    idempotencyTtlMs: positiveInteger(options.idempotencyTtlSeconds, 86_400, 'idempotencyTtlSeconds') * 1000,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 64 * 1024, 'maxBodyBytes'),
    start: clockStart(options.now),
    versions: acceptedVersions(options.personaVersions),
    control: options.control === true,
    maxRecordedRequests: recordCap(options.maxRecordedRequests),
    freezeClock: options.freezeClock === true,
  };
}
