import { createHash, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EmulatorClock, PersonaEmulatorOptions } from './types.js';

// ── Persona-Version ─────────────────────────────────────────────────────────

/**
 * `Persona-Version` values the emulator accepts out of the box: the eight of the `Persona-Version`
 * enum on the OAuth reference pages (Create Access Token, Create Authorization), 2025-12-08 the
 * latest released (Versioning), and 2021-05-14 and 2026-09-29, the two documentation sets the
 * documentation index names besides. What Persona answers to a version it does not know is not
 * documented: the emulator's 400 is its own choice.
 */
const KNOWN_VERSIONS: readonly string[] = Object.freeze([
  '2020-05-18',
  '2021-02-21',
  '2021-05-14',
  '2021-07-05',
  '2021-08-18',
  '2022-09-01',
  '2023-01-05',
  '2025-10-27',
  '2025-12-08',
  '2026-09-29',
]);

const VERSION_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/** True for a `YYYY-MM-DD` date, the only form Persona's versions take. */
export const isVersionDate = (value: unknown): value is string => typeof value === 'string' && VERSION_DATE.test(value);

function acceptedVersions(extra: readonly string[] | undefined): ReadonlySet<string> {
  if (extra !== undefined && !Array.isArray(extra)) throw new TypeError('personaVersions must be an array of dates');
  for (const version of extra ?? []) {
    if (!isVersionDate(version)) {
      throw new TypeError(`personaVersions: ${JSON.stringify(version)} is not a YYYY-MM-DD date`);
    }
  }
  return new Set([...KNOWN_VERSIONS, ...(extra ?? [])]);
}

// ── Settings ────────────────────────────────────────────────────────────────

/** The emulator's options, checked and with their defaults filled in. */
export interface EmulatorSettings {
  port: number;
  host: string;
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

export const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value !== undefined && !isPositiveInteger(value)) throw new RangeError(`${name} must be a positive integer`);
  return value ?? fallback;
}

/** Reads {@link PersonaEmulatorOptions}. Throws RangeError on an invalid value (TypeError for `personaVersions`). */
export function readSettings(options: PersonaEmulatorOptions): EmulatorSettings {
  const start = options.now ?? Date.now();
  if (!isClockInstant(start)) throw new RangeError(`now must be an epoch ms from 0 to ${LATEST_INSTANT}`);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError('port must be an integer from 0 to 65535');
  }
  // Enough for any test's assertions, and a bound on what a long-running emulator holds.
  const maxRecordedRequests = options.maxRecordedRequests ?? 1000;
  if (!(Number.isInteger(maxRecordedRequests) || maxRecordedRequests === Infinity) || maxRecordedRequests < 0) {
    throw new RangeError('maxRecordedRequests must be a whole number');
  }
  return {
    port,
    host: options.host ?? '127.0.0.1',
    rateLimit: positiveInteger(options.rateLimit, 300, 'rateLimit'),
    codeTtlMs: positiveInteger(options.codeTtlSeconds, 600, 'codeTtlSeconds') * 1000,
    tokenTtlMs: positiveInteger(options.tokenTtlSeconds, 3600, 'tokenTtlSeconds') * 1000,
    idempotencyTtlMs: positiveInteger(options.idempotencyTtlSeconds, 86_400, 'idempotencyTtlSeconds') * 1000,
    maxBodyBytes: positiveInteger(options.maxBodyBytes, 64 * 1024, 'maxBodyBytes'),
    start,
    versions: acceptedVersions(options.personaVersions),
    control: options.control === true,
    maxRecordedRequests,
    freezeClock: options.freezeClock === true,
  };
}

// ── The emulated clock ──────────────────────────────────────────────────────

/** The last instant a `Date` can hold (epoch ms): beyond it every timestamp the emulator writes would throw. */
const LATEST_INSTANT = 8_640_000_000_000_000;

/** True for an epoch-ms time the emulated clock may show: from 0 to {@link LATEST_INSTANT}. */
function isClockInstant(ms: unknown): ms is number {
  return typeof ms === 'number' && ms >= 0 && ms <= LATEST_INSTANT;
}

/**
 * The emulated clock: starts at `start` and follows real time (unless frozen), shifted by
 * whatever `advance` and `set` added, so expiry is testable without waiting. A move that would
 * leave 0 … {@link LATEST_INSTANT} is refused and changes nothing.
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

// ── Randomness ──────────────────────────────────────────────────────────────

/** A source of random bytes: the system's CSPRNG, or a deterministic stream derived from a seed. */
export interface RandomSource {
  bytes(length: number): Buffer;
}

/** Cryptographically random bytes: for codes, access tokens and request ids. */
export const secureRandom: RandomSource = { bytes: (length) => randomBytes(length) };

/** A deterministic stream (SHA-256 of seed and counter): the same seed gives the same ids. */
export function seededRandom(seed: string | number): RandomSource {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return {
    bytes(length) {
      while (pool.length < length) {
        const block = createHash('sha256')
          .update(`${String(seed)}\u0000${counter++}`)
          .digest();
        pool = Buffer.concat([pool, block]);
      }
      const out = pool.subarray(0, length);
      pool = pool.subarray(length);
      return Buffer.from(out);
    },
  };
}

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** `prefix` + 24 base58 characters, the shape of Persona ids (`inq_uX7kRTiBxsJ1sZqPLAsjdP9j`). */
export function prefixedId(random: RandomSource, prefix: string, length = 24): string {
  let out = prefix;
  while (out.length < prefix.length + length) {
    for (const byte of random.bytes(length)) {
      // 232 = 4 × 58: rejection sampling keeps every character equally likely.
      if (byte < 232 && out.length < prefix.length + length) out += BASE58[byte % 58];
    }
  }
  return out;
}

/** A version-4 UUID built from the given source. */
export function uuid(random: RandomSource): string {
  const b = random.bytes(16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
