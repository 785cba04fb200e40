import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { authorize, call, exchange, firstError } from './helpers.js';

describe('verifications: seeded, linked to their inquiries', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
  });
  afterEach(() => emu.close());

  it("seeds the steps the owner's inquiries ran: a government ID and a selfie per finished inquiry", () => {
    const { inquiries, verifications } = emu.owner;
    expect(verifications).toHaveLength(11);
    for (const verification of verifications) {
      expect(verification.id).toMatch(/^ver_[A-Za-z0-9]{24}$/);
      expect(inquiries.map((inquiry) => inquiry.id)).toContain(verification.inquiryId);
    }
    const approved = inquiries.find((inquiry) => inquiry.status === 'approved');
    const steps = verifications.filter((verification) => verification.inquiryId === approved?.id);
    expect(steps.map((step) => [step.type, step.status])).toEqual([
      ['government-id', 'passed'],
      ['selfie', 'passed'],
    ]);
    expect(steps[0]).toMatchObject({ nameFirst: approved?.nameFirst, nameLast: approved?.nameLast, idClass: 'dl' });
    const declined = inquiries.find((inquiry) => inquiry.status === 'declined');
    const failedId = verifications.find((v) => v.inquiryId === declined?.id && v.type === 'government-id');
    expect(failedId?.status).toBe('failed');
    expect(failedId?.checks?.find((check) => check.status === 'failed')?.name).toBe('id_tamper_detection');
    expect(emu.recipient.verifications).toHaveLength(1);
  });

  it('lists an inquiry verifications among its relationships', async () => {
    const inquiry = emu.owner.inquiries[0];
    const reply = await call(emu, `/api/v1/inquiries/${inquiry?.id}`, { key: emu.owner.apiKey });
    const ids = emu.owner.verifications.filter((v) => v.inquiryId === inquiry?.id).map((v) => v.id);
    expect(reply.json.data.relationships.verifications.data).toEqual([
      { type: 'verification/government-id', id: ids[0] },
      { type: 'verification/selfie', id: ids[1] },
    ]);
  });
});

describe('GET /api/v1/verifications/:id', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
  });
  afterEach(() => emu.close());

  const governmentId = (persona: PersonaEmulator) => {
    const found = persona.owner.verifications.find((v) => v.type === 'government-id' && v.status === 'passed');
    if (!found) throw new Error('no government ID');
    return found;
  };

  it("returns a JSON:API document linked to its inquiry, with the owner's API key", async () => {
    const verification = governmentId(emu);
    const reply = await call(emu, `/api/v1/verifications/${verification.id}`, { key: emu.owner.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.headers['persona-organization-id']).toBe(emu.owner.id);
    expect(reply.json.data).toEqual({
      type: 'verification/government-id',
      id: verification.id,
      attributes: {
        status: 'passed',
        'created-at': verification.createdAt,
        'submitted-at': verification.submittedAt,
        'completed-at': verification.completedAt,
        'country-code': 'US',
        checks: verification.checks,
        'id-class': 'dl',
        'name-first': verification.nameFirst,
        'name-last': verification.nameLast,
        birthdate: verification.birthdate,
      },
      relationships: {
        inquiry: { data: { type: 'inquiry', id: verification.inquiryId } },
        account: { data: { type: 'account', id: verification.accountId } },
      },
    });
    expect(reply.json.data.attributes.checks).toContainEqual({
      name: 'id_tamper_detection',
      status: 'passed',
      reasons: [],
      requirement: 'required',
    });
  });

  it('inflects keys, not values, and answers 404 for an id the key does not hold', async () => {
    const verification = governmentId(emu);
    const camel = await call(emu, `/api/v1/verifications/${verification.id}`, {
      key: emu.owner.apiKey,
      headers: { 'key-inflection': 'camel' },
    });
    expect(camel.json.data.attributes).toMatchObject({ idClass: 'dl', countryCode: 'US' });
    expect(camel.json.data.type).toBe('verification/government-id');
    const foreign = await call(emu, `/api/v1/verifications/${verification.id}`, { key: emu.recipient.apiKey });
    expect(foreign.status).toBe(404);
    expect(firstError(foreign).details).toBe(`Verification ${verification.id} was not found`);
  });

  it('opens to an access token whose scope grants verification.read on it, and to nothing else', async () => {
    const verification = governmentId(emu);
    const other = emu.owner.verifications.find((v) => v.id !== verification.id);
    const scope = `verification.read:${verification.id}`;
    const token = (await exchange(emu, emu.createAuthorization({ scope }).code)).json['access-token'];
    const read = await call(emu, `/api/v1/verifications/${verification.id}`, { key: token });
    expect(read.status).toBe(200);
    expect(read.headers['persona-organization-id']).toBe(emu.recipient.id);
    for (const path of [
      `/api/v1/verifications/${other?.id}`,
      '/api/v1/verifications/ver_doesnotexist',
      `/api/v1/inquiries/${verification.inquiryId}`,
    ]) {
      const refused = await call(emu, path, { key: token });
      expect(refused.status, path).toBe(403);
    }
  });

  it('shares inquiries and verifications in one authorization over HTTP', async () => {
    const verification = governmentId(emu);
    const scope = `inquiry.read:${verification.inquiryId} verification.read:${verification.id}`;
    const created = await authorize(emu, { 'client-id': emu.recipient.id, 'response-type': 'code', scope });
    expect(created.status).toBe(201);
    const token = await exchange(emu, created.json.code);
    expect(token.json.scope).toBe(scope);
    for (const path of [`/api/v1/inquiries/${verification.inquiryId}`, `/api/v1/verifications/${verification.id}`]) {
      expect((await call(emu, path, { key: token.json['access-token'] })).status, path).toBe(200);
    }
  });

  it('refuses to share a verification the owner does not hold, or under the wrong permission', async () => {
    const recipientVerification = emu.recipient.verifications[0]?.id;
    const foreign = await authorize(emu, {
      'client-id': emu.recipient.id,
      'response-type': 'code',
      scope: `verification.read:${recipientVerification}`,
    });
    expect(foreign.status).toBe(404);
    const wrong = await authorize(emu, {
      'client-id': emu.recipient.id,
      'response-type': 'code',
      scope: `inquiry.read:${governmentId(emu).id}`,
    });
    expect(wrong.status).toBe(422);
  });

  it('takes faults on the verification endpoint, and serves verifications added through the handle', async () => {
    const added = emu.addVerification(emu.owner.id, { type: 'selfie', status: 'failed', countryCode: 'CA' });
    emu.setFault('verification', { kind: 'status', status: 503 }, { times: 1 });
    const path = `/api/v1/verifications/${added.id}`;
    expect((await call(emu, path, { key: emu.owner.apiKey })).status).toBe(503);
    const reply = await call(emu, path, { key: emu.owner.apiKey });
    expect(reply.json.data).toMatchObject({
      type: 'verification/selfie',
      attributes: { status: 'failed', 'country-code': 'CA' },
      relationships: { inquiry: { data: null } },
    });
    expect(reply.json.data.attributes).not.toHaveProperty('id-class');
    added.status = 'passed';
    expect((await call(emu, path, { key: emu.owner.apiKey })).json.data.attributes.status).toBe('passed');
  });

  it('seeds the same verification ids for the same seed', async () => {
    const again = await startPersonaEmulator({ seed: 'verifications' });
    const once = await startPersonaEmulator({ seed: 'verifications' });
    try {
      expect(again.owner.verifications.map((v) => v.id)).toEqual(once.owner.verifications.map((v) => v.id));
    } finally {
      await again.close();
      await once.close();
    }
  });
});
