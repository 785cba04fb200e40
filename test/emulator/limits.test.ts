import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { call, exchange, firstError, firstInquiry, readCode } from './helpers.js';

let emu: PersonaEmulator;
afterEach(() => emu.close());

const read = (persona: PersonaEmulator, key: string) =>
  call(persona, `/api/v1/inquiries/${firstInquiry(persona)}`, { key });

describe('an API key with a rate limit of its own', () => {
  it('counts against its own limit: the RateLimit headers report it, and a 429 names it', async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
    emu.recipient.apiKeyRateLimit = 2;
    const first = await exchange(emu, readCode(emu));
    expect([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining']]).toEqual(['2', '1']);
    await exchange(emu, readCode(emu));
    const limited = await exchange(emu, readCode(emu));
    expect(limited.status).toBe(429);
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(firstError(limited).details).toMatch(/this API key's 2 requests/);
    // Another key shares only the environment's limit, which counted all three.
    const owner = await read(emu, emu.owner.apiKey);
    expect(owner.status).toBe(200);
    expect([owner.headers['ratelimit-limit'], owner.headers['ratelimit-remaining']]).toEqual(['300', '296']);
  });

  it("reports the environment's limit when it is the closer one, and refuses with it", async () => {
    emu = await startPersonaEmulator({ freezeClock: true, rateLimit: 4 });
    const limited = emu.addOrganization({ name: 'Limited', apiKeyRateLimit: 10 });
    emu.addInquiry(limited.id, { id: 'inq_limited' });
    for (let i = 0; i < 3; i += 1) await read(emu, emu.owner.apiKey);
    const own = await call(emu, '/api/v1/inquiries/inq_limited', { key: limited.apiKey });
    expect([own.headers['ratelimit-limit'], own.headers['ratelimit-remaining']]).toEqual(['4', '0']);
    const refused = await call(emu, '/api/v1/inquiries/inq_limited', { key: limited.apiKey });
    expect(refused.status).toBe(429);
    expect(firstError(refused).details).toMatch(/the environment's 4 requests/);
  });

  it('leaves access tokens to the environment limit, and resets with resetRateLimit()', async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
    emu.recipient.apiKeyRateLimit = 1;
    const token = (await exchange(emu, readCode(emu))).json['access-token'];
    for (let i = 0; i < 3; i += 1) {
      const reply = await read(emu, token);
      expect(reply.status).toBe(200);
      expect(reply.headers['ratelimit-limit']).toBe('300');
    }
    expect((await exchange(emu, readCode(emu))).status).toBe(429);
    emu.resetRateLimit();
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('does not store a 429 of the key limit under the Idempotency-Key: the retry after the window runs', async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
    emu.recipient.apiKeyRateLimit = 1;
    await exchange(emu, readCode(emu));
    const code = readCode(emu);
    expect((await exchange(emu, code, { headers: { 'idempotency-key': 'k-limit' } })).status).toBe(429);
    emu.clock.advance(60_000);
    expect((await exchange(emu, code, { headers: { 'idempotency-key': 'k-limit' } })).status).toBe(201);
  });

  it('refuses a key rate limit that is not a positive integer, and an unknown default inflection', async () => {
    emu = await startPersonaEmulator();
    expect(() => emu.addOrganization({ apiKeyRateLimit: 0 })).toThrow(TypeError);
    expect(() => emu.addOrganization({ apiKeyRateLimit: 1.5 })).toThrow(TypeError);
    expect(() => emu.addOrganization({ apiKeyInflection: 'pascal' as 'camel' })).toThrow(TypeError);
  });
});

describe('the quota-exceeded fault', () => {
  it('answers 403 "Quota exceeded" with the usual headers, before the endpoint runs', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'quota-exceeded' }, { times: 1 });
    const code = readCode(emu);
    const reply = await exchange(emu, code, { headers: { 'idempotency-key': 'k-quota' } });
    expect(reply.status).toBe(403);
    expect(firstError(reply).title).toBe('Quota exceeded');
    expect(reply.headers['ratelimit-limit']).toBe('300');
    expect(reply.headers['persona-organization-id']).toBe(emu.recipient.id);
    // Not stored, and the code untouched: the same request succeeds once the quota is back.
    const again = await exchange(emu, code, { headers: { 'idempotency-key': 'k-quota' } });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBeUndefined();
  });

  it('still lets a bad key get 401 first', async () => {
    emu = await startPersonaEmulator();
    emu.setFault('token', { kind: 'quota-exceeded' });
    expect((await exchange(emu, readCode(emu), { key: 'persona_sandbox_nobody' })).status).toBe(401);
  });
});

describe("an API key's default Key-Inflection", () => {
  it('answers in the key default when the request sends no Key-Inflection; the header wins', async () => {
    emu = await startPersonaEmulator();
    emu.recipient.apiKeyInflection = 'snake';
    const plain = await exchange(emu, readCode(emu));
    expect(Object.keys(plain.json)).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    const camel = await exchange(emu, readCode(emu), { headers: { 'key-inflection': 'camel' } });
    expect(camel.json.accessToken).toMatch(/^persona_access_token_/);
    const refused = await call(emu, '/api/v1/oauth/token', { key: emu.recipient.apiKey, form: { code: 'x' } });
    expect(firstError(refused).source?.pointer).toBe('/grant_type');
  });

  it('applies to the key alone: other keys and access tokens answer in kebab-case', async () => {
    emu = await startPersonaEmulator();
    const camel = emu.addOrganization({ name: 'Camel', apiKeyInflection: 'camel' });
    emu.addInquiry(camel.id, { id: 'inq_camel' });
    const own = await call(emu, '/api/v1/inquiries/inq_camel', { key: camel.apiKey });
    expect(own.json.data.attributes.nameFirst).toBe('Alex');
    const token = (await exchange(emu, readCode(emu))).json['access-token'];
    emu.recipient.apiKeyInflection = 'snake';
    const viaToken = await read(emu, token);
    expect(viaToken.json.data.attributes['name-first']).toEqual(expect.any(String));
  });
});
