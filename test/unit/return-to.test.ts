import { describe, expect, it } from 'vitest';
import { isSafeReturnTo } from '../../src/return-to.js';

describe('isSafeReturnTo', () => {
  it.each([
    '/',
    '/profile',
    '/a?b=c#d',
    '/inquiries/inq_1?tab=2',
    '/a/b/c/',
    '/search?q=a%20b&x=%3F',
    '/path;params',
    '/~user/',
    '/#fragment',
    '/?only=query',
    `/${'a'.repeat(2047)}`,
  ])('accepts %j', (value) => {
    expect(isSafeReturnTo(value)).toBe(true);
  });

  it.each([
    ['protocol-relative', '//evil.com'],
    ['protocol-relative with path', '//evil.com/path'],
    ['three slashes', '///evil.com'],
    ['slash backslash', '/\\evil.com'],
    ['backslash slash', '\\/evil.com'],
    ['double backslash', '\\\\evil.com'],
    ['backslash later in the path', '/a\\b'],
    ['https URL', 'https://x'],
    ['http URL', 'http://evil.com/'],
    ['javascript: scheme', 'javascript:alert(1)'],
    ['data: scheme', 'data:text/html,hi'],
    ['encoded double slash', '/%2F%2Fevil'],
    ['encoded double slash, lower case', '/%2f%2fevil'],
    ['encoded backslash', '/%5cevil'],
    ['encoded backslash, upper case', '/%5Cevil'],
    ['encoded slash inside the path', '/a%2fb'],
    ['leading space', ' /x'],
    ['trailing space', '/x '],
    ['space inside', '/a b'],
    ['tab after the slash', '/\t/evil'],
    ['newline after the slash', '/\n/evil'],
    ['carriage return', '/\r/evil'],
    ['NUL', '/a\u0000'],
    ['DEL', '/a\u007f'],
    ['non-ASCII', '/café'],
    ['fullwidth solidus', '/\uff0fevil.com'],
    ['empty', ''],
    ['2049 characters', `/${'a'.repeat(2048)}`],
    ['a relative path', 'relative/path'],
    ['a dot path', './x'],
    ['a query only', '?x=1'],
    ['a fragment only', '#x'],
  ])('refuses %s (%j)', (_name, value) => {
    expect(isSafeReturnTo(value)).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['an array', ['/x']],
    ['an object', { toString: () => '/x' }],
    ['a URL object', new URL('https://app.example/x')],
  ])('refuses %s', (_name, value) => {
    expect(isSafeReturnTo(value)).toBe(false);
  });

  it.each([
    '/./x',
    '/../x',
    '/.//evil.com',
    '/..//evil.com',
    '/x/..//evil.com',
    '/%2e%2e//x',
    '/x/.',
    '/x/..?a',
    '/x/..#a',
  ])('refuses the dot-segment path %s', (value) => {
    expect(isSafeReturnTo(value)).toBe(false);
  });

  it('keeps every accepted example on the same origin', () => {
    for (const value of ['/', '/profile', '/a?b=c#d', '/a.b/c..d', '/x?next=/../y']) {
      expect(isSafeReturnTo(value)).toBe(true);
      expect(new URL(value, 'https://app.example').origin).toBe('https://app.example');
    }
  });
});
