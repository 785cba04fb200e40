// checkScope, the scope decision every framework's guard makes: what it refuses, with which
// error, and that an objectId which is given but names no object never widens the check.
import { describe, expect, it } from 'vitest';
import { checkScope, ScopeError, type PersonaTokenSet } from '../../src/index.js';
import { parseScopes } from '../../src/scopes.js';

const NOW = 1_700_000_000_000;

function tokenSet(scope: string, expiresAt = NOW + 3_600_000): PersonaTokenSet {
  return {
    accessToken: 'persona_access_token_x',
    tokenType: 'bearer',
    expiresIn: 3600,
    expiresAt,
    scope,
    scopes: parseScopes(scope),
  };
}

describe('checkScope', () => {
  it('returns undefined when the permission is granted on the object, or on any object without one', () => {
    const tokens = tokenSet('inquiry.read:inq_1');
    expect(checkScope(tokens, 'inquiry.read', { objectId: 'inq_1', now: NOW })).toBeUndefined();
    expect(checkScope(tokens, 'inquiry.read', { now: NOW })).toBeUndefined();
  });

  it.each([
    ['no holder', undefined, 'unauthenticated', 401],
    ['an expired token', tokenSet('inquiry.read:inq_1', NOW), 'token_expired', 401],
    ['another object only', tokenSet('inquiry.read:inq_2'), 'insufficient_scope', 403],
    ['another permission only', tokenSet('inquiry.write:inq_1'), 'insufficient_scope', 403],
  ] as const)('refuses %s with %s (%i)', (_name, holder, code, status) => {
    const refusal = checkScope(holder, 'inquiry.read', { objectId: 'inq_1', now: NOW });
    expect(refusal).toBeInstanceOf(ScopeError);
    expect(refusal).toMatchObject({ code, status, statusCode: status, expose: true, objectId: 'inq_1' });
  });

  it.each([
    ['undefined', undefined],
    ['an empty string', ''],
    ['a number', 1],
    ['null', null],
    ['an array', ['inq_1']],
  ])('fails closed when objectId is given as %s', (_name, objectId) => {
    const tokens = tokenSet('inquiry.read:inq_1 inquiry.read:1');
    const refusal = checkScope(tokens, 'inquiry.read', { objectId, now: NOW });
    expect(refusal).toMatchObject({ code: 'insufficient_scope', status: 403, objectId: undefined });
  });

  it('reads the clock when now is not given', () => {
    expect(checkScope(tokenSet('a.b:c', Date.now() - 1), 'a.b')?.code).toBe('token_expired');
    expect(checkScope(tokenSet('a.b:c', Date.now() + 60_000), 'a.b')).toBeUndefined();
  });
});
