import { describe, expect, it } from 'vitest';
import { createClock } from '../../../src/testing/clock.js';
import { seededRandom } from '../../../src/testing/random.js';
import { ObjectRegistry } from '../../../src/testing/registry.js';
import { OWNER_INQUIRIES } from '../../../src/testing/seed-data.js';

const START = Date.UTC(2025, 0, 1);
const registry = (seed = 'r'): ObjectRegistry => new ObjectRegistry(seededRandom(seed), createClock(START, true));

describe('ObjectRegistry organisations', () => {
  it('gives an organisation an org_ id and a persona_sandbox_ key, and finds it by either', () => {
    const r = registry();
    const org = r.addOrganization({ name: 'A' });
    expect(org).toEqual({
      id: expect.stringMatching(/^org_[A-Za-z0-9]{24}$/),
      name: 'A',
      apiKey: expect.stringMatching(/^persona_sandbox_[0-9a-f-]{36}$/),
      inquiries: [],
      verifications: [],
    });
    expect(r.organization(org.id)).toBe(org);
    expect(r.byApiKey(org.apiKey)).toBe(org);
    expect(r.addOrganization().name).toBe('Organization 2');
  });

  it('refuses an empty, spaced or taken API key', () => {
    const r = registry();
    r.addOrganization({ apiKey: 'key_1' });
    expect(() => r.addOrganization({ apiKey: '' })).toThrow(TypeError);
    expect(() => r.addOrganization({ apiKey: 'a b' })).toThrow(TypeError);
    expect(() => r.addOrganization({ apiKey: 'key_1' })).toThrow(/already used/);
  });

  it('gives the same ids and keys for the same seed', () => {
    const a = registry('same').addOrganization();
    const b = registry('same').addOrganization();
    expect(b).toEqual(a);
    expect(registry('other').addOrganization().apiKey).not.toBe(a.apiKey);
  });
});

describe('ObjectRegistry inquiries', () => {
  it('fills an inquiry with defaults, the organisation template and the clock', () => {
    const r = registry();
    const org = r.addOrganization();
    const inquiry = r.addInquiry(org.id);
    expect(inquiry).toMatchObject({
      status: 'approved',
      nameFirst: 'Alex',
      nameLast: 'Rivera',
      createdAt: new Date(START).toISOString(),
      completedAt: new Date(START).toISOString(),
      tags: [],
    });
    expect(inquiry.id).toMatch(/^inq_/);
    expect(r.addInquiry(org.id).inquiryTemplateId).toBe(inquiry.inquiryTemplateId);
    expect(r.addInquiry(org.id, { status: 'pending' }).completedAt).toBeNull();
    expect(r.holdsAnywhere(inquiry.id)).toBe(true);
    expect(r.holdsAnywhere('inq_nobody')).toBe(false);
  });

  it('refuses an unknown organisation, a malformed id and a taken one', () => {
    const r = registry();
    const org = r.addOrganization();
    r.addInquiry(org.id, { id: 'inq_taken' });
    expect(() => r.addInquiry('org_nobody')).toThrow(/no organization/);
    expect(() => r.addInquiry(org.id, { id: 'ver_abc' })).toThrow(TypeError);
    expect(() => r.addInquiry(org.id, { id: 'inq_taken' })).toThrow(/already exists/);
  });

  it('seeds an inquiry with times counted back from the start', () => {
    const r = registry();
    const org = r.addOrganization();
    const seed = OWNER_INQUIRIES[0];
    if (!seed) throw new Error('no seed');
    r.seedInquiry(org, seed, START);
    const created = START - seed.ageHours * 3_600_000;
    expect(org.inquiries[0]).toMatchObject({
      nameFirst: seed.nameFirst,
      createdAt: new Date(created).toISOString(),
      completedAt: new Date(created + (seed.completedAfterMinutes ?? 0) * 60_000).toISOString(),
    });
  });
});

describe('ObjectRegistry verifications', () => {
  it('fills a verification with defaults: a passed government ID on its own, created, submitted and completed now', () => {
    const r = registry();
    const org = r.addOrganization();
    const verification = r.addVerification(org.id);
    const now = new Date(START).toISOString();
    expect(verification).toEqual({
      id: expect.stringMatching(/^ver_[A-Za-z0-9]{24}$/),
      type: 'government-id',
      status: 'passed',
      inquiryId: null,
      createdAt: now,
      submittedAt: now,
      completedAt: now,
      countryCode: null,
      checks: [],
    });
    expect(org.verifications).toEqual([verification]);
    expect(r.addVerification(org.id, { status: 'initiated' })).toMatchObject({ submittedAt: null, completedAt: null });
  });

  it('links to an inquiry of the same organisation only, and keeps ids unique across types', () => {
    const r = registry();
    const org = r.addOrganization();
    const other = r.addOrganization();
    const inquiry = r.addInquiry(org.id, { id: 'inq_mine' });
    r.addInquiry(other.id, { id: 'inq_theirs' });
    expect(r.addVerification(org.id, { inquiryId: inquiry.id }).inquiryId).toBe('inq_mine');
    expect(() => r.addVerification(org.id, { inquiryId: 'inq_theirs' })).toThrow(/not one of/);
    r.addVerification(org.id, { id: 'ver_taken' });
    expect(() => r.addVerification(other.id, { id: 'ver_taken' })).toThrow(/already exists/);
    expect(() => r.addVerification(org.id, { id: 'inq_x' })).toThrow(TypeError);
    expect(() => r.addVerification(org.id, { type: 'Government ID' })).toThrow(TypeError);
    expect(() => r.addVerification('org_nobody')).toThrow(/no organization/);
  });

  it('seeds a verification on an inquiry, copying its name and birthdate onto a government ID', () => {
    const r = registry();
    const org = r.addOrganization();
    const seed = OWNER_INQUIRIES[0];
    if (!seed) throw new Error('no seed');
    r.seedInquiry(org, seed, START);
    r.seedVerification(org, {
      inquiryIndex: 0,
      type: 'government-id',
      status: 'passed',
      idClass: 'dl',
      submittedAfterMinutes: 2,
      completedAfterMinutes: 3,
    });
    const inquiry = org.inquiries[0];
    const created = Date.parse(inquiry?.createdAt ?? '') + 60_000;
    expect(org.verifications[0]).toMatchObject({
      inquiryId: inquiry?.id,
      nameFirst: seed.nameFirst,
      birthdate: seed.birthdate,
      createdAt: new Date(created).toISOString(),
      submittedAt: new Date(created + 120_000).toISOString(),
      completedAt: new Date(created + 180_000).toISOString(),
    });
    const missing = {
      inquiryIndex: 9,
      type: 'selfie',
      status: 'passed',
      submittedAfterMinutes: null,
      completedAfterMinutes: null,
    };
    expect(() => r.seedVerification(org, missing)).toThrow(/no inquiry #9/);
  });
});
