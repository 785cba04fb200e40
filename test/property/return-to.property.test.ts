import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSafeReturnTo } from '../../src/return-to.js';

const NUM_RUNS = 1000;
const BASE = 'https://app.example';

// Characters that matter for redirects, plus ordinary ones.
const tricky = fc.constantFrom(
  '/',
  '/',
  '/',
  '\\',
  '%',
  '2',
  'f',
  'F',
  '5',
  'c',
  'C',
  ':',
  '.',
  '?',
  '#',
  '@',
  ';',
  '&',
  '=',
  'a',
  'e',
  'v',
  'i',
  'l',
  'h',
  't',
  'p',
  's',
  'j',
  'x',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u007f',
  'é',
  '\uff0f',
  '\u2044',
);
const candidate = fc.oneof(
  fc.string({ unit: tricky, maxLength: 24 }),
  fc.string({ unit: tricky, maxLength: 24 }).map((s) => `/${s}`),
  fc.webPath(),
  fc.webUrl(),
  fc.webUrl().map((u) => u.replace(/^https?:/, '')),
  fc.string(),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
  fc
    .string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 })
    .map((s) => `/${s}`),
);

describe('isSafeReturnTo: properties', () => {
  it('everything it accepts stays on the origin it is resolved against', () => {
    fc.assert(
      fc.property(candidate, (value) => {
        if (!isSafeReturnTo(value)) return;
        expect(value.startsWith('/')).toBe(true);
        expect(value.startsWith('//')).toBe(false);
        expect(value.startsWith('/\\')).toBe(false);
        expect(value).not.toContain('\\');
        expect(value).toMatch(/^[\x21-\x7e]{1,2048}$/);
        expect(value).not.toMatch(/%(2f|5c)/i);
        expect(new URL(value, BASE).origin).toBe(BASE);
        expect(new URL(value, 'http://localhost:3000/deep/path/').origin).toBe('http://localhost:3000');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('accepts plain absolute paths made of safe characters', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,10}$/);
    const path = fc
      .tuple(
        fc.array(segment, { maxLength: 5 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9=&]{0,10}$/), { nil: undefined }),
      )
      .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`);
    fc.assert(
      fc.property(path, (value) => {
        expect(isSafeReturnTo(value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every non-string', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((v) => typeof v !== 'string'),
        (value) => {
          expect(isSafeReturnTo(value)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});
