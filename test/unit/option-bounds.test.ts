import { describe, expect, it } from 'vitest';
import { MockAgent } from 'undici';
import { PersonaStrategy } from '../../src/index.js';
import { SessionStateStore } from '../../src/state/session.js';
import { SignedStateStore } from '../../src/state/signed.js';
import { parseTokenResponse, TokenResponseError } from '../../src/token.js';

const SECRET = 's'.repeat(40);

describe('state store options are validated', () => {
  it.each([0, -1, 1.5, Number.NaN, '10'])('SessionStateStore maxFlows %s → TypeError', (maxFlows) => {
    expect(() => new SessionStateStore({ maxFlows: maxFlows as number })).toThrow(TypeError);
  });
  it.each([0, -5, 2.5])('SessionStateStore ttlSeconds %s → TypeError', (ttlSeconds) => {
    expect(() => new SessionStateStore({ ttlSeconds })).toThrow(TypeError);
  });
  it.each([0, 1.5])('SignedStateStore maxFlows %s → TypeError', (maxFlows) => {
    expect(() => new SignedStateStore({ secrets: [SECRET], maxFlows })).toThrow(TypeError);
  });
  it.each(['/; Domain=evil.example', '/a b', 'relative', '/x\r\nSet-Cookie: a=b'])(
    'SignedStateStore path %j → TypeError',
    (path) => {
      expect(() => new SignedStateStore({ secrets: [SECRET], path })).toThrow(TypeError);
    },
  );
  it('SignedStateStore rejects an unknown sameSite or secure value', () => {
    expect(() => new SignedStateStore({ secrets: [SECRET], sameSite: 'sometimes' as 'lax' })).toThrow(TypeError);
    expect(() => new SignedStateStore({ secrets: [SECRET], secure: 'yes' as unknown as boolean })).toThrow(TypeError);
  });
  it('accepts sane values', () => {
    expect(() => new SignedStateStore({ secrets: [SECRET], path: '/auth', maxFlows: 3, ttlSeconds: 60 })).not.toThrow();
    expect(() => new SessionStateStore({ maxFlows: 1, ttlSeconds: 1 })).not.toThrow();
  });
});

describe('token lifetime bounds', () => {
  const base = { 'access-token': 'persona_access_token_a', 'token-type': 'bearer', scope: null };
  it('refuses a lifetime beyond int32 seconds', () => {
    expect(() => parseTokenResponse({ ...base, 'expires-in': 2 ** 31 })).toThrow(TokenResponseError);
    expect(() => parseTokenResponse({ ...base, 'expires-in': Number.MAX_SAFE_INTEGER })).toThrow(TokenResponseError);
  });
  it('accepts the largest bound, and reads -0 like 0: no lifetime given, the documented hour assumed', () => {
    expect(parseTokenResponse({ ...base, 'expires-in': 2 ** 31 - 1 }, { now: 0 }).expiresAt).toBe((2 ** 31 - 1) * 1000);
    expect(parseTokenResponse({ ...base, 'expires-in': -0 })).toMatchObject({
      expiresIn: 3600,
      expiresInAssumed: true,
    });
  });
});

describe('requireScope clock', () => {
  it('compares expiresAt with the injected clock', async () => {
    const { requireScope } = await import('../../src/index.js');
    const user = { expiresAt: 1_000, scopes: [{ permission: 'inquiry.read', objectId: 'inq_1' }] };
    const seen: unknown[] = [];
    const next = (err?: unknown): void => void seen.push(err);
    requireScope('inquiry.read', { now: () => 999 })({ user } as never, {} as never, next);
    requireScope('inquiry.read', { now: () => 1_000 })({ user } as never, {} as never, next);
    expect(seen[0]).toBeUndefined();
    expect(seen[1]).toMatchObject({ code: 'token_expired', status: 401 });
  });
});

describe('verify failing with a falsy value', () => {
  it.each([
    [
      'throws',
      () => {
        throw 0;
      },
    ],
    ['rejects', () => Promise.reject(false)],
  ])('%s: an error, not a missing user', async (_name, verify) => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('http://127.0.0.1:9')
      .intercept({ path: '/api/v1/oauth/token', method: 'POST' })
      .reply(201, { 'access-token': 'persona_access_token_a', 'expires-in': 60, 'token-type': 'bearer', scope: null });
    const strategy = new PersonaStrategy<unknown>(
      { apiKey: 'key_for_verify_test', baseURL: 'http://127.0.0.1:9', dispatcher: agent },
      verify as never,
    );
    const outcome = await new Promise<string>((resolve) => {
      const run = Object.create(strategy) as PersonaStrategy<unknown> & Record<string, unknown>;
      run.error = (err: unknown) => resolve(`error:${(err as Error).message}`);
      run.fail = () => resolve('fail');
      run.success = () => resolve('success');
      run.authenticate({ method: 'GET', url: '/cb?code=abc', query: { code: 'abc' } } as never);
    });
    await agent.close();
    expect(outcome).toMatch(/^error:verify (threw|rejected)$/);
  });
});
