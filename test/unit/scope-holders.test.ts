import { describe, expect, it } from 'vitest';
import { hasScope } from '../../src/index.js';
import { isSafeReturnTo } from '../../src/return-to.js';

// hasScope looks only into plain objects (a token set, a user), and isSafeReturnTo only lets
// through a path on this origin: the shapes at the edge of each rule.

const GRANT = { permission: 'inquiry.read', objectId: 'inq_1' };

describe('hasScope: what counts as a holder and as a scope', () => {
  it('a function carrying scopes is not a holder', () => {
    const holder = Object.assign(() => undefined, { scopes: [GRANT] });
    expect(hasScope(holder as never, 'inquiry.read', 'inq_1')).toBe(false);
    expect(hasScope({ scopes: [GRANT] }, 'inquiry.read', 'inq_1')).toBe(true);
  });

  it('a function in the scope list is not a scope, whatever properties it carries', () => {
    const scope = Object.assign(() => undefined, GRANT);
    expect(hasScope({ scopes: [scope as never] }, 'inquiry.read', 'inq_1')).toBe(false);
    expect(hasScope({ scopes: [scope as never, GRANT] }, 'inquiry.read', 'inq_1')).toBe(true);
  });
});

describe('isSafeReturnTo: a path on this origin only', () => {
  it.each(['inquiries/inq_1', 'x', '?tab=2', '#top', '//origin.invalid/inquiries', '//localhost/x', '///x'])(
    'refuses %j',
    (value) => {
      expect(isSafeReturnTo(value)).toBe(false);
    },
  );

  it.each(['/', '/inquiries/inq_1?tab=2#top', '/a.b/c..d/.e'])('accepts %j', (value) => {
    expect(isSafeReturnTo(value)).toBe(true);
  });
});
