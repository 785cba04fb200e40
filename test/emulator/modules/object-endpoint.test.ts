import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/testing/auth.js';
import { INQUIRY, inquiryDocument } from '../../../src/testing/inquiry-type.js';
import { retrieveObject } from '../../../src/testing/object-endpoint.js';
import { VERIFICATION } from '../../../src/testing/verification-type.js';
import { world } from './fixtures.js';

describe('retrieveObject', () => {
  it('lets an API key read its own objects only (404 for any other)', () => {
    const { state, owner } = world();
    const principal: Principal = { kind: 'api-key', credential: owner.apiKey, org: owner };
    expect(retrieveObject(state.registry, INQUIRY, 'inq_owner1', principal, 'kebab').status).toBe(200);
    expect(retrieveObject(state.registry, VERIFICATION, 'ver_owner1', principal, 'kebab').status).toBe(200);
    const foreign = retrieveObject(state.registry, INQUIRY, 'inq_recipient1', principal, 'kebab');
    expect([foreign.status, JSON.parse(foreign.body).errors[0].details]).toEqual([
      404,
      'Inquiry inq_recipient1 was not found',
    ]);
    // The right id under the wrong type's path is not found either.
    expect(retrieveObject(state.registry, VERIFICATION, 'inq_owner1', principal, 'kebab').status).toBe(404);
  });

  it('lets a token read what its scope grants, per type, and answers 403 for anything else, existing or not', () => {
    const { state, owner, recipient } = world();
    const token = {
      orgId: recipient.id,
      ownerOrgId: owner.id,
      scopes: ['inquiry.read:inq_owner1', 'verification.read:ver_owner1'],
      expiresAt: Number.MAX_SAFE_INTEGER,
    };
    const principal: Principal = { kind: 'access-token', credential: 't', org: recipient, token };
    const ok = retrieveObject(state.registry, INQUIRY, 'inq_owner1', principal, 'camel');
    expect(JSON.parse(ok.body).data.attributes.nameFirst).toBe('Alex');
    expect(retrieveObject(state.registry, VERIFICATION, 'ver_owner1', principal, 'kebab').status).toBe(200);
    expect(retrieveObject(state.registry, INQUIRY, 'inq_owner2', principal, 'kebab').status).toBe(403);
    expect(retrieveObject(state.registry, INQUIRY, 'inq_nobody', principal, 'kebab').status).toBe(403);
    // verification.read does not open the verification under the inquiry path, nor the reverse.
    const crossed = retrieveObject(state.registry, VERIFICATION, 'inq_owner1', principal, 'kebab');
    expect(JSON.parse(crossed.body).errors[0].details).toBe(
      "The access token's scope does not grant verification.read on inq_owner1",
    );
    owner.inquiries.splice(0, 1);
    expect(retrieveObject(state.registry, INQUIRY, 'inq_owner1', principal, 'kebab').status).toBe(404);
  });
});

describe('inquiryDocument', () => {
  it('is a JSON:API document with every attribute, null when unknown, and its verifications', () => {
    const { owner } = world();
    const inquiry = owner.inquiries[0];
    if (!inquiry) throw new Error('no inquiry');
    expect(inquiryDocument(inquiry, owner)).toEqual({
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
          verifications: { data: [{ type: 'verification/government-id', id: 'ver_owner1' }] },
        },
      },
    });
  });
});
