// Reading shared objects as Persona's Retrieve endpoints answer them: with an expired token,
// with `include` and `fields[…]`, the verification's `account`, and a token where only an API
// key will do.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { authorize, call, exchange, firstError } from './helpers.js';

let emu: PersonaEmulator;
beforeEach(async () => {
  emu = await startPersonaEmulator({ freezeClock: true });
});
afterEach(() => emu.close());

/** The owner's first inquiry and its verifications. */
function firstInquiryWithSteps() {
  const inquiry = emu.owner.inquiries[0];
  if (!inquiry) throw new Error('no inquiry');
  const steps = emu.owner.verifications.filter((v) => v.inquiryId === inquiry.id);
  return { inquiry, steps };
}

async function tokenFor(scope: string): Promise<string> {
  const reply = await exchange(emu, emu.createAuthorization({ scope }).code);
  return reply.json['access-token'] as string;
}

const ownerRead = (path: string, headers: Record<string, string> = {}) =>
  call(emu, path, { key: emu.owner.apiKey, headers });

describe('an access token past its hour', () => {
  it('gets 401 on either object type, with WWW-Authenticate: Bearer', async () => {
    const { inquiry, steps } = firstInquiryWithSteps();
    const verification = steps[0]?.id ?? '';
    const token = await tokenFor(`inquiry.read:${inquiry.id} verification.read:${verification}`);
    emu.clock.advance(3_600_000);
    for (const path of [`/api/v1/inquiries/${inquiry.id}`, `/api/v1/verifications/${verification}`]) {
      const reply = await call(emu, path, { key: token });
      expect(reply.status, path).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('Bearer');
      expect(firstError(reply).details).toMatch(/expired/);
    }
  });
});

describe('an access token on the OAuth endpoints', () => {
  it('is refused with 403 on Create Authorization and Create Access Token alike', async () => {
    const { inquiry } = firstInquiryWithSteps();
    const token = await tokenFor(`inquiry.read:${inquiry.id}`);
    const form = { 'client-id': emu.recipient.id, scope: `inquiry.read:${inquiry.id}` };
    const asOwner = await authorize(emu, form, { key: token });
    const asRecipient = await exchange(emu, emu.createAuthorization({ scope: `inquiry.read:${inquiry.id}` }).code, {
      key: token,
    });
    for (const reply of [asOwner, asRecipient]) {
      expect(reply.status).toBe(403);
      expect(firstError(reply).details).toMatch(/use an API key/);
    }
  });
});

describe('include', () => {
  it('adds the related resources it names under included, and no included key without it', async () => {
    const { inquiry, steps } = firstInquiryWithSteps();
    const plain = await ownerRead(`/api/v1/inquiries/${inquiry.id}`);
    expect(plain.json).not.toHaveProperty('included');
    const withSteps = await ownerRead(`/api/v1/inquiries/${inquiry.id}?include=verifications`);
    expect(withSteps.json.included.map((r: { id: string }) => r.id)).toEqual(steps.map((v) => v.id));
    expect(withSteps.json.included[0]).toMatchObject({ type: `verification/${steps[0]?.type}`, attributes: {} });
    const none = await ownerRead(`/api/v1/inquiries/${inquiry.id}?include=`);
    expect(none.json.included).toEqual([]);
    const back = await ownerRead(`/api/v1/verifications/${steps[0]?.id}?include=inquiry,account`);
    expect(back.json.included).toEqual([plain.json.data]);
  });

  it('reads relationship names in any inflection, and answers included keys in the asked one', async () => {
    const { inquiry } = firstInquiryWithSteps();
    const reply = await ownerRead(`/api/v1/inquiries/${inquiry.id}?include=inquiry_template,verifications`, {
      'key-inflection': 'snake',
    });
    expect(reply.status).toBe(200);
    expect(reply.json.included[0].attributes).toHaveProperty('created_at');
  });

  it('refuses a name that is no relationship of the resource, nested paths included (400)', async () => {
    const { inquiry } = firstInquiryWithSteps();
    for (const include of ['sessions', 'verifications.inquiry', 'verifications,,']) {
      const reply = await ownerRead(`/api/v1/inquiries/${inquiry.id}?include=${include}`);
      expect(reply.status, include).toBe(400);
      expect(firstError(reply).source?.pointer).toBe('/include');
    }
  });

  it('gives an access token only the related resources its scope grants', async () => {
    const { inquiry, steps } = firstInquiryWithSteps();
    const shared = steps[0]?.id ?? '';
    const token = await tokenFor(`inquiry.read:${inquiry.id} verification.read:${shared}`);
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}?include=verifications`, { key: token });
    expect(reply.json.data.relationships.verifications.data).toHaveLength(steps.length);
    expect(reply.json.included.map((r: { id: string }) => r.id)).toEqual([shared]);
  });
});

describe('fields[<type>]', () => {
  it('keeps only the named attributes of that type, in data and included; relationships stay', async () => {
    const { inquiry, steps } = firstInquiryWithSteps();
    const reply = await ownerRead(
      `/api/v1/inquiries/${inquiry.id}?include=verifications&fields[inquiry]=status,nameFirst,no-such&fields[verification]=status`,
    );
    expect(reply.json.data.attributes).toEqual({ status: inquiry.status, 'name-first': inquiry.nameFirst });
    expect(Object.keys(reply.json.data.relationships)).toContain('verifications');
    for (const resource of reply.json.included) expect(Object.keys(resource.attributes)).toEqual(['status']);
    const exact = await ownerRead(
      `/api/v1/verifications/${steps[0]?.id}?fields[verification/government-id]=country-code`,
    );
    expect(exact.json.data.attributes).toEqual({ 'country-code': steps[0]?.countryCode });
    const other = await ownerRead(`/api/v1/inquiries/${inquiry.id}?fields[verification]=status`);
    expect(other.json.data.attributes).toHaveProperty('reference-id');
  });
  it('reads a camelCase field name with a digit as the kebab-case attribute it spells', async () => {
    const { inquiry } = firstInquiryWithSteps();
    const reply = await ownerRead(`/api/v1/inquiries/${inquiry.id}?fields[inquiry]=addressStreet1,address_city`);
    expect(reply.json.data.attributes).toEqual({
      'address-street-1': inquiry.addressStreet1,
      'address-city': inquiry.addressCity,
    });
  });
});

describe("a verification's account", () => {
  it('is a relationship: shared by the seeded steps of one inquiry, null unless given to an added one', async () => {
    const { steps } = firstInquiryWithSteps();
    const accounts = [];
    for (const step of steps) {
      const reply = await ownerRead(`/api/v1/verifications/${step.id}`);
      accounts.push(reply.json.data.relationships.account.data);
    }
    expect(accounts[0]).toEqual({ type: 'account', id: expect.stringMatching(/^act_[A-Za-z0-9]{24}$/) });
    expect(new Set(accounts.map((account) => account.id)).size).toBe(1);
    const loose = emu.addVerification(emu.owner.id);
    const looseReply = await ownerRead(`/api/v1/verifications/${loose.id}`);
    expect(looseReply.json.data.relationships.account).toEqual({ data: null });
    const linked = emu.addVerification(emu.owner.id, { accountId: 'act_given123' });
    const linkedReply = await ownerRead(`/api/v1/verifications/${linked.id}`);
    expect(linkedReply.json.data.relationships.account.data).toEqual({ type: 'account', id: 'act_given123' });
  });
});
