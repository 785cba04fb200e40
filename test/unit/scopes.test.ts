import { describe, expect, it } from 'vitest';
import { hasScope, type PersonaScope } from '../../src/index.js';
import { formatScopes, parseScopes } from '../../src/scopes.js';

/** A malformed scope string is a plain SyntaxError: no HTTP status, no Persona context. */
function expectInvalidScope(input: string): SyntaxError {
  let caught: unknown;
  try {
    parseScopes(input);
  } catch (error) {
    caught = error;
  }
  expect(caught, `parseScopes(${JSON.stringify(input)}) should throw`).toBeInstanceOf(SyntaxError);
  expect(caught).not.toHaveProperty('status');
  return caught as SyntaxError;
}

describe('parseScopes', () => {
  it('parses the example scope string from the Persona docs', () => {
    expect(
      parseScopes('inquiry.read:inq_uX7kRTiBxsJ1sZqPLAsjdP9j verification.read:ver_ynYuWdrjwwjiHJ2rgHfSoHeT'),
    ).toEqual([
      { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_uX7kRTiBxsJ1sZqPLAsjdP9j' },
      {
        permission: 'verification.read',
        resource: 'verification',
        action: 'read',
        objectId: 'ver_ynYuWdrjwwjiHJ2rgHfSoHeT',
      },
    ]);
  });

  it('parses a single entry', () => {
    expect(parseScopes('inquiry.read:inq_123')).toEqual([
      { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_123' },
    ]);
  });

  it('accepts resources and actions with underscores and digits', () => {
    expect(parseScopes('api_log.read:req_1 workflow.trigger:wfl_2 v2_thing.do_it2:x')).toEqual([
      { permission: 'api_log.read', resource: 'api_log', action: 'read', objectId: 'req_1' },
      { permission: 'workflow.trigger', resource: 'workflow', action: 'trigger', objectId: 'wfl_2' },
      { permission: 'v2_thing.do_it2', resource: 'v2_thing', action: 'do_it2', objectId: 'x' },
    ]);
  });

  it('takes everything after the first colon as the object id', () => {
    expect(parseScopes('inquiry.read:inq_1:extra:more')).toEqual([
      { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_1:extra:more' },
    ]);
    expect(parseScopes('document.read::')).toEqual([
      { permission: 'document.read', resource: 'document', action: 'read', objectId: ':' },
    ]);
  });

  it('accepts any visible ASCII in the object id', () => {
    const id = '!"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~';
    expect(parseScopes(`inquiry.read:${id}`)[0]?.objectId).toBe(id);
  });

  it('splits on runs of spaces, tabs, CR and LF and ignores leading/trailing whitespace', () => {
    const list = parseScopes('  inquiry.read:inq_1 \t\t verification.read:ver_1\n\r\nreport.read:rep_1\t  ');
    expect(list.map((s) => `${s.permission}:${s.objectId}`)).toEqual([
      'inquiry.read:inq_1',
      'verification.read:ver_1',
      'report.read:rep_1',
    ]);
  });

  it('drops duplicates, keeping the first occurrence and the order', () => {
    const list = parseScopes(
      'inquiry.read:inq_1 verification.read:ver_1 inquiry.read:inq_1 inquiry.read:inq_2 verification.read:ver_1',
    );
    expect(list.map((s) => `${s.permission}:${s.objectId}`)).toEqual([
      'inquiry.read:inq_1',
      'verification.read:ver_1',
      'inquiry.read:inq_2',
    ]);
  });

  it('treats the same permission on different objects, and different permissions on one object, as distinct', () => {
    expect(parseScopes('inquiry.read:inq_1 inquiry.write:inq_1 inquiry.read:inq_2')).toHaveLength(3);
  });

  it('is case-sensitive: differently cased entries are distinct', () => {
    const list = parseScopes('inquiry.read:inq_a Inquiry.Read:inq_a inquiry.read:INQ_A');
    expect(list.map((s) => s.permission)).toEqual(['inquiry.read', 'Inquiry.Read', 'inquiry.read']);
    expect(list.map((s) => s.objectId)).toEqual(['inq_a', 'inq_a', 'INQ_A']);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['empty string', ''],
    ['only spaces', '   '],
    ['only mixed whitespace', ' \t\r\n '],
  ])('returns [] for %s', (_name, input) => {
    expect(parseScopes(input)).toEqual([]);
  });

  it('returns fresh objects on every call', () => {
    const a = parseScopes('inquiry.read:inq_1');
    const b = parseScopes('inquiry.read:inq_1');
    expect(a).toEqual(b);
    expect(a[0]).not.toBe(b[0]);
  });

  it.each([
    ['no colon', 'inquiry.read'],
    ['no colon, bare id', 'inq_123'],
    ['empty object id', 'inquiry.read:'],
    ['permission without action', 'inquiry:inq_1'],
    ['permission without dot, arbitrary', 'inquiry:x'],
    ['empty resource', '.read:x'],
    ['empty action', 'inquiry.:x'],
    ['empty permission', ':inq_1'],
    ['two dots', 'inquiry.read.all:inq_1'],
    ['resource starting with a digit', '1inquiry.read:inq_1'],
    ['action starting with an underscore', 'inquiry._read:inq_1'],
    ['hyphen in the permission', 'api-log.read:req_1'],
    ['non-ASCII in the permission', 'inquiry.réad:inq_1'],
    ['non-ASCII in the object id', 'inquiry.read:inq_é'],
    ['non-breaking space inside an entry', 'inquiry.read:inq_1\u00a0verification.read:ver_1'],
    ['vertical tab inside an entry', 'inquiry.read:inq_1\u000bx'],
    ['NUL inside an entry', 'inquiry.read:inq\u00001'],
    ['a malformed entry after a good one', 'inquiry.read:inq_1 inquiry'],
  ])('throws a SyntaxError for %s', (_name, input) => {
    expectInvalidScope(input);
  });

  it('names the bad entry in the SyntaxError', () => {
    const error = expectInvalidScope('inquiry.read:inq_1 broken');
    expect(error.message).toBe('Invalid scope entry "broken": expected permission:object');
    expect(error.name).toBe('SyntaxError');
  });

  it('truncates a very long bad entry in the message', () => {
    const long = `x${'a'.repeat(5000)}`;
    const error = expectInvalidScope(long);
    expect(error.message.length).toBeLessThan(300);
  });

  it('rejects a non-string at runtime with a TypeError', () => {
    expect(() => parseScopes(42 as unknown as string)).toThrow(TypeError);
    expect(() => parseScopes({} as unknown as string)).toThrow(TypeError);
  });
});

describe('formatScopes', () => {
  it('joins entries with single spaces', () => {
    expect(
      formatScopes([
        { permission: 'inquiry.read', objectId: 'inq_1' },
        { permission: 'verification.read', objectId: 'ver_1' },
      ]),
    ).toBe('inquiry.read:inq_1 verification.read:ver_1');
  });

  it('formats an empty list as the empty string', () => {
    expect(formatScopes([])).toBe('');
  });

  it('drops duplicates', () => {
    expect(
      formatScopes([
        { permission: 'inquiry.read', objectId: 'inq_1' },
        { permission: 'inquiry.read', objectId: 'inq_1' },
      ]),
    ).toBe('inquiry.read:inq_1');
  });

  it('round-trips through parseScopes, normalising whitespace and duplicates', () => {
    const raw = '\tinquiry.read:inq_1   api_log.read:req_2:x\n inquiry.read:inq_1 ';
    const formatted = formatScopes(parseScopes(raw));
    expect(formatted).toBe('inquiry.read:inq_1 api_log.read:req_2:x');
    expect(formatScopes(parseScopes(formatted))).toBe(formatted);
    expect(parseScopes(formatted)).toEqual(parseScopes(raw));
  });

  it('accepts full PersonaScope objects (extra fields are ignored)', () => {
    const list: PersonaScope[] = parseScopes('report.read:rep_1');
    expect(formatScopes(list)).toBe('report.read:rep_1');
  });

  it.each([
    ['bad permission', { permission: 'inquiry', objectId: 'inq_1' }],
    ['empty object id', { permission: 'inquiry.read', objectId: '' }],
    ['whitespace in the object id', { permission: 'inquiry.read', objectId: 'inq 1' }],
    ['colon in the permission', { permission: 'inquiry:read', objectId: 'inq_1' }],
    ['non-ASCII object id', { permission: 'inquiry.read', objectId: 'ïnq' }],
  ])('throws a TypeError (bad caller input, not a Persona failure) for an entry with %s', (_name, entry) => {
    let caught: unknown;
    try {
      formatScopes([entry]);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect(caught).not.toHaveProperty('status');
    expect((caught as TypeError).message).toMatch(/^Invalid scope entry /);
  });
});

describe('hasScope', () => {
  const tokens = {
    scope: 'inquiry.read:inq_1 verification.read:ver_1',
    scopes: parseScopes('inquiry.read:inq_1 verification.read:ver_1'),
  };

  it('finds a granted permission on a given object in a token set', () => {
    expect(hasScope(tokens, 'inquiry.read', 'inq_1')).toBe(true);
    expect(hasScope(tokens, 'verification.read', 'ver_1')).toBe(true);
  });

  it('refuses a granted permission on another object', () => {
    expect(hasScope(tokens, 'inquiry.read', 'inq_2')).toBe(false);
    expect(hasScope(tokens, 'inquiry.read', 'ver_1')).toBe(false);
  });

  it('refuses a permission that was not granted', () => {
    expect(hasScope(tokens, 'inquiry.write', 'inq_1')).toBe(false);
    expect(hasScope(tokens, 'inquiry.write')).toBe(false);
    expect(hasScope(tokens, 'report.read')).toBe(false);
  });

  it('without objectId, matches the permission on any object', () => {
    expect(hasScope(tokens, 'inquiry.read')).toBe(true);
    expect(hasScope(tokens, 'verification.read')).toBe(true);
  });

  it('does not match on a prefix of the permission or object id', () => {
    expect(hasScope(tokens, 'inquiry', 'inq_1')).toBe(false);
    expect(hasScope(tokens, 'inquiry.rea', 'inq_1')).toBe(false);
    expect(hasScope(tokens, 'inquiry.read', 'inq_')).toBe(false);
    expect(hasScope(tokens, 'inquiry.read', 'inq_10')).toBe(false);
  });

  it('is case-sensitive in the permission and the object id', () => {
    expect(hasScope(tokens, 'Inquiry.read', 'inq_1')).toBe(false);
    expect(hasScope(tokens, 'INQUIRY.READ')).toBe(false);
    expect(hasScope(tokens, 'inquiry.read', 'INQ_1')).toBe(false);
  });

  it('reads a user that carries only a raw scope string', () => {
    const user = { scope: 'inquiry.read:inq_9 api_log.read:req_1' };
    expect(hasScope(user, 'inquiry.read', 'inq_9')).toBe(true);
    expect(hasScope(user, 'api_log.read')).toBe(true);
    expect(hasScope(user, 'inquiry.read', 'inq_1')).toBe(false);
  });

  it('falls back to the scope string when scopes is null', () => {
    expect(hasScope({ scopes: null, scope: 'inquiry.read:inq_1' }, 'inquiry.read', 'inq_1')).toBe(true);
  });

  it('prefers the parsed scopes list over the raw string', () => {
    expect(hasScope({ scopes: [], scope: 'inquiry.read:inq_1' }, 'inquiry.read')).toBe(false);
    expect(hasScope({ scopes: [{ permission: 'case.read', objectId: 'c_1' }], scope: '' }, 'case.read', 'c_1')).toBe(
      true,
    );
  });

  it('matches an object id that contains colons exactly', () => {
    const user = { scope: 'document.read:doc_1:page:2' };
    expect(hasScope(user, 'document.read', 'doc_1:page:2')).toBe(true);
    expect(hasScope(user, 'document.read', 'doc_1')).toBe(false);
  });

  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['a user with empty scope', { scope: '' }],
    ['a user with null scope', { scope: null }],
  ])('returns false for %s', (_name, holder) => {
    expect(hasScope(holder, 'inquiry.read')).toBe(false);
    expect(hasScope(holder, 'inquiry.read', 'inq_1')).toBe(false);
  });

  it('returns false (does not throw) for a malformed scope string', () => {
    expect(hasScope({ scope: 'inquiry.read:inq_1 garbage' }, 'inquiry.read', 'inq_1')).toBe(false);
    expect(hasScope({ scope: 'inquiry.read' }, 'inquiry.read')).toBe(false);
  });

  it('returns false for non-object holders and ignores junk entries in scopes', () => {
    expect(hasScope('inquiry.read:inq_1' as never, 'inquiry.read')).toBe(false);
    expect(hasScope(42 as never, 'inquiry.read')).toBe(false);
    const junk = { scopes: [null, 'inquiry.read:inq_1', 7] as never };
    expect(hasScope(junk, 'inquiry.read')).toBe(false);
  });
});
