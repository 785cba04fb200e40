import { authorizationCode, secureRandom, uuid } from './random.js';

/** An authorization code as issued by Create Authorization. */
export interface CodeRecord {
  fromOrgId: string;
  toOrgId: string;
  scopes: string[];
  expiresAt: number;
  usedAt: number | undefined;
}

/** An access token as issued by Create Access Token. */
export interface TokenRecord {
  orgId: string;
  ownerOrgId: string;
  scopes: string[];
  expiresAt: number;
}

/** What redeeming a code gives: a new token, or why not. */
export type Redemption =
  | { ok: true; accessToken: string; token: TokenRecord }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' };

/** The codes and access tokens the emulator has issued. */
export class GrantStore {
  private readonly codes = new Map<string, CodeRecord>();
  private readonly tokens = new Map<string, TokenRecord>();

  constructor(
    private readonly codeTtlMs: number,
    private readonly tokenTtlMs: number,
  ) {}

  /** A new code from one organisation to another, living `codeTtlMs` from `now`. */
  issueCode(fromOrgId: string, toOrgId: string, scopes: string[], now: number): { code: string; expiresIn: number } {
    const code = authorizationCode();
    this.codes.set(code, { fromOrgId, toOrgId, scopes, expiresAt: now + this.codeTtlMs, usedAt: undefined });
    return { code, expiresIn: this.codeTtlMs / 1000 };
  }

  /**
   * Exchanges a code for a token on behalf of `callerOrgId`. A code issued to another
   * organisation is `unknown`, so its existence is not revealed; a used code stays `used` even
   * once it has expired.
   */
  redeem(code: string, callerOrgId: string, now: number): Redemption {
    const record = this.codes.get(code);
    if (!record || record.toOrgId !== callerOrgId) return { ok: false, reason: 'unknown' };
    if (record.usedAt !== undefined) return { ok: false, reason: 'used' };
    if (now >= record.expiresAt) return { ok: false, reason: 'expired' };
    record.usedAt = now;
    const accessToken = `persona_access_token_${uuid(secureRandom)}`;
    const token: TokenRecord = {
      orgId: callerOrgId,
      ownerOrgId: record.fromOrgId,
      scopes: record.scopes,
      expiresAt: now + this.tokenTtlMs,
    };
    this.tokens.set(accessToken, token);
    return { ok: true, accessToken, token };
  }

  /** The token record of an access token, expired or not. */
  token(accessToken: string): TokenRecord | undefined {
    return this.tokens.get(accessToken);
  }

  /**
   * Forgets codes and tokens expired for at least `graceMs`: a client retrying so late gets the
   * same 404/401 it would get for an unknown one.
   */
  sweep(now: number, graceMs: number): void {
    for (const [code, record] of this.codes) {
      if (now - record.expiresAt >= graceMs) this.codes.delete(code);
    }
    for (const [token, record] of this.tokens) {
      if (now - record.expiresAt >= graceMs) this.tokens.delete(token);
    }
  }
}
