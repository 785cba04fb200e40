import { describe, expect, it } from 'vitest';
import { formatScopes, parseScopes } from '../../src/scopes.js';

// A malformed scope entry is quoted in the error, cut to 64 characters: enough to find it, not
// enough to put a whole hostile scope string into a log line.

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}

describe('scope errors: the quoted entry', () => {
  it('quotes an entry of exactly 64 characters whole, with no ellipsis', () => {
    const entry = `x${'y'.repeat(63)}`;
    expect(messageOf(() => parseScopes(entry))).toBe(`Invalid scope entry "${entry}": expected permission:object`);
  });

  it('cuts an entry of 65 characters to its first 64 and an ellipsis', () => {
    const entry = `${'z'.repeat(64)}!`;
    expect(messageOf(() => parseScopes(entry))).toBe(
      `Invalid scope entry "${'z'.repeat(64)}…": expected permission:object`,
    );
  });

  it('cuts a long entry in a caller list the same way (formatScopes, TypeError)', () => {
    const objectId = `inq_${'q'.repeat(100)}`;
    let caught: unknown;
    try {
      formatScopes([{ permission: 'inquiry', objectId }]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as Error).message).toBe(
      `Invalid scope entry "${`inquiry:${objectId}`.slice(0, 64)}…": the permission must be resource.action`,
    );
  });

  it('says what is wrong: no colon, a bad permission, a bad object id', () => {
    expect(messageOf(() => parseScopes('inquiry.read'))).toBe(
      'Invalid scope entry "inquiry.read": expected permission:object',
    );
    expect(messageOf(() => parseScopes('inquiry:inq_1'))).toBe(
      'Invalid scope entry "inquiry:inq_1": the permission must be resource.action',
    );
    expect(messageOf(() => parseScopes('inquiry.read:'))).toBe(
      'Invalid scope entry "inquiry.read:": the object id is empty or not printable ASCII',
    );
  });

  it('names a scope that is not a string', () => {
    const error = (() => {
      try {
        parseScopes(42 as never);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TypeError);
    expect(error?.message).toBe('Invalid scope entry "42": the scope must be a string');
  });
});
