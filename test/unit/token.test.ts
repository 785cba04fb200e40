import { describe, expect, it } from 'vitest';
import type { PersonaTokenSet } from '../../src/index.js';
import { parseTokenResponse, TokenResponseError } from '../../src/token.js';

const TOKEN = 'persona_access_token_d8b7f084-385f-4ff0-930e-1580ccefa16d';
const SCOPE = 'inquiry.read:inq_uX7kRTiBxsJ1sZqPLAsjdP9j verification.read:ver_ynYuWdrjwwjiHJ2rgHfSoHeT';
const NOW = 1_700_000_000_000;

const kebab = { 'access-token': TOKEN, 'expires-in': 3599, scope: SCOPE, 'token-type': 'bearer' };
const snake = { access_token: TOKEN, expires_in: 3599, scope: SCOPE, token_type: 'bearer' };
const camel = { accessToken: TOKEN, expiresIn: 3599, scope: SCOPE, tokenType: 'bearer' };

/** The plain error the parser throws: no HTTP status, no Persona context (the exchange adds it). */
function invalid(body: unknown): TokenResponseError {
  let caught: unknown;
  try {
    parseTokenResponse(body);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${JSON.stringify(body)} to be rejected`).toBeInstanceOf(TokenResponseError);
  const error = caught as TokenResponseError;
  expect(error.name).toBe('TokenResponseError');
  for (const decoration of ['status', 'personaStatus', 'requestId', 'code'])
    expect(error).not.toHaveProperty(decoration);
  return error;
}

describe('parseTokenResponse: the three inflections', () => {
  const expected: PersonaTokenSet = {
    accessToken: TOKEN,
    tokenType: 'bearer',
    expiresIn: 3599,
    expiresAt: NOW + 3599 * 1000,
    scope: SCOPE,
    scopes: [
      { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_uX7kRTiBxsJ1sZqPLAsjdP9j' },
      {
        permission: 'verification.read',
        resource: 'verification',
        action: 'read',
        objectId: 'ver_ynYuWdrjwwjiHJ2rgHfSoHeT',
      },
    ],
  };

  it.each([
    ['kebab-case', kebab],
    ['snake_case', snake],
    ['camelCase', camel],
  ])('reads a %s response', (_name, body) => {
    expect(parseTokenResponse(body, { now: NOW })).toEqual(expected);
  });

  it('reads a response mixing inflections field by field', () => {
    const mixed = { access_token: TOKEN, 'expires-in': 60, tokenType: 'Bearer', scope: '' };
    expect(parseTokenResponse(mixed, { now: NOW })).toMatchObject({ accessToken: TOKEN, expiresIn: 60, scopes: [] });
  });

  it('ignores unknown fields and does not copy them', () => {
    const tokens = parseTokenResponse({ ...kebab, 'refresh-token': 'r', extra: { a: 1 } }, { now: NOW });
    expect(Object.keys(tokens).sort()).toEqual([
      'accessToken',
      'expiresAt',
      'expiresIn',
      'scope',
      'scopes',
      'tokenType',
    ]);
  });

  it('produces a plain JSON-serialisable object', () => {
    const tokens = parseTokenResponse(kebab, { now: NOW });
    expect(JSON.parse(JSON.stringify(tokens))).toEqual(tokens);
    expect(Object.getPrototypeOf(tokens)).toBe(Object.prototype);
  });
});

describe('parseTokenResponse: token type', () => {
  it.each(['bearer', 'Bearer', 'BEARER', 'bEaReR'])('accepts %j and normalises it to "bearer"', (tokenType) => {
    expect(parseTokenResponse({ ...kebab, 'token-type': tokenType }).tokenType).toBe('bearer');
  });

  it.each([
    ['mac', 'mac'],
    ['empty', ''],
    ['with spaces', ' bearer '],
    ['prefix', 'bear'],
    ['a number', 1],
    ['an array', ['bearer']],
  ])('rejects %s', (_name, tokenType) => {
    invalid({ ...kebab, 'token-type': tokenType });
  });

  it.each([
    ['kebab-case null', { ...kebab, 'token-type': null }],
    ['snake_case null', { ...snake, token_type: null }],
    ['camelCase null', { ...camel, tokenType: null }],
    ['absent', { 'access-token': TOKEN, 'expires-in': 3599, scope: SCOPE }],
  ])('reads a token type that is %s as "bearer", the only type Persona issues', (_name, body) => {
    expect(parseTokenResponse(body).tokenType).toBe('bearer');
  });
});

describe('parseTokenResponse: access token', () => {
  it('rejects a missing access token', () => {
    const { 'access-token': _omitted, ...rest } = kebab;
    invalid(rest);
  });

  it.each([
    ['null', null],
    ['empty', ''],
    ['a number', 12345],
    ['true', true],
    ['an object', { value: TOKEN }],
    ['an array', [TOKEN]],
    ['with a space', 'persona_access_token_a b'],
    ['with a leading space', ' persona_access_token_ab'],
    ['with a newline', 'persona_access_token_a\r\nX-Evil: 1'],
    ['with a tab', 'abc\tdef'],
    ['with NUL', 'abc\u0000def'],
    ['with DEL', 'abc\u007fdef'],
    ['with non-ASCII', 'persona_access_token_é'],
    ['longer than 4096 characters', 'a'.repeat(4097)],
  ])('rejects an access token that is %s', (_name, accessToken) => {
    invalid({ ...kebab, 'access-token': accessToken });
  });

  it('accepts a 4096-character visible-ASCII token', () => {
    const long = '~'.repeat(4096);
    expect(parseTokenResponse({ ...kebab, 'access-token': long }).accessToken).toBe(long);
  });

  it.each([
    ['kebab-case', { ...kebab, 'access-token': null }],
    ['snake_case', { ...snake, access_token: null }],
    ['camelCase', { ...camel, accessToken: null }],
  ])('rejects a null %s access token: there is nothing to sign in with', (_name, body) => {
    invalid(body);
  });

  it('treats a null kebab field as present (it does not fall through to another spelling)', () => {
    invalid({ ...snake, 'access-token': null });
  });

  it('rejects a response holding nothing but nulls', () => {
    invalid({ 'access-token': null, 'expires-in': null, scope: null, 'token-type': null });
  });

  it('never puts the access token into the error message', () => {
    const error = invalid({ ...kebab, 'token-type': 'mac' });
    expect(error.message).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });
});

describe('parseTokenResponse: expires-in', () => {
  it('computes expiresAt from the given now', () => {
    expect(parseTokenResponse({ ...kebab, 'expires-in': 1 }, { now: 5 }).expiresAt).toBe(1005);
    expect(parseTokenResponse({ ...snake, expires_in: 3600 }, { now: NOW }).expiresAt).toBe(NOW + 3_600_000);
  });

  it('counts from Date.now() without a now', () => {
    const before = Date.now();
    const tokens = parseTokenResponse(kebab);
    const after = Date.now();
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(tokens.expiresAt).toBeLessThanOrEqual(after + 3_599_000);
  });

  it('leaves expiresInAssumed off when Persona sent a lifetime', () => {
    expect(Object.hasOwn(parseTokenResponse(kebab), 'expiresInAssumed')).toBe(false);
  });

  it.each([
    ['kebab-case null', { ...kebab, 'expires-in': null }],
    ['snake_case null', { ...snake, expires_in: null }],
    ['camelCase null', { ...camel, expiresIn: null }],
    ['absent', { 'access-token': TOKEN, scope: SCOPE, 'token-type': 'bearer' }],
    ['0 (the schema default)', { ...kebab, 'expires-in': 0 }],
    ['-0', { ...kebab, 'expires-in': -0 }],
  ])('assumes the documented hour, and says so, when expires-in is %s', (_name, body) => {
    const tokens = parseTokenResponse(body, { now: NOW });
    expect(tokens).toMatchObject({ expiresIn: 3600, expiresAt: NOW + 3_600_000, expiresInAssumed: true });
    expect(JSON.parse(JSON.stringify(tokens))).toEqual(tokens);
  });

  it.each([
    ['a numeric string', '3599'],
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['beyond the safe integers', 2 ** 53],
    ['beyond int32 seconds', 2_147_483_648],
    ['a boolean', true],
    ['an array', [3599]],
  ])('rejects expires-in that is %s', (_name, expiresIn) => {
    invalid({ ...kebab, 'expires-in': expiresIn });
  });
});

describe('parseTokenResponse: scope', () => {
  it.each([
    ['null', { ...kebab, scope: null }],
    ['null in snake_case', { ...snake, scope: null }],
    ['null in camelCase', { ...camel, scope: null }],
    ['absent', { 'access-token': TOKEN, 'expires-in': 3599, 'token-type': 'bearer' }],
    ['empty', { ...kebab, scope: '' }],
  ])('gives scope "" and scopes [] when the scope is %s', (_name, body) => {
    const tokens = parseTokenResponse(body);
    expect(tokens.scope).toBe('');
    expect(tokens.scopes).toEqual([]);
  });

  it('keeps the raw scope string and parses it', () => {
    const tokens = parseTokenResponse({ ...kebab, scope: 'inquiry.read:inq_1  inquiry.read:inq_1' });
    expect(tokens.scope).toBe('inquiry.read:inq_1  inquiry.read:inq_1');
    expect(tokens.scopes).toEqual([
      { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_1' },
    ]);
  });

  it.each([
    ['a number', 42],
    ['an array', ['inquiry.read:inq_1']],
    ['an object', { 'inquiry.read': 'inq_1' }],
    ['true', true],
  ])('rejects a scope that is %s', (_name, scope) => {
    invalid({ ...kebab, scope });
  });

  it.each(['inquiry.read', 'inquiry:inq_1', 'inquiry.read:', 'inquiry.read:inq_1 garbage', 'inquiry.read:ïnq'])(
    'rejects a malformed scope %j, keeping parseScopes’ SyntaxError as cause',
    (scope) => {
      const error = invalid({ ...kebab, scope });
      expect(error.message).toBe('scope is malformed');
      expect(error.cause).toBeInstanceOf(SyntaxError);
    },
  );
});

describe('parseTokenResponse: body shape and context', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', [kebab]],
    ['an empty array', []],
    ['a string', JSON.stringify(kebab)],
    ['a number', 201],
    ['a boolean', true],
    ['an empty object', {}],
  ])('rejects a body that is %s', (_name, body) => {
    invalid(body);
  });

  it('leaves requestId to the exchange', () => {
    expect(Object.hasOwn(parseTokenResponse(kebab), 'requestId')).toBe(false);
  });

  it('names the field in the message, never its value', () => {
    const error = invalid({ ...kebab, 'expires-in': -1, 'access-token': TOKEN });
    expect(error.message).toBe('expires-in not an integer from 0 to 2147483647');
  });

  it('ignores inherited properties', () => {
    const body = Object.create(kebab) as Record<string, unknown>;
    invalid(body);
  });
});
