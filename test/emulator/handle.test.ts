import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { call, exchange, firstInquiry } from './helpers.js';

const started: PersonaEmulator[] = [];
const start = async (...args: Parameters<typeof startPersonaEmulator>): Promise<PersonaEmulator> => {
  const emu = await startPersonaEmulator(...args);
  started.push(emu);
  return emu;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((emu) => emu.close()));
});

describe('the emulator handle', () => {
  it('listens on 127.0.0.1 on a free port and seeds two organisations', async () => {
    const emu = await start();
    expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.organizations).toEqual([emu.owner, emu.recipient]);
    for (const org of emu.organizations) {
      expect(org.id).toMatch(/^org_[A-Za-z0-9]{24}$/);
      expect(org.apiKey).toMatch(
        /^persona_sandbox_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
    expect(emu.owner.id).not.toBe(emu.recipient.id);
    expect(emu.owner.apiKey).not.toBe(emu.recipient.apiKey);
  });

  it('gives the owner at least five realistic inquiries and the recipient its own', async () => {
    const emu = await start();
    expect(emu.owner.inquiries.length).toBeGreaterThanOrEqual(5);
    const statuses = new Set(emu.owner.inquiries.map((inquiry) => inquiry.status));
    expect(statuses.size).toBeGreaterThanOrEqual(4);
    for (const inquiry of emu.owner.inquiries) {
      expect(inquiry.id).toMatch(/^inq_[A-Za-z0-9]{24}$/);
      expect(inquiry.nameFirst).not.toBe('');
      expect(inquiry.nameLast).not.toBe('');
      expect(Date.parse(inquiry.createdAt)).toBeLessThanOrEqual(emu.clock.now());
      expect(inquiry.inquiryTemplateId).toMatch(/^itmpl_/);
    }
    const ownerIds = new Set(emu.owner.inquiries.map((inquiry) => inquiry.id));
    expect(emu.recipient.inquiries.some((inquiry) => ownerIds.has(inquiry.id))).toBe(false);
  });

  it('makes the same ids and keys from the same seed, and others from another', async () => {
    const a = await start({ seed: 'demo' });
    const b = await start({ seed: 'demo' });
    const c = await start({ seed: 42 });
    const shape = (emu: PersonaEmulator) => ({
      env: emu.environmentId,
      orgs: emu.organizations.map((org) => [org.id, org.apiKey, org.inquiries.map((inquiry) => inquiry.id)]),
    });
    expect(shape(b)).toEqual(shape(a));
    expect(shape(c).env).not.toBe(shape(a).env);
    // Secrets stay random even when seeded.
    const codeA = a.createAuthorization({ scope: `inquiry.read:${firstInquiry(a)}` }).code;
    const codeB = b.createAuthorization({ scope: `inquiry.read:${firstInquiry(b)}` }).code;
    expect(codeA).not.toBe(codeB);
  });

  it('adds organisations whose API keys work at once', async () => {
    const emu = await start();
    const org = emu.addOrganization({ name: 'Fabrikam', apiKey: 'persona_sandbox_custom' });
    expect(emu.organizations).toContain(org);
    expect(org).toMatchObject({ name: 'Fabrikam', apiKey: 'persona_sandbox_custom', inquiries: [] });
    const inquiry = emu.addInquiry(org.id, { nameFirst: 'Ada', nameLast: 'Lovelace', status: 'completed' });
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: 'persona_sandbox_custom' });
    expect(reply.status).toBe(200);
    expect(reply.json.data.attributes).toMatchObject({
      'name-first': 'Ada',
      'name-last': 'Lovelace',
      status: 'completed',
    });
    expect(() => emu.addOrganization({ apiKey: 'persona_sandbox_custom' })).toThrow(/already/);
    expect(() => emu.addOrganization({ apiKey: '' })).toThrow(TypeError);
  });

  it('adds inquiries with defaults, and refuses unknown organisations and bad or taken ids', async () => {
    const emu = await start();
    const inquiry = emu.addInquiry(emu.owner.id, { id: 'inq_customId123' });
    expect(emu.owner.inquiries).toContain(inquiry);
    expect(inquiry).toMatchObject({ id: 'inq_customId123', status: expect.any(String), nameFirst: expect.any(String) });
    expect(() => emu.addInquiry('org_nope', {})).toThrow(/no organization/);
    expect(() => emu.addInquiry(emu.owner.id, { id: 'ver_123' })).toThrow(TypeError);
    expect(() => emu.addInquiry(emu.recipient.id, { id: 'inq_customId123' })).toThrow(/already exists/);
  });

  it('creates authorizations without HTTP, with the HTTP endpoint’s rules', async () => {
    const emu = await start();
    const [a, b] = emu.owner.inquiries;
    const grant = emu.createAuthorization({ scope: [`inquiry.read:${a?.id}`, `inquiry.read:${b?.id}`] });
    expect(grant.expiresIn).toBe(600);
    const token = await exchange(emu, grant.code);
    expect(token.json.scope).toBe(`inquiry.read:${a?.id} inquiry.read:${b?.id}`);
    expect(emu.requests.map((request) => request.endpoint)).toEqual(['token']);

    const third = emu.addOrganization();
    const toThird = emu.createAuthorization({ scope: `inquiry.read:${a?.id}`, clientId: third.id });
    expect((await exchange(emu, toThird.code)).status).toBe(404);
    expect((await exchange(emu, toThird.code, { key: third.apiKey })).status).toBe(201);

    expect(() => emu.createAuthorization({ scope: 'inquiry.read' })).toThrow(/not a resource\.action:object_id/);
    expect(() => emu.createAuthorization({ scope: '' })).toThrow(/at least one/);
    expect(() => emu.createAuthorization({ scope: `inquiry.read:${emu.recipient.inquiries[0]?.id}` })).toThrow(
      /not found/,
    );
    expect(() => emu.createAuthorization({ scope: `inquiry.read:${a?.id}`, clientId: emu.owner.id })).toThrow(/itself/);
    expect(() => emu.createAuthorization({ scope: `inquiry.read:${a?.id}`, clientId: 'org_nobody' })).toThrow(
      /no organization/,
    );
    expect(() => emu.createAuthorization({ scope: `inquiry.read:${a?.id}`, from: 'org_nobody' })).toThrow(
      /no organization/,
    );
  });

  it('has a clock that starts at `now`, follows real time unless frozen, and can be moved', async () => {
    const frozen = await start({ now: Date.UTC(2025, 0, 1), freezeClock: true });
    expect(frozen.clock.now()).toBe(Date.UTC(2025, 0, 1));
    frozen.clock.advance(1500);
    expect(frozen.clock.now()).toBe(Date.UTC(2025, 0, 1) + 1500);
    frozen.clock.set(Date.UTC(2030, 5, 1));
    expect(frozen.clock.now()).toBe(Date.UTC(2030, 5, 1));
    expect(() => frozen.clock.advance(-1)).toThrow(RangeError);
    expect(() => frozen.clock.set(Number.NaN)).toThrow(RangeError);

    const live = await start({ now: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(live.clock.now()).toBeGreaterThanOrEqual(40);
  });

  it('refuses invalid options', async () => {
    await expect(startPersonaEmulator({ rateLimit: 0 })).rejects.toThrow(RangeError);
    await expect(startPersonaEmulator({ port: 70_000 })).rejects.toThrow(RangeError);
    await expect(startPersonaEmulator({ maxBodyBytes: 1.5 })).rejects.toThrow(RangeError);
  });

  it('rejects when the port is taken, and close() is idempotent', async () => {
    const emu = await start();
    const port = Number(new URL(emu.url).port);
    await expect(startPersonaEmulator({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await emu.close();
    await emu.close();
    await expect(call(emu, '/')).rejects.toBeInstanceOf(Error);
  });
});
