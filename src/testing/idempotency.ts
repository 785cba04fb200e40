import type { EmulatorResponse, ParsedParams } from './http.js';

/** Longest `Idempotency-Key` accepted. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

interface StoredAnswer {
  fingerprint: string;
  response: EmulatorResponse;
  storedAt: number;
}

/** What the store holds for a key: nothing, the same request's answer, or another request's. */
export type IdempotencyLookup =
  | { kind: 'miss' }
  | { kind: 'replay'; response: EmulatorResponse }
  | { kind: 'conflict' };

/**
 * What makes two requests "the same" for an Idempotency-Key: the method, the endpoint and the
 * parameters after normalisation (names to kebab-case, sorted), so JSON and form bodies in any
 * inflection compare equal. An unparseable body is compared by its raw text.
 */
export function requestFingerprint(
  method: string,
  endpoint: string,
  parsed: ParsedParams | undefined,
  body: string,
): string {
  const params = parsed?.ok
    ? JSON.stringify([...parsed.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : `raw:${body}`;
  return `${method} ${endpoint} ${params}`;
}

/** Stored answers per (credential, Idempotency-Key), each kept `ttlMs` on the emulated clock. */
export class IdempotencyStore {
  private readonly answers = new Map<string, StoredAnswer>();

  constructor(private readonly ttlMs: number) {}

  private static key(credential: string, idempotencyKey: string): string {
    return `${credential}\u0000${idempotencyKey}`;
  }

  /** Looks a key up; an answer past its lifetime is dropped and counts as a miss. */
  lookup(credential: string, idempotencyKey: string, fingerprint: string, now: number): IdempotencyLookup {
    const key = IdempotencyStore.key(credential, idempotencyKey);
    const stored = this.answers.get(key);
    if (!stored) return { kind: 'miss' };
    if (now - stored.storedAt >= this.ttlMs) {
      this.answers.delete(key);
      return { kind: 'miss' };
    }
    if (stored.fingerprint !== fingerprint) return { kind: 'conflict' };
    return { kind: 'replay', response: { ...stored.response, headers: { ...stored.response.headers } } };
  }

  store(
    credential: string,
    idempotencyKey: string,
    fingerprint: string,
    response: EmulatorResponse,
    now: number,
  ): void {
    this.answers.set(IdempotencyStore.key(credential, idempotencyKey), {
      fingerprint,
      response: { ...response, headers: { ...response.headers } },
      storedAt: now,
    });
  }

  /** Drops every answer past its lifetime. */
  sweep(now: number): void {
    for (const [key, stored] of this.answers) {
      if (now - stored.storedAt >= this.ttlMs) this.answers.delete(key);
    }
  }
}
