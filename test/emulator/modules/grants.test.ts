import { describe, expect, it } from 'vitest';
import { GrantStore } from '../../../src/testing/grants.js';

const OWNER = 'org_owner';
const RECIPIENT = 'org_recipient';

describe('GrantStore', () => {
  it('issues a code that its recipient redeems once for a token with the code scopes', () => {
    const grants = new GrantStore(600_000, 3_600_000);
    const { code, expiresIn } = grants.issueCode(OWNER, RECIPIENT, ['inquiry.read:inq_1'], 1000);
    expect(expiresIn).toBe(600);
    const redeemed = grants.redeem(code, RECIPIENT, 2000);
    if (!redeemed.ok) throw new Error(`not redeemed: ${redeemed.reason}`);
    expect(redeemed.accessToken).toMatch(/^persona_access_token_[0-9a-f-]{36}$/);
    expect(redeemed.token).toEqual({
      orgId: RECIPIENT,
      ownerOrgId: OWNER,
      scopes: ['inquiry.read:inq_1'],
      expiresAt: 2000 + 3_600_000,
    });
    expect(grants.token(redeemed.accessToken)).toBe(redeemed.token);
    expect(grants.redeem(code, RECIPIENT, 3000)).toEqual({ ok: false, reason: 'used' });
  });

  it('treats a code issued to someone else as unknown', () => {
    const grants = new GrantStore(600_000, 3_600_000);
    const { code } = grants.issueCode(OWNER, RECIPIENT, [], 0);
    expect(grants.redeem(code, 'org_other', 1)).toEqual({ ok: false, reason: 'unknown' });
    expect(grants.redeem('nope', RECIPIENT, 1)).toEqual({ ok: false, reason: 'unknown' });
    expect(grants.redeem(code, RECIPIENT, 1).ok).toBe(true);
  });

  it('expires a code at the exact millisecond its lifetime ends; a used code stays used', () => {
    const grants = new GrantStore(1000, 3_600_000);
    const late = grants.issueCode(OWNER, RECIPIENT, [], 0).code;
    expect(grants.redeem(late, RECIPIENT, 1000)).toEqual({ ok: false, reason: 'expired' });
    const used = grants.issueCode(OWNER, RECIPIENT, [], 0).code;
    expect(grants.redeem(used, RECIPIENT, 999).ok).toBe(true);
    expect(grants.redeem(used, RECIPIENT, 5000)).toEqual({ ok: false, reason: 'used' });
  });

  it('sweeps codes and tokens expired for at least the grace period, and keeps the rest', () => {
    const grants = new GrantStore(1000, 2000);
    const swept = grants.issueCode(OWNER, RECIPIENT, [], 0).code;
    const kept = grants.issueCode(OWNER, RECIPIENT, [], 5000).code;
    const redeemed = grants.redeem(grants.issueCode(OWNER, RECIPIENT, [], 0).code, RECIPIENT, 0);
    if (!redeemed.ok) throw new Error('not redeemed');
    grants.sweep(2000 + 10_000, 10_000);
    expect(grants.redeem(swept, RECIPIENT, 12_000)).toEqual({ ok: false, reason: 'unknown' });
    expect(grants.token(redeemed.accessToken)).toBeUndefined();
    expect(grants.redeem(kept, RECIPIENT, 12_000)).toEqual({ ok: false, reason: 'expired' });
  });
});
