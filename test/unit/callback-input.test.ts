import { describe, expect, it } from 'vitest';
import { readCallbackInput } from '../../src/callback-input.js';

const PARAMS = ['code', 'state', 'error', 'error_description'] as const;
const MAX = 2048;

// A value that is fine for every parameter, so each rule below is tested in isolation.
const okFor: Record<(typeof PARAMS)[number], Record<string, string>> = {
  code: {},
  state: { code: 'c0de' },
  error: {},
  error_description: { error: 'server_error' },
};

describe('readCallbackInput: a code', () => {
  it('returns the code and the state', () => {
    expect(readCallbackInput({ code: 'abc', state: 'xyz' })).toEqual({ kind: 'code', code: 'abc', state: 'xyz' });
  });

  it('returns an undefined state when there is none', () => {
    expect(readCallbackInput({ code: 'abc' })).toEqual({ kind: 'code', code: 'abc', state: undefined });
  });

  it('passes every printable ASCII character through unchanged, space included', () => {
    let all = '';
    for (let c = 0x20; c <= 0x7e; c++) all += String.fromCharCode(c);
    expect(readCallbackInput({ code: all })).toEqual({ kind: 'code', code: all, state: undefined });
  });

  it('accepts a code of exactly 2048 characters and a single character', () => {
    const long = 'a'.repeat(MAX);
    expect(readCallbackInput({ code: long })).toEqual({ kind: 'code', code: long, state: undefined });
    expect(readCallbackInput({ code: 'a' })).toEqual({ kind: 'code', code: 'a', state: undefined });
  });

  it('ignores unrelated parameters', () => {
    expect(readCallbackInput({ code: 'abc', foo: ['x', 'y'], bar: { a: 1 }, n: 3 })).toEqual({
      kind: 'code',
      code: 'abc',
      state: undefined,
    });
  });

  it('treats a parameter whose value is undefined as absent', () => {
    expect(readCallbackInput({ code: 'abc', state: undefined, error: undefined })).toEqual({
      kind: 'code',
      code: 'abc',
      state: undefined,
    });
  });

  it('reads an object without a prototype (as from a query parser)', () => {
    const source = Object.assign(Object.create(null) as Record<string, unknown>, { code: 'abc', state: 's' });
    expect(readCallbackInput(source)).toEqual({ kind: 'code', code: 'abc', state: 's' });
  });

  it('does not read inherited parameters', () => {
    const source = Object.create({ code: 'inherited' }) as Record<string, unknown>;
    expect(readCallbackInput(source)).toEqual({ kind: 'start', state: undefined });
  });
});

describe('readCallbackInput: an error', () => {
  it('returns the error and its description', () => {
    expect(readCallbackInput({ error: 'access_denied', error_description: 'No thanks', state: 's' })).toEqual({
      kind: 'error',
      error: 'access_denied',
      description: 'No thanks',
      state: 's',
    });
  });

  it('returns an undefined description when there is none', () => {
    expect(readCallbackInput({ error: 'server_error' })).toEqual({
      kind: 'error',
      error: 'server_error',
      description: undefined,
      state: undefined,
    });
  });

  it('takes precedence over a code', () => {
    expect(readCallbackInput({ code: 'abc', error: 'access_denied' })).toMatchObject({
      kind: 'error',
      error: 'access_denied',
    });
  });

  it('ignores an error_description without an error', () => {
    expect(readCallbackInput({ code: 'abc', error_description: 'hm' })).toEqual({
      kind: 'code',
      code: 'abc',
      state: undefined,
    });
  });
});

describe('readCallbackInput: no code and no error', () => {
  it.each([
    ['an empty object', {}],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'code=abc'],
    ['a number', 42],
    ['an array', [['code', 'abc']]],
    ['an array with a code property', Object.assign(['x'], { code: 'abc' })],
  ])('returns start for %s', (_name, source) => {
    expect(readCallbackInput(source)).toEqual({ kind: 'start', state: undefined });
  });

  it('keeps the state of a start', () => {
    expect(readCallbackInput({ state: 'abc' })).toEqual({ kind: 'start', state: 'abc' });
  });
});

