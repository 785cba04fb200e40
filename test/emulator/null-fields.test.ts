import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { authorize, call, exchange, firstError, firstInquiry, readCode } from './helpers.js';

let emu: PersonaEmulator;
afterEach(() => emu.close());

describe('the null-fields fault (token endpoint)', () => {
  it('sends token-type, expires-in and scope as null by default; the token is real and the code used', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'null-fields' }, { times: 1 });
    const code = readCode(emu);
    const reply = await exchange(emu, code);
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({
      'access-token': expect.stringMatching(/^persona_access_token_/),
      'expires-in': null,
      scope: null,
      'token-type': null,
    });
    const inquiry = await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: reply.json['access-token'] });
    expect(inquiry.status).toBe(200);
    expect((await exchange(emu, code)).status).toBe(409);
  });

  it('spells the fields in the request inflection, and leaves them out with absent: true', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'null-fields', fields: ['expires-in', 'token-type'] });
    const snake = await exchange(emu, readCode(emu), { headers: { 'key-inflection': 'snake' } });
    expect(snake.json).toMatchObject({ expires_in: null, token_type: null, scope: expect.any(String) });
    emu.setFault('token', { kind: 'null-fields', absent: true });
    const camel = await exchange(emu, readCode(emu), { headers: { 'key-inflection': 'camel' } });
    expect(Object.keys(camel.json)).toEqual(['accessToken']);
  });

  it('can null the access token too', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'null-fields', fields: ['access-token'] });
    const reply = await exchange(emu, readCode(emu));
    expect(reply.json).toMatchObject({ 'access-token': null, 'expires-in': 3600, 'token-type': 'bearer' });
  });

  it('stores the nulled answer under the Idempotency-Key, as Persona answered it', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'null-fields' }, { times: 1 });
    const code = readCode(emu);
    const first = await exchange(emu, code, { headers: { 'idempotency-key': 'nulls-1' } });
    const replay = await exchange(emu, code, { headers: { 'idempotency-key': 'nulls-1' } });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.text).toBe(first.text);
  });

  it('never sends expires-in 0 itself; a status fault answers it as given', async () => {
    emu = await startPersonaEmulator({ tokenTtlSeconds: 1 });
    expect((await exchange(emu, readCode(emu))).json['expires-in']).toBe(1);
    const body = { 'access-token': 'persona_access_token_zero', 'expires-in': 0, scope: null, 'token-type': 'bearer' };
    emu.setFault('token', { kind: 'status', status: 201, body });
    const reply = await exchange(emu, readCode(emu));
    expect([reply.status, reply.json]).toEqual([201, body]);
  });

  it('leaves refusals alone', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'null-fields' });
    const reply = await exchange(emu, 'unknown');
    expect(reply.status).toBe(404);
    expect(firstError(reply).title).toBe('Record not found');
  });

  it('is refused on the object endpoints and with bad fields, on the handle and over the control API', async () => {
    emu = await startPersonaEmulator({ control: true });
    expect(() => emu.setFault('inquiry', { kind: 'null-fields' })).toThrow(/token and authorize endpoints only/);
    expect(() => emu.setFault('token', { kind: 'null-fields', fields: [] })).toThrow(TypeError);
    expect(() => emu.setFault('token', { kind: 'null-fields', fields: ['refresh-token' as 'scope'] })).toThrow(
      /non-empty list of access-token, expires-in, scope, token-type, code/,
    );
    expect(() => emu.setFault('token', { kind: 'null-fields', fields: ['code'] })).toThrow(/code is not a field/);
    expect(() => emu.setFault('authorize', { kind: 'null-fields', fields: ['scope'] })).toThrow(/scope is not a field/);
    const overHttp = await call(emu, '/__emulator/faults', {
      json: { endpoint: 'verification', fault: { kind: 'null-fields' } },
    });
    expect(overHttp.status).toBe(400);
    expect(firstError(overHttp).details).toMatch(/token and authorize endpoints only/);
    const ok = await call(emu, '/__emulator/faults', { json: { endpoint: 'token', fault: { kind: 'null-fields' } } });
    expect(ok.status).toBe(200);
    expect((await exchange(emu, readCode(emu))).json['token-type']).toBeNull();
  });
});

describe('the null-fields fault (authorize endpoint)', () => {
  const form = (emulator: PersonaEmulator) => ({
    'client-id': emulator.recipient.id,
    'response-type': 'code',
    scope: `inquiry.read:${firstInquiry(emulator)}`,
  });

  it('sends expires-in as null by default; the code is real and redeemable', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('authorize', { kind: 'null-fields' }, { times: 1 });
    const reply = await authorize(emu, form(emu), { headers: { 'key-inflection': 'snake' } });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({ code: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_in: null });
    expect((await exchange(emu, reply.json.code)).status).toBe(201);
  });

  it('can null the code, or leave both fields out with absent: true', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('authorize', { kind: 'null-fields', fields: ['code'] }, { times: 1 });
    expect((await authorize(emu, form(emu))).json).toEqual({ code: null, 'expires-in': 600 });
    emu.setFault('authorize', { kind: 'null-fields', fields: ['code', 'expires-in'], absent: true }, { times: 1 });
    expect((await authorize(emu, form(emu))).json).toEqual({});
  });
});
