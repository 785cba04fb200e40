import { describe, expect, it } from 'vitest';
import { checkScope } from '../../../src/testing/scope-check.js';
import { world } from './fixtures.js';

const { owner } = world();

describe('checkScope', () => {
  it('accepts the owner objects, splitting on whitespace runs and dropping duplicates', () => {
    expect(
      checkScope(' inquiry.read:inq_owner1\t inquiry.read:inq_owner2 inquiry.read:inq_owner1 ', owner, 'kebab'),
    ).toEqual({
      ok: true,
      scopes: ['inquiry.read:inq_owner1', 'inquiry.read:inq_owner2'],
    });
  });

  it.each([
    ['an empty list', '   '],
    ['a missing object', 'inquiry.read'],
    ['an upper-case permission', 'Inquiry.read:inq_owner1'],
    ['a malformed object id', 'inquiry.read:owner1'],
    ['over 100 entries', Array.from({ length: 101 }, (_, i) => `inquiry.read:inq_${i}`).join(' ')],
  ])('answers 400 for %s, pointing at the scope in the caller inflection', (_name, raw) => {
    const result = checkScope(raw, owner, 'snake');
    expect(result).toMatchObject({ ok: false, status: 400, error: { pointer: '/scope' } });
  });

  it('answers 404 for an object that is not the owner, whoever holds it', () => {
    for (const raw of ['inquiry.read:inq_recipient1', 'inquiry.read:inq_nobody']) {
      expect(checkScope(raw, owner, 'kebab')).toMatchObject({
        ok: false,
        status: 404,
        error: { title: 'Record not found' },
      });
    }
  });

  it('accepts the owner verifications next to its inquiries', () => {
    expect(checkScope('inquiry.read:inq_owner1 verification.read:ver_owner1', owner, 'kebab')).toEqual({
      ok: true,
      scopes: ['inquiry.read:inq_owner1', 'verification.read:ver_owner1'],
    });
  });

  it('answers 404 for an id of a type the emulator does not hold', () => {
    expect(checkScope('report.read:rep_abc', owner, 'kebab')).toMatchObject({ ok: false, status: 404 });
  });

  it('answers 422 for a permission that does not fit its object', () => {
    expect(checkScope('verification.read:inq_owner1', owner, 'kebab')).toMatchObject({ ok: false, status: 422 });
    expect(checkScope('inquiry.read:ver_owner1', owner, 'kebab')).toMatchObject({ ok: false, status: 422 });
  });
});
