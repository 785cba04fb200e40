import { describe, expect, it } from 'vitest';
import {
  createAccessToken,
  createAuthorization,
  createAuthorizationDirect,
} from '../../../src/testing/oauth-endpoints.js';
import { world } from './fixtures.js';

const params = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

describe('createAuthorization', () => {
  it('issues a code for the recipient, keys in the caller inflection', () => {
    const { state, owner, recipient } = world();
    const res = createAuthorization(
      state,
      owner,
      params({ 'client-id': recipient.id, 'response-type': 'code', scope: 'inquiry.read:inq_owner1' }),
      'snake',
    );
    expect(res.status).toBe(201);
    const body = JSON.parse(res.body);
    expect(body).toEqual({ code: expect.any(String), expires_in: 600 });
    expect(state.grants.redeem(body.code, recipient.id, state.clock.now()).ok).toBe(true);
  });

  it.each([
    [{ 'response-type': 'code', scope: 'inquiry.read:inq_owner1' }, 400, '/clientId'],
    [{ 'client-id': 'RECIPIENT', scope: 'inquiry.read:inq_owner1' }, 400, '/responseType'],
    [{ 'client-id': 'RECIPIENT', 'response-type': 'token', scope: 'inquiry.read:inq_owner1' }, 400, '/responseType'],
    [{ 'client-id': 'RECIPIENT', 'response-type': 'code', scope: ' ' }, 400, '/scope'],
    [{ 'client-id': 'org_nobody', 'response-type': 'code', scope: 'inquiry.read:inq_owner1' }, 404, '/clientId'],
    [{ 'client-id': 'OWNER', 'response-type': 'code', scope: 'inquiry.read:inq_owner1' }, 422, '/clientId'],
    [{ 'client-id': 'RECIPIENT', 'response-type': 'code', scope: 'inquiry.read:inq_recipient1' }, 404, '/scope'],
  ])('refuses %j with %i pointing at %s', (raw, status, pointer) => {
    const { state, owner, recipient } = world();
    const ids: Record<string, string> = { RECIPIENT: recipient.id, OWNER: owner.id };
    const resolved = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, ids[v] ?? v]));
    const res = createAuthorization(state, owner, params(resolved), 'camel');
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body).errors[0].source.pointer).toBe(pointer);
  });
});

describe('createAccessToken', () => {
  it('answers the token with the lifetime left and the granted scope', () => {
    const { state, owner, recipient } = world();
    const { code } = state.grants.issueCode(owner.id, recipient.id, ['inquiry.read:inq_owner1'], state.clock.now());
    const res = createAccessToken(state, recipient, params({ code, 'grant-type': 'authorization_code' }), 'kebab');
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(res.body)).toEqual({
      'access-token': expect.stringMatching(/^persona_access_token_/),
      'expires-in': 3600,
      scope: 'inquiry.read:inq_owner1',
      'token-type': 'bearer',
    });
  });

  it('answers 404 unknown, 409 used and 422 expired, pointing at the code', () => {
    const { state, owner, recipient } = world();
    const now = state.clock.now();
    const used = state.grants.issueCode(owner.id, recipient.id, [], now).code;
    state.grants.redeem(used, recipient.id, now);
    const expired = state.grants.issueCode(owner.id, recipient.id, [], now - 600_000).code;
    const statusOf = (code: string): [number, string] => {
      const res = createAccessToken(state, recipient, params({ code, 'grant-type': 'authorization_code' }), 'kebab');
      return [res.status, JSON.parse(res.body).errors[0].source.pointer];
    };
    expect(statusOf('unknown')).toEqual([404, '/code']);
    expect(statusOf(used)).toEqual([409, '/code']);
    expect(statusOf(expired)).toEqual([422, '/code']);
  });

  it('refuses a missing or unsupported grant type and a missing code with 400', () => {
    const { state, recipient } = world();
    expect(createAccessToken(state, recipient, params({ code: 'x' }), 'snake').status).toBe(400);
    const other = createAccessToken(
      state,
      recipient,
      params({ code: 'x', 'grant-type': 'client_credentials' }),
      'kebab',
    );
    expect(JSON.parse(other.body).errors[0].details).toMatch(/supports authorization_code/);
    expect(createAccessToken(state, recipient, params({ 'grant-type': 'authorization_code' }), 'kebab').status).toBe(
      400,
    );
  });
});

describe('createAuthorizationDirect', () => {
  it('defaults to owner → recipient and takes the scope as a list', () => {
    const { state, owner, recipient } = world();
    const { code, expiresIn } = createAuthorizationDirect(
      state,
      { scope: ['inquiry.read:inq_owner1'] },
      owner.id,
      recipient.id,
    );
    expect(expiresIn).toBe(600);
    expect(state.grants.redeem(code, recipient.id, state.clock.now()).ok).toBe(true);
  });

  it('throws saying what is wrong', () => {
    const { state, owner, recipient } = world();
    const direct = (init: Parameters<typeof createAuthorizationDirect>[1]) => () =>
      createAuthorizationDirect(state, init, owner.id, recipient.id);
    expect(direct({ scope: 'inquiry.read:inq_owner1', from: 'org_x' })).toThrow(/no organization org_x/);
    expect(direct({ scope: 'inquiry.read:inq_owner1', clientId: 'org_x' })).toThrow(/names no organization/);
    expect(direct({ scope: 'inquiry.read:inq_owner1', clientId: owner.id })).toThrow(/cannot authorize itself/);
    expect(direct({ scope: 42 as unknown as string })).toThrow(TypeError);
    expect(direct({ scope: 'inquiry.read:inq_recipient1' })).toThrow(/inq_recipient1 was not found/);
  });
});
