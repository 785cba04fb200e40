import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ScopeError, requireScope, type PersonaTokenSet } from '../../src/index.js';
import { parseScopes } from '../../src/scopes.js';

type Req = IncomingMessage & { user?: unknown; params?: Record<string, string>; tokens?: unknown };
const res = {} as ServerResponse;

function fakeReq(fields: Record<string, unknown>): Req {
  return fields as unknown as Req;
}

function tokenSet(scope: string, expiresAt = Date.now() + 3_600_000): PersonaTokenSet {
  return {
    accessToken: 'persona_access_token_x',
    tokenType: 'bearer',
    expiresIn: 3600,
    expiresAt,
    scope,
    scopes: parseScopes(scope),
  };
}

function run(middleware: ReturnType<typeof requireScope<Req>>, req: Req): ReturnType<typeof vi.fn> {
  const next = vi.fn();
  middleware(req, res, next);
  expect(next).toHaveBeenCalledTimes(1);
  return next;
}

function errorOf(next: ReturnType<typeof vi.fn>): ScopeError {
  const error = next.mock.calls[0]?.[0] as unknown;
  expect(error).toBeInstanceOf(ScopeError);
  expect(error).toBeInstanceOf(Error);
  return error as ScopeError;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('requireScope', () => {
  it('calls next() with no arguments when the scope is granted', () => {
    const next = run(requireScope<Req>('inquiry.read'), fakeReq({ user: tokenSet('inquiry.read:inq_1') }));
    expect(next.mock.calls[0]).toEqual([]);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['false', false],
    ['a string', 'inquiry.read:inq_1'],
  ])('fails with 401 unauthenticated when the user is %s', (_name, user) => {
    const error = errorOf(run(requireScope<Req>('inquiry.read'), fakeReq({ user })));
    expect(error.status).toBe(401);
    expect(error.code).toBe('unauthenticated');
    expect(error.permission).toBe('inquiry.read');
    expect(error.name).toBe('ScopeError');
  });

  it('fails with 401 unauthenticated when there is no user property at all', () => {
    const error = errorOf(run(requireScope<Req>('inquiry.read'), fakeReq({})));
    expect(error.code).toBe('unauthenticated');
  });

  it('fails with 401 token_expired once expiresAt has passed, even when the scope matches', () => {
    const error = errorOf(
      run(requireScope<Req>('inquiry.read'), fakeReq({ user: tokenSet('inquiry.read:inq_1', Date.now() - 1) })),
    );
    expect(error.status).toBe(401);
    expect(error.code).toBe('token_expired');
  });

  it('treats expiresAt equal to now as expired and one millisecond later as valid', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
    const expired = errorOf(
      run(requireScope<Req>('inquiry.read'), fakeReq({ user: tokenSet('inquiry.read:x', 1_700_000_000_000) })),
    );
    expect(expired.code).toBe('token_expired');
    const next = run(
      requireScope<Req>('inquiry.read'),
      fakeReq({ user: tokenSet('inquiry.read:x', 1_700_000_000_001) }),
    );
    expect(next.mock.calls[0]).toEqual([]);
  });

  it('follows the clock: a token valid now is expired after its lifetime', () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_700_000_000_000);
    const req = fakeReq({ user: tokenSet('inquiry.read:x', 1_700_000_000_000 + 3_600_000) });
    const middleware = requireScope<Req>('inquiry.read');
    expect(run(middleware, req).mock.calls[0]).toEqual([]);
    vi.setSystemTime(1_700_000_000_000 + 3_600_000);
    expect(errorOf(run(middleware, req)).code).toBe('token_expired');
  });

  it('fails with 403 insufficient_scope when the permission is not granted', () => {
    const error = errorOf(
      run(requireScope<Req>('verification.read'), fakeReq({ user: tokenSet('inquiry.read:inq_1') })),
    );
    expect(error.status).toBe(403);
    expect(error.code).toBe('insufficient_scope');
    expect(error.permission).toBe('verification.read');
    expect(error.objectId).toBeUndefined();
    expect(error.message).toContain('verification.read');
  });

  it('fails with 403 when the user has no scopes at all', () => {
    const error = errorOf(run(requireScope<Req>('inquiry.read'), fakeReq({ user: tokenSet('') })));
    expect(error.code).toBe('insufficient_scope');
  });

  it('checks the object id taken from the request', () => {
    const middleware = requireScope<Req>('inquiry.read', { objectId: (req) => req.params?.id });
    const user = tokenSet('inquiry.read:inq_1');

    expect(run(middleware, fakeReq({ user, params: { id: 'inq_1' } })).mock.calls[0]).toEqual([]);

    const error = errorOf(run(middleware, fakeReq({ user, params: { id: 'inq_2' } })));
    expect(error.status).toBe(403);
    expect(error.code).toBe('insufficient_scope');
    expect(error.objectId).toBe('inq_2');
    expect(error.message).toContain('inq_2');
  });

  it.each([
    ['undefined', undefined],
    ['an empty string', ''],
    ['a number', 1],
  ])('fails closed with 403 insufficient_scope when the objectId function returns %s', (_name, id) => {
    const middleware = requireScope<Req>('inquiry.read', { objectId: () => id as string | undefined });
    const error = errorOf(run(middleware, fakeReq({ user: tokenSet('inquiry.read:inq_1 inquiry.read:1') })));
    expect(error.status).toBe(403);
    expect(error.code).toBe('insufficient_scope');
  });

  it('reports the object id on 401 errors too', () => {
    const middleware = requireScope<Req>('inquiry.read', { objectId: () => 'inq_7' });
    const error = errorOf(run(middleware, fakeReq({})));
    expect(error.code).toBe('unauthenticated');
    expect(error.objectId).toBe('inq_7');
  });

  it('reads the token set from a custom location', () => {
    const middleware = requireScope<Req>('report.read', {
      tokens: (req) => req.tokens as PersonaTokenSet | undefined,
    });
    expect(run(middleware, fakeReq({ tokens: tokenSet('report.read:rep_1') })).mock.calls[0]).toEqual([]);
    expect(errorOf(run(middleware, fakeReq({ user: tokenSet('report.read:rep_1') }))).code).toBe('unauthenticated');
  });

  it('accepts a user carrying only a scope string and no expiry', () => {
    const middleware = requireScope<Req>('inquiry.read', { objectId: () => 'inq_1' });
    expect(run(middleware, fakeReq({ user: { scope: 'inquiry.read:inq_1' } })).mock.calls[0]).toEqual([]);
    expect(errorOf(run(middleware, fakeReq({ user: { scope: 'broken' } }))).code).toBe('insufficient_scope');
  });

  it('is case-sensitive', () => {
    const error = errorOf(run(requireScope<Req>('Inquiry.Read'), fakeReq({ user: tokenSet('inquiry.read:inq_1') })));
    expect(error.code).toBe('insufficient_scope');
  });
});

describe('ScopeError', () => {
  it('maps each code to its status and message', () => {
    expect(new ScopeError('unauthenticated', 'a.b', undefined).status).toBe(401);
    expect(new ScopeError('token_expired', 'a.b', undefined).status).toBe(401);
    expect(new ScopeError('insufficient_scope', 'a.b', undefined).status).toBe(403);
    expect(new ScopeError('insufficient_scope', 'a.b', 'x_1').message).toBe(
      'The Persona access token does not grant a.b on x_1',
    );
    expect(new ScopeError('insufficient_scope', 'a.b', undefined).message).toBe(
      'The Persona access token does not grant a.b',
    );
  });
});
