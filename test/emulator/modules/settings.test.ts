import { describe, expect, it } from 'vitest';
import { readSettings } from '../../../src/testing/settings.js';
import { KNOWN_PERSONA_VERSIONS } from '../../../src/testing/versions.js';

describe('readSettings', () => {
  it('fills in the documented defaults', () => {
    const settings = readSettings({ now: 1000 });
    expect(settings).toMatchObject({
      rateLimit: 300,
      codeTtlMs: 600_000,
      tokenTtlMs: 3_600_000,
      idempotencyTtlMs: 86_400_000,
      maxBodyBytes: 65_536,
      start: 1000,
      control: false,
      freezeClock: false,
    });
    expect([...settings.versions]).toEqual([...KNOWN_PERSONA_VERSIONS]);
  });

  it('converts seconds to milliseconds', () => {
    expect(readSettings({ codeTtlSeconds: 2, tokenTtlSeconds: 3, idempotencyTtlSeconds: 4 })).toMatchObject({
      codeTtlMs: 2000,
      tokenTtlMs: 3000,
      idempotencyTtlMs: 4000,
    });
  });

  it.each([
    ['rateLimit', { rateLimit: 0 }],
    ['codeTtlSeconds', { codeTtlSeconds: 1.5 }],
    ['tokenTtlSeconds', { tokenTtlSeconds: -1 }],
    ['idempotencyTtlSeconds', { idempotencyTtlSeconds: Number.NaN }],
    ['maxBodyBytes', { maxBodyBytes: 0 }],
    ['now', { now: Number.POSITIVE_INFINITY }],
    ['maxRecordedRequests', { maxRecordedRequests: -1 }],
    ['maxRecordedRequests', { maxRecordedRequests: 2.5 }],
  ])('refuses a bad %s with a RangeError naming it', (name, options) => {
    expect(() => readSettings(options)).toThrow(new RegExp(name));
    expect(() => readSettings(options)).toThrow(RangeError);
  });
});
