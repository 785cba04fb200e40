import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/testing/auth.js';
import { inquiryDocument, retrieveInquiry } from '../../../src/testing/inquiry-endpoint.js';
import { world } from './fixtures.js';

describe('retrieveInquiry', () => {
  it('lets an API key read its own inquiries only (404 for any other)', () => {
    const { state, owner } = world();
    const principal: Principal = { kind: 'api-key', credential: owner.apiKey, org: owner };
    expect(retrieveInquiry(state.registry, 'inq_owner1', principal, 'kebab').status).toBe(200);
    expect(retrieveInquiry(state.registry, 'inq_recipient1', principal, 'kebab').status).toBe(404);
  });

  it('lets a token read what its scope grants, 403 for anything else, existing or not', () => {
    const { state, owner, recipient } = world();
    const token = {
      orgId: recipient.id,
      ownerOrgId: owner.id,
      scopes: ['inquiry.read:inq_owner1'],
      expiresAt: Number.MAX_SAFE_INTEGER,
    };
    const principal: Principal = { kind: 'access-token', credential: 't', org: recipient, token };
    const ok = retrieveInquiry(state.registry, 'inq_owner1', principal, 'camel');
    expect(JSON.parse(ok.body).data.attributes.nameFirst).toBe('Alex');
    expect(retrieveInquiry(state.registry, 'inq_owner2', principal, 'kebab').status).toBe(403);
    expect(retrieveInquiry(state.registry, 'inq_nobody', principal, 'kebab').status).toBe(403);
    owner.inquiries.splice(0, 1);
    expect(retrieveInquiry(state.registry, 'inq_owner1', principal, 'kebab').status).toBe(404);
  });
});

describe('inquiryDocument', () => {
  it('is a JSON:API document with every attribute, null when unknown', () => {
    const { owner } = world();
    const inquiry = owner.inquiries[0];
    if (!inquiry) throw new Error('no inquiry');
    expect(inquiryDocument(inquiry)).toEqual({
      data: {
        type: 'inquiry',
        id: 'inq_owner1',
        attributes: expect.objectContaining({
          status: 'approved',
          'name-middle': null,
          'address-country-code': null,
          tags: [],
        }),
        relationships: {
          'inquiry-template': { data: { type: 'inquiry-template', id: inquiry.inquiryTemplateId } },
          reports: { data: [] },
          verifications: { data: [] },
        },
      },
    });
  });
});
