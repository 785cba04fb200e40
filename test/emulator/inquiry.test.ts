import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { call, exchange, firstError } from './helpers.js';

describe('GET /api/v1/inquiries/:id', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
  });
  afterEach(() => emu.close());

  const tokenFor = async (scope: string): Promise<string> => {
    const { code } = emu.createAuthorization({ scope });
    const reply = await exchange(emu, code);
    expect(reply.status).toBe(201);
    return reply.json['access-token'];
  };

  it("returns a JSON:API document with the owner's API key", async () => {
    const inquiry = emu.owner.inquiries[0];
    if (!inquiry) throw new Error('no inquiry');
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: emu.owner.apiKey });
    expect(reply.status).toBe(200);
    expect(reply.headers['persona-organization-id']).toBe(emu.owner.id);
    expect(reply.headers['persona-environment-id']).toBe(emu.environmentId);
    const { data } = reply.json;
    expect(data.type).toBe('inquiry');
    expect(data.id).toBe(inquiry.id);
    expect(data.attributes).toMatchObject({
      status: inquiry.status,
      'reference-id': inquiry.referenceId,
      'name-first': inquiry.nameFirst,
      'name-last': inquiry.nameLast,
      birthdate: inquiry.birthdate,
      'address-street-1': inquiry.addressStreet1,
      'address-country-code': inquiry.addressCountryCode,
      'created-at': inquiry.createdAt,
    });
    expect(data.relationships['inquiry-template'].data).toEqual({
      type: 'inquiry-template',
      id: inquiry.inquiryTemplateId,
    });
  });

  it('inflects attribute and relationship keys, not values', async () => {
    const id = emu.owner.inquiries[0]?.id ?? '';
    const snake = await call(emu, `/api/v1/inquiries/${id}`, {
      key: emu.owner.apiKey,
      headers: { 'key-inflection': 'snake' },
    });
    expect(Object.keys(snake.json.data.attributes)).toContain('address_street_1');
    expect(snake.json.data.relationships.inquiry_template.data.type).toBe('inquiry-template');
    const camel = await call(emu, `/api/v1/inquiries/${id}`, {
      key: emu.owner.apiKey,
      headers: { 'key-inflection': 'camel' },
    });
    expect(camel.json.data.attributes).toMatchObject({
      nameFirst: expect.any(String),
      addressStreet1: expect.any(String),
    });
    expect(Object.keys(camel.json.data.attributes)).not.toContain('name-first');
  });

  it('reflects changes made to the live inquiry object', async () => {
    const inquiry = emu.owner.inquiries[2];
    if (!inquiry) throw new Error('no inquiry');
    inquiry.status = 'approved';
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: emu.owner.apiKey });
    expect(reply.json.data.attributes.status).toBe('approved');
  });

  it('answers 404 for an unknown id and for another organisation’s inquiry read with an API key', async () => {
    expect((await call(emu, '/api/v1/inquiries/inq_doesNotExist12345', { key: emu.owner.apiKey })).status).toBe(404);
    const ownerInquiry = emu.owner.inquiries[0]?.id ?? '';
    const foreign = await call(emu, `/api/v1/inquiries/${ownerInquiry}`, { key: emu.recipient.apiKey });
    expect(foreign.status).toBe(404);
    expect(firstError(foreign).title).toBe('Record not found');
    const own = await call(emu, `/api/v1/inquiries/${emu.recipient.inquiries[0]?.id}`, { key: emu.recipient.apiKey });
    expect(own.status).toBe(200);
  });

  it('answers 401 without credentials or with a bad one', async () => {
    const id = emu.owner.inquiries[0]?.id ?? '';
    expect((await call(emu, `/api/v1/inquiries/${id}`)).status).toBe(401);
    expect((await call(emu, `/api/v1/inquiries/${id}`, { key: 'persona_access_token_nope' })).status).toBe(401);
  });

  it('lets a token read exactly the inquiries in its scope (403 for the rest, existing or not)', async () => {
    const [a, b, c] = emu.owner.inquiries;
    const token = await tokenFor(`inquiry.read:${a?.id} inquiry.read:${b?.id}`);
    expect((await call(emu, `/api/v1/inquiries/${a?.id}`, { key: token })).status).toBe(200);
    expect((await call(emu, `/api/v1/inquiries/${b?.id}`, { key: token })).status).toBe(200);
    expect((await call(emu, `/api/v1/inquiries/${c?.id}`, { key: token })).status).toBe(403);
    expect((await call(emu, '/api/v1/inquiries/inq_doesNotExist12345', { key: token })).status).toBe(403);
    expect((await call(emu, `/api/v1/inquiries/${emu.recipient.inquiries[0]?.id}`, { key: token })).status).toBe(403);
  });

  it('needs inquiry.read, not just any permission on the inquiry', async () => {
    const id = emu.owner.inquiries[0]?.id ?? '';
    const token = await tokenFor(`inquiry.write:${id}`);
    const reply = await call(emu, `/api/v1/inquiries/${id}`, { key: token });
    expect(reply.status).toBe(403);
  });

  it('answers 404 when an inquiry in scope has gone', async () => {
    const inquiry = emu.addInquiry(emu.owner.id, { nameFirst: 'Temp' });
    const token = await tokenFor(`inquiry.read:${inquiry.id}`);
    emu.owner.inquiries.splice(emu.owner.inquiries.indexOf(inquiry), 1);
    expect((await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: token })).status).toBe(404);
  });

  it('stops honouring a token after an hour on the emulated clock (401)', async () => {
    const id = emu.owner.inquiries[0]?.id ?? '';
    const token = await tokenFor(`inquiry.read:${id}`);
    emu.clock.advance(3_600_000 - 1);
    expect((await call(emu, `/api/v1/inquiries/${id}`, { key: token })).status).toBe(200);
    emu.clock.advance(1);
    const expired = await call(emu, `/api/v1/inquiries/${id}`, { key: token });
    expect(expired.status).toBe(401);
    expect(firstError(expired).details).toMatch(/expired/);
  });

  it('answers 405 to other methods and 404 to a malformed escape', async () => {
    const id = emu.owner.inquiries[0]?.id ?? '';
    const post = await call(emu, `/api/v1/inquiries/${id}`, { method: 'DELETE', key: emu.owner.apiKey });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET');
    expect((await call(emu, '/api/v1/inquiries/%E0%A4%A', { key: emu.owner.apiKey })).status).toBe(404);
  });
});
