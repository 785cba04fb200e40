import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCallbackInput, type CallbackInput } from '../../src/callback-input.js';

const NUM_RUNS = 1000;
const PARAMS = ['code', 'state', 'error', 'error_description'] as const;
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

// Strings around the rules' edges: printable ASCII, near 2048 characters, with a stray control
// or non-ASCII character, empty.
const edgyString = fc.oneof(
  fc.string({ unit: printable, minLength: 1, maxLength: 40 }),
  fc.string({ unit: printable, minLength: 2040, maxLength: 2056 }),
  fc
    .tuple(
      fc.string({ unit: printable, maxLength: 10 }),
      fc.constantFrom('\n', '\r', '\t', '\u0000', '\u007f', 'é', '\u2028', '\ud800'),
    )
    .map(([s, bad]) => s + bad),
  fc.constant(''),
  fc.string(),
);
const paramValue = fc.oneof(
  { weight: 4, arbitrary: edgyString },
  { weight: 1, arbitrary: fc.array(edgyString, { maxLength: 3 }) },
  { weight: 2, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const paramKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PARAMS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const callbackSource = fc.dictionary(paramKey, paramValue, { maxKeys: 6 });
// Mostly near-valid parameter sets (so codes and errors get through often), plus anything at all.
const anySource = fc.oneof(
  { weight: 12, arbitrary: callbackSource },
  {
    weight: 12,
    arbitrary: fc.record(
      { code: edgyString, state: fc.option(edgyString, { nil: undefined }) },
      { requiredKeys: ['code'] },
    ),
  },
  { weight: 2, arbitrary: fc.dictionary(paramKey, fc.anything(), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.object() },
  { weight: 1, arbitrary: fc.object({ withNullPrototype: true }) },
  { weight: 1, arbitrary: fc.anything() },
);

const mostlyValid = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: printable, minLength: 1, maxLength: 30 }) },
  { weight: 1, arbitrary: paramValue },
);
const errorSource = fc.record(
  { error: edgyString, error_description: mostlyValid, code: mostlyValid, state: mostlyValid },
  { requiredKeys: ['error'] },
);

function isValidParam(name: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'string') return false;
  // error_description: any one string of 1..2048 characters (its characters are reduced).
  return name === 'error_description' ? value.length >= 1 && value.length <= 2048 : /^[\x20-\x7e]{1,2048}$/.test(value);
}

/** The rules, written independently: what the result should be. */
function expected(source: unknown): CallbackInput['kind'] {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return 'start';
  const get = (name: string): unknown =>
    Object.hasOwn(source, name) ? (source as Record<string, unknown>)[name] : undefined;
  if (!PARAMS.every((name) => isValidParam(name, get(name)))) return 'invalid';
  if (get('error') !== undefined) return 'error';
  if (get('code') !== undefined) return 'code';
  return 'start';
}

describe('readCallbackInput: properties', () => {
  it('never throws, and always returns one of the four kinds', () => {
    fc.assert(
      fc.property(anySource, (source) => {
        const result = readCallbackInput(source);
        expect(['code', 'error', 'start', 'invalid']).toContain(result.kind);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('lets a code through only as the exact 1..2048-character printable-ASCII string given', () => {
    fc.assert(
      fc.property(anySource, (source) => {
        const result = readCallbackInput(source);
        if (result.kind !== 'code') return;
        expect(typeof result.code).toBe('string');
        expect(result.code).toMatch(/^[\x20-\x7e]{1,2048}$/);
        expect(result.code).toBe((source as Record<string, unknown>).code);
        if (result.state !== undefined) {
          expect(result.state).toMatch(/^[\x20-\x7e]{1,2048}$/);
          expect(result.state).toBe((source as Record<string, unknown>).state);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('lets an error through as the printable-ASCII string given, its description reduced', () => {
    fc.assert(
      fc.property(errorSource, (source) => {
        const result = readCallbackInput(source);
        if (result.kind !== 'error') return;
        expect(result.error).toMatch(/^[\x20-\x7e]{1,2048}$/);
        expect(result.error).toBe(source.error);
        const given = source.error_description;
        if (given === undefined) expect(result.description).toBeUndefined();
        if (result.description !== undefined)
          expect(result.description).toMatch(/^[\x21-\x7e]([\x20-\x7e]{0,198}[\x21-\x7e])?$/);
        // Already printable, short and trimmed: kept exactly.
        if (typeof given === 'string' && /^[\x21-\x7e]([\x20-\x7e]{0,198}[\x21-\x7e])?$/.test(given)) {
          expect(result.description).toBe(given);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('agrees with the rules on which kind each input is', () => {
    fc.assert(
      fc.property(anySource, (source) => {
        expect(readCallbackInput(source).kind).toBe(expected(source));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('does not modify its input', () => {
    fc.assert(
      fc.property(callbackSource, (source) => {
        const before = Object.entries(source).map(([k, v]) => [k, v] as const);
        readCallbackInput(source);
        expect(Object.entries(source)).toEqual(before);
      }),
      { numRuns: 300 },
    );
  });
});
