import { describe, expect, it } from 'vitest';
import { authenticate } from '../../../src/testing/auth.js';
import { world } from './fixtures.js';

describe('authenticate', () => {
  it('recognises an API key, case-insensitive scheme and surrounding spaces allowed', () => {
    const { state, recipient } = world();
    const principal = authenticate(`  BEARER ${recipient.apiKey} `, state.registry, state.grants, 0);
    expect(principal).toEqual({ kind: 'api-key', credential: recipient.apiKey, org: recipient });
  });

  it('recognises a live access token as the organisation it was issued to', () => {
    const { state, owner, recipient } = world();
    const now = state.clock.now();
    const { code } = state.grants.issueCode(owner.id, recipient.id, ['inquiry.read:inq_owner1'], now);
    const redeemed = state.grants.redeem(code, recipient.id, now);
    if (!redeemed.ok) throw new Error('not redeemed');
    const principal = authenticate(`Bearer ${redeemed.accessToken}`, state.registry, state.grants, now);
    expect(principal).toMatchObject({ kind: 'access-token', org: recipient, token: redeemed.token });
    const expired = authenticate(
      `Bearer ${redeemed.accessToken}`,
      state.registry,
      state.grants,
      redeemed.token.expiresAt,
    );
    expect(expired).toMatchObject({ status: 401, error: { details: 'The access token has expired' } });
  });

  it.each([
    ['no header', undefined],
    ['another scheme', 'Basic abc'],
    ['two credentials', 'Bearer a b'],
    ['an unknown credential', 'Bearer persona_sandbox_unknown'],
  ])('refuses %s with 401', (_name, header) => {
    const { state } = world();
    expect(authenticate(header, state.registry, state.grants, 0)).toMatchObject({ status: 401 });
  });
});
