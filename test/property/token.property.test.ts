import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PersonaTokenSet } from '../../src/index.js';
import { parseTokenResponse, TokenResponseError } from '../../src/token.js';

const NUM_RUNS = 1000;
const NOW = 1_700_000_000_000;

const FIELD_NAMES = [
  'access-token',
  'access_token',
  'accessToken',
  'token-type',
  'token_type',
  'tokenType',
  'expires-in',
  'expires_in',
  'expiresIn',
  'scope',
] as const;

// Values close to valid ones, so that the generated records often pass and hit every branch.
const plausible = fc.oneof(
  fc.constantFrom(
    'persona_access_token_abc',
    'bearer',
    'Bearer',
    'BEARER',
    'mac',
    '',
    ' ',
    'inquiry.read:inq_1',
    'inquiry',
  ),
  fc.constantFrom(0, 1, 3599, -1, 1.5, 2 ** 53, Number.NaN, '3599', null),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 }),
  fc.string({ maxLength: 10 }),
  fc.integer({ min: -5, max: 100_000 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const mixedRecord = fc.dictionary(
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...FIELD_NAMES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
  ),
  plausible,
  { maxKeys: 12 },
);

// A valid response with one field replaced by anything.
const validBase = fc.record({
  'access-token': fc.string({
    unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 40,
  }),
  'token-type': fc.constantFrom('bearer', 'Bearer', 'BEARER'),
  'expires-in': fc.nat(),
  scope: fc.constantFrom('', 'inquiry.read:inq_1', 'inquiry.read:inq_1 verification.read:ver_2', null),
});
const oneFieldBroken = fc
  .tuple(validBase, fc.constantFrom(...FIELD_NAMES), fc.oneof(plausible, fc.jsonValue()))
  .map(([base, field, value]) => ({ ...base, [field]: value }));

// Each field under a random spelling (or absent), valid more often than not.
const SPELLINGS = {
  accessToken: ['access-token', 'access_token', 'accessToken'],
  tokenType: ['token-type', 'token_type', 'tokenType'],
  expiresIn: ['expires-in', 'expires_in', 'expiresIn'],
  scope: ['scope'],
} as const;
const field = <T>(names: readonly string[], good: fc.Arbitrary<T>) =>
  fc.option(
    fc.tuple(fc.constantFrom(...names), fc.oneof({ weight: 4, arbitrary: good }, { weight: 1, arbitrary: plausible })),
    { freq: 8, nil: undefined },
  );
const spelledRecord = fc
  .tuple(
    field(
      SPELLINGS.accessToken,
      validBase.map((b) => b['access-token']),
    ),
    field(SPELLINGS.tokenType, fc.constantFrom('bearer', 'Bearer')),
    field(SPELLINGS.expiresIn, fc.nat()),
    field(SPELLINGS.scope, fc.constantFrom('', null, 'case.read:c_1 case.read:c_1')),
  )
  .map((entries) => Object.fromEntries(entries.filter((e) => e !== undefined)) as Record<string, unknown>);

function check(body: unknown): void {
  let tokens: PersonaTokenSet;
  try {
    tokens = parseTokenResponse(body, { now: NOW });
  } catch (error) {
    expect(error).toBeInstanceOf(TokenResponseError);
    return;
  }
  expect(body).toBeTypeOf('object');
  expect(Array.isArray(body)).toBe(false);
  expect(tokens.accessToken).toMatch(/^[\x21-\x7e]+$/);
  expect(tokens.tokenType).toBe('bearer');
  expect(Number.isSafeInteger(tokens.expiresIn)).toBe(true);
  expect(tokens.expiresIn).toBeGreaterThan(0);
  expect(tokens.expiresAt).toBe(NOW + tokens.expiresIn * 1000);
  // The lifetime is Persona's word, or the documented hour said to be assumed: never both.
  const record = body as Record<string, unknown>;
  const sent = [record['expires-in'], record.expires_in, record.expiresIn].find((v) => v !== undefined);
  if (tokens.expiresInAssumed) {
    expect(tokens.expiresIn).toBe(3600);
    expect(sent === null || sent === undefined || sent === 0).toBe(true);
  } else {
    expect(sent).toBe(tokens.expiresIn);
  }
  expect(typeof tokens.scope).toBe('string');
  expect(Array.isArray(tokens.scopes)).toBe(true);
  for (const s of tokens.scopes) {
    expect(s.permission).toBe(`${s.resource}.${s.action}`);
    expect(s.objectId.length).toBeGreaterThan(0);
  }
  // The access token is one the response actually carried.
  expect([record['access-token'], record.access_token, record.accessToken]).toContain(tokens.accessToken);
  // The result is plain JSON.
  expect(JSON.parse(JSON.stringify(tokens))).toEqual(tokens);
}

describe('parseTokenResponse: properties', () => {
  it('returns a valid token set or throws a TokenResponseError for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => check(body)),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns a valid token set or throws a TokenResponseError for records mixing the real field names', () => {
    fc.assert(
      fc.property(mixedRecord, (body) => check(body)),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns a valid token set or throws a TokenResponseError for responses in any spelling', () => {
    fc.assert(
      fc.property(spelledRecord, (body) => check(body)),
      { numRuns: NUM_RUNS },
    );
  });

  it('returns a valid token set or throws a TokenResponseError when one field of a valid response is replaced', () => {
    fc.assert(
      fc.property(oneFieldBroken, (body) => check(body)),
      { numRuns: NUM_RUNS },
    );
  });

  it('accepts every well-formed response', () => {
    fc.assert(
      fc.property(validBase, (body) => {
        const tokens = parseTokenResponse(body, { now: NOW });
        expect(tokens.accessToken).toBe(body['access-token']);
        expect(tokens.expiresIn).toBe(body['expires-in'] === 0 ? 3600 : body['expires-in']);
        expect(tokens.expiresInAssumed).toBe(body['expires-in'] === 0 ? true : undefined);
        expect(tokens.scope).toBe(body.scope ?? '');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never throws anything else for arbitrary JS values', () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withMap: true, withSet: true, withBigInt: true, withDate: true }),
        (body) => check(body),
      ),
      { numRuns: 300 },
    );
  });
});
