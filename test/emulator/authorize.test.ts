import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { authorize, call, firstError, firstInquiry } from './helpers.js';

describe('POST /api/v1/oauth/authorize', () => {
  let emu: PersonaEmulator;
  let inq: string;
  beforeEach(async () => {
    emu = await startPersonaEmulator();
    inq = firstInquiry(emu);
  });
  afterEach(() => emu.close());

  const valid = (): Record<string, string> => ({
    'client-id': emu.recipient.id,
    'response-type': 'code',
    scope: `inquiry.read:${inq}`,
  });

  it('answers 201 with an unguessable code and its lifetime (600 s by default)', async () => {
    const first = await authorize(emu, valid());
    const second = await authorize(emu, valid());
    expect(first.status).toBe(201);
    expect(Object.keys(first.json).sort()).toEqual(['code', 'expires-in']);
    expect(first.json['expires-in']).toBe(600);
    // 32 random bytes in base64url: nothing a URL, a query string or a form would change.
    expect(first.json.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(encodeURIComponent(first.json.code)).toBe(first.json.code);
    expect(second.json.code).not.toBe(first.json.code);
  });

  it('uses codeTtlSeconds and the Key-Inflection header', async () => {
    await emu.close();
    emu = await startPersonaEmulator({ codeTtlSeconds: 90 });
    inq = firstInquiry(emu);
    const snake = await authorize(emu, valid(), { headers: { 'key-inflection': 'snake' } });
    expect(snake.json).toEqual({ code: expect.any(String), expires_in: 90 });
    const camel = await authorize(emu, valid(), { headers: { 'key-inflection': 'camel' } });
    expect(camel.json).toEqual({ code: expect.any(String), expiresIn: 90 });
  });

  it('accepts request keys in snake_case, camelCase and JSON bodies', async () => {
    const snake = await authorize(emu, {
      client_id: emu.recipient.id,
      response_type: 'code',
      scope: `inquiry.read:${inq}`,
    });
    expect(snake.status).toBe(201);
    const camel = await authorize(emu, {
      clientId: emu.recipient.id,
      responseType: 'code',
      scope: `inquiry.read:${inq}`,
    });
    expect(camel.status).toBe(201);
    const json = await call(emu, '/api/v1/oauth/authorize', {
      key: emu.owner.apiKey,
      json: { clientId: emu.recipient.id, responseType: 'code', scope: `inquiry.read:${inq}` },
    });
    expect(json.status).toBe(201);
  });

  it('needs a valid API key: 401 in Persona error form otherwise', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer nope' },
      { authorization: `Basic ${emu.owner.apiKey}` },
      { authorization: `Bearer ${emu.owner.apiKey} extra` },
    ];
    for (const headers of attempts) {
      const reply = await call(emu, '/api/v1/oauth/authorize', { form: valid(), headers });
      expect(reply.status).toBe(401);
      expect(firstError(reply).title).toMatch(/authenticated/);
      expect(reply.headers['ratelimit-limit']).toBeUndefined();
      expect(reply.headers['persona-organization-id']).toBeUndefined();
    }
  });

  it('refuses an access token in place of an API key (403)', async () => {
    const { code } = emu.createAuthorization({ scope: `inquiry.read:${inq}` });
    const token = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      form: { code, 'grant-type': 'authorization_code' },
    });
    const reply = await authorize(emu, valid(), { key: token.json['access-token'] });
    expect(reply.status).toBe(403);
  });

  it('defaults response-type to code when it is absent', async () => {
    const form = valid();
    delete form['response-type'];
    const reply = await authorize(emu, form);
    expect(reply.status).toBe(201);
    expect(reply.json.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('requires client-id and scope (400 with a pointer)', async () => {
    for (const name of ['client-id', 'scope']) {
      const form = valid();
      delete form[name];
      const reply = await authorize(emu, form);
      expect(reply.status, name).toBe(400);
      expect(firstError(reply).source?.pointer).toBe(`/${name}`);
    }
  });

  it('inflects the error pointer like the response keys', async () => {
    const form = valid();
    delete form['client-id'];
    const reply = await authorize(emu, form, { headers: { 'key-inflection': 'camel' } });
    expect(firstError(reply).source?.pointer).toBe('/clientId');
  });

  it('rejects a response-type other than code (400)', async () => {
    const reply = await authorize(emu, { ...valid(), 'response-type': 'token' });
    expect(reply.status).toBe(400);
    expect(firstError(reply).details).toMatch(/response-type/);
  });

  it('rejects an unknown client-id (404) and the caller itself (422)', async () => {
    const unknown = await authorize(emu, { ...valid(), 'client-id': 'org_doesNotExist123' });
    expect(unknown.status).toBe(404);
    const self = await authorize(emu, { ...valid(), 'client-id': emu.owner.id });
    expect(self.status).toBe(422);
  });

  it('rejects malformed scopes (400)', async () => {
    for (const scope of [
      '   ',
      'inquiry.read',
      `inquiry:${inq}`,
      `Inquiry.Read:${inq}`,
      `inquiry.read:${inq}:extra`,
      `inquiry.read:not an id`,
      `inquiry.read:`,
      Array.from({ length: 101 }, (_, i) => `inquiry.read:inq_n${i}`).join(' '),
    ]) {
      const reply = await authorize(emu, { ...valid(), scope });
      expect(reply.status, scope).toBe(400);
    }
  });

  it('rejects objects the caller does not own, with the same 404 as unknown ones', async () => {
    const theirs = emu.recipient.inquiries[0]?.id ?? '';
    const foreign = await authorize(emu, { ...valid(), scope: `inquiry.read:${theirs}` });
    const unknown = await authorize(emu, { ...valid(), scope: 'inquiry.read:inq_doesNotExist12345' });
    const unemulated = await authorize(emu, { ...valid(), scope: 'verification.read:ver_ynYuWdrjwwjiHJ2rgHfSoHeT' });
    const otherType = await authorize(emu, { ...valid(), scope: 'report.read:rep_ynYuWdrjwwjiHJ2rgHfSoHeT' });
    expect([foreign.status, unknown.status, unemulated.status, otherType.status]).toEqual([404, 404, 404, 404]);
    expect(firstError(foreign).title).toBe(firstError(unknown).title);
  });

  it('rejects a permission that does not fit the object (422)', async () => {
    const reply = await authorize(emu, { ...valid(), scope: `verification.read:${inq}` });
    expect(reply.status).toBe(422);
  });

  it('accepts several pairs, whitespace runs and duplicates, and binds the code to them', async () => {
    const [a, b] = emu.owner.inquiries;
    const scope = ` inquiry.read:${a?.id}\t inquiry.read:${b?.id}\ninquiry.read:${a?.id} `;
    const reply = await authorize(emu, { ...valid(), scope });
    expect(reply.status).toBe(201);
    const token = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      form: { code: reply.json.code, 'grant-type': 'authorization_code' },
    });
    expect(token.json.scope).toBe(`inquiry.read:${a?.id} inquiry.read:${b?.id}`);
  });

  it('lets any organisation authorize any other, for its own objects', async () => {
    const third = emu.addOrganization({ name: 'Third' });
    const mine = emu.addInquiry(third.id);
    const reply = await authorize(
      emu,
      { 'client-id': emu.owner.id, 'response-type': 'code', scope: `inquiry.read:${mine.id}` },
      { key: third.apiKey },
    );
    expect(reply.status).toBe(201);
  });
});