const BAD_SHAPES: [string, unknown][] = [
  ['an empty string', ''],
  ['repeated (an array of two)', ['a', 'b']],
  ['an array of one', ['a']],
  ['an empty array', []],
  ['an object', { a: 'b' }],
  ['an object with toString', { toString: () => 'abc' }],
  ['a number', 123],
  ['a boolean', true],
  ['null', null],
  ['2049 characters', 'a'.repeat(MAX + 1)],
];
const BAD_CHARACTERS: [string, string][] = [
  ['a newline', 'ab\ncd'],
  ['a carriage return', 'ab\rcd'],
  ['a tab', 'ab\tcd'],
  ['NUL', 'ab\u0000cd'],
  ['DEL', 'ab\u007fcd'],
  ['non-ASCII (é)', 'abcé'],
  ['non-ASCII (emoji)', 'ab\u{1f600}'],
  ['a lone surrogate', 'ab\ud800'],
];

describe.each(PARAMS)('readCallbackInput: the %s parameter', (name) => {
  const base = okFor[name];
  // error_description is free text: other characters are reduced, not refused (below).
  const bad = name === 'error_description' ? BAD_SHAPES : [...BAD_SHAPES, ...BAD_CHARACTERS];

  it.each(bad)(`is invalid when ${name} is %s`, (_label, value) => {
    const result = readCallbackInput({ ...base, [name]: value });
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') {
      expect(result.message).toContain(name);
    }
  });

  it(`accepts ${name} of exactly 2048 printable characters`, () => {
    expect(readCallbackInput({ ...base, [name]: 'z'.repeat(MAX) }).kind).not.toBe('invalid');
  });
});

describe('readCallbackInput: error_description is reduced to printable ASCII and 200 characters', () => {
  const described = (value: string) => {
    const result = readCallbackInput({ error: 'access_denied', error_description: value });
    return result.kind === 'error' ? result.description : `not an error: ${result.kind}`;
  };

  it.each([
    ['a newline', 'ab\ncd', 'ab cd'],
    ['NUL', 'ab\u0000cd', 'ab cd'],
    ['DEL', 'ab\u007fcd', 'ab cd'],
    ['non-ASCII (é)', 'abécd', 'ab cd'],
    ['an emoji', 'ab\u{1f600}cd', 'ab cd'],
    ['a lone surrogate', 'ab\ud800cd', 'ab cd'],
  ])('turns %s into a space', (_label, value, reduced) => {
    expect(described(value)).toBe(reduced);
  });

  it('makes one space of a run of other characters, and trims the ends', () => {
    expect(described('\u00a0Refusé\r\n\tpar l’owner ')).toBe('Refus par l owner');
  });

  it('keeps at most 200 characters', () => {
    expect(described('y'.repeat(MAX))).toBe('y'.repeat(200));
  });

  it('keeps printable ASCII, markup included, as it is: the field is untrusted text', () => {
    expect(described('<script>alert(1)</script>')).toBe('<script>alert(1)</script>');
  });

  it('leaves no description when nothing printable remains', () => {
    expect(described('\u00e9\u00e9')).toBeUndefined();
  });
});

describe('readCallbackInput: an invalid parameter wins', () => {
  it('says a repeated parameter was given more than once', () => {
    const result = readCallbackInput({ code: ['a', 'b'] });
    expect(result).toEqual({ kind: 'invalid', message: expect.stringMatching(/code.*more than once/) });
  });

  it('refuses a valid code when the state is repeated', () => {
    expect(readCallbackInput({ code: 'abc', state: ['s1', 's2'] }).kind).toBe('invalid');
  });

  it('refuses an error when the code is repeated', () => {
    expect(readCallbackInput({ code: ['a', 'b'], error: 'access_denied' }).kind).toBe('invalid');
  });

  it('never echoes a hostile value in its message', () => {
    const result = readCallbackInput({ code: `secret\n${'x'.repeat(10)}` });
    expect(result.kind).toBe('invalid');
    if (result.kind === 'invalid') expect(result.message).not.toContain('secret');
  });
});
