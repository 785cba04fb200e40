import { createHash, randomBytes } from 'node:crypto';

/** A source of random bytes: the system's CSPRNG, or a deterministic stream derived from a seed. */
export interface RandomSource {
  bytes(length: number): Buffer;
}

/** Cryptographically random bytes: for codes, access tokens and request ids. */
export const secureRandom: RandomSource = { bytes: (length) => randomBytes(length) };

/**
 * A deterministic stream (SHA-256 of seed and counter): the same seed gives the same ids,
 * so a seeded emulator prints the same API keys on every start.
 */
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

/** `prefix` + `length` base58 characters, the shape of Persona ids (`inq_uX7kRTiBxsJ1sZqPLAsjdP9j`). */
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

/**
 * An authorization code: 32 random bytes in base64url (43 characters of `A–Z a–z 0–9 - _`, no
 * padding), so it survives a URL, a query string or a form unencoded.
 */
export function authorizationCode(): string {
  return randomBytes(32).toString('base64url');
}
