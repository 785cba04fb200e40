import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasScope, type PersonaScope } from '../../src/index.js';
import { formatScopes, parseScopes } from '../../src/scopes.js';

const NUM_RUNS = 500;

const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,11}$/);
const visible = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
// Biased towards ':' and id-like characters so colons inside ids are common.
const idChar = fc.oneof({ weight: 4, arbitrary: visible }, { weight: 1, arbitrary: fc.constant(':') });
const objectId = fc.string({ unit: idChar, minLength: 1, maxLength: 24 });

const scope: fc.Arbitrary<PersonaScope> = fc
  .record({ resource: name, action: name, objectId })
  .map(({ resource, action, objectId: id }) => ({
    permission: `${resource}.${action}`,
    resource,
    action,
    objectId: id,
  }));

// A list with deliberate duplicates: entries are drawn from a small pool.
const scopeList = fc
  .array(scope, { minLength: 1, maxLength: 6 })
  .chain((pool) => fc.array(fc.constantFrom(...pool), { maxLength: 12 }));

const whitespace = fc.string({ unit: fc.constantFrom(' ', '\t', '\n', '\r'), minLength: 1, maxLength: 4 });

function key(s: { permission: string; objectId: string }): string {
  return `${s.permission}:${s.objectId}`;
}

function dedupe(list: readonly PersonaScope[]): PersonaScope[] {
  const seen = new Set<string>();
  return list.filter((s) => {
    if (seen.has(key(s))) return false;
    seen.add(key(s));
    return true;
  });
}

describe('scopes: properties', () => {
  it('parseScopes(formatScopes(list)) equals the de-duplicated list', () => {
    fc.assert(
      fc.property(scopeList, (list) => {
        expect(parseScopes(formatScopes(list))).toEqual(dedupe(list));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('formatScopes gives single-space-separated entries, no duplicates', () => {
    fc.assert(
      fc.property(scopeList, (list) => {
        const text = formatScopes(list);
        expect(text).not.toMatch(/^\s|\s$|\s\s|[\t\r\n]/);
        const entries = text === '' ? [] : text.split(' ');
        expect(new Set(entries).size).toBe(entries.length);
        expect(entries).toEqual(dedupe(list).map(key));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('any whitespace layout parses to the same list, and formatting is idempotent', () => {
    const layout = scopeList.chain((list) =>
      fc
        .tuple(
          fc.array(whitespace, { minLength: list.length + 1, maxLength: list.length + 1 }),
          fc.boolean(),
          fc.boolean(),
        )
        .map(([gaps, lead, trail]) => {
          let text = lead ? gaps[0]! : '';
          list.forEach((s, i) => {
            text += key(s) + (i < list.length - 1 || trail ? gaps[i + 1]! : '');
          });
          return { list, text };
        }),
    );
    fc.assert(
      fc.property(layout, ({ list, text }) => {
        const parsed = parseScopes(text);
        expect(parsed).toEqual(dedupe(list));
        const once = formatScopes(parsed);
        expect(formatScopes(parseScopes(once))).toBe(once);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('on arbitrary text, parseScopes either returns a well-formed list or throws a SyntaxError', () => {
    const noisy = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom('a', 'B', '_', '.', ':', ' ', '\t', '1', 'é', '\u00a0', '\u000b', 'x') }),
      scopeList.map((list) => formatScopes(list)),
    );
    fc.assert(
      fc.property(noisy, (text) => {
        let parsed: PersonaScope[];
        try {
          parsed = parseScopes(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SyntaxError);
          return;
        }
        for (const s of parsed) {
          expect(s.permission).toBe(`${s.resource}.${s.action}`);
          expect(s.resource).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
          expect(s.action).toMatch(/^[A-Za-z][A-Za-z0-9_]*$/);
          expect(s.objectId).toMatch(/^[\x21-\x7e]+$/);
          expect(text).toContain(key(s));
        }
        const formatted = formatScopes(parsed);
        expect(parseScopes(formatted)).toEqual(parsed);
        expect(formatScopes(parseScopes(formatted))).toBe(formatted);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('hasScope agrees with a plain search of the list, on the token set and on the raw string', () => {
    fc.assert(
      fc.property(scopeList, scope, fc.boolean(), (list, probe, withId) => {
        const candidates = [probe, ...list];
        for (const target of candidates) {
          const id = withId ? target.objectId : undefined;
          const expected = list.some(
            (s) => s.permission === target.permission && (id === undefined || s.objectId === id),
          );
          expect(hasScope({ scopes: list }, target.permission, id)).toBe(expected);
          expect(hasScope({ scope: formatScopes(list) }, target.permission, id)).toBe(expected);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
