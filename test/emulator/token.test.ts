import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { authorize, call, exchange, firstError, firstInquiry, readCode } from './helpers.js';

describe('POST /api/v1/oauth/token', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
  });
  afterEach(() => emu.close());

  it.each([
    ['kebab', undefined, ['access-token', 'expires-in', 'scope', 'token-type']],
    ['kebab', 'kebab', ['access-token', 'expires-in', 'scope', 'token-type']],
    ['snake', 'snake', ['access_token', 'expires_in', 'scope', 'token_type']],
    ['camel', 'camel', ['accessToken', 'expiresIn', 'scope', 'tokenType']],
  ] as const)('answers 201 with a bearer token in %s case (Key-Inflection %s)', async (_, header, keys) => {
    const inq = firstInquiry(emu);
    const reply = await exchange(emu, readCode(emu), { headers: header ? { 'key-inflection': header } : {} });
    expect(reply.status).toBe(201);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(Object.keys(reply.json)).toEqual(keys);
    const [token, expiresIn, scope, type] = keys.map((key) => reply.json[key]);
    expect(token).toMatch(/^persona_access_token_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(expiresIn).toBe(3600);
    expect(scope).toBe(`inquiry.read:${inq}`);
    expect(type).toBe('bearer');
  });

  it('accepts grant-type in snake and camel case, and JSON bodies', async () => {
    const snake = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      form: { code: readCode(emu), grant_type: 'authorization_code' },
    });
    expect(snake.status).toBe(201);
    const camel = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      json: { code: readCode(emu), grantType: 'authorization_code' },
    });
    expect(camel.status).toBe(201);
  });

  it('uses tokenTtlSeconds for expires-in', async () => {
    await emu.close();
    emu = await startPersonaEmulator({ tokenTtlSeconds: 120 });
    const reply = await exchange(emu, readCode(emu));
    expect(reply.json['expires-in']).toBe(120);
  });

  it('needs an API key (401)', async () => {
    const code = readCode(emu);
    expect((await exchange(emu, code, { key: 'persona_sandbox_wrong' })).status).toBe(401);
    const none = await call(emu, '/api/v1/oauth/token', { form: { code, 'grant-type': 'authorization_code' } });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    // The code is still good after the failed attempts.
    expect((await exchange(emu, code)).status).toBe(201);
  });

  it('answers 400 for a missing code or a missing or wrong grant-type', async () => {
    const key = emu.recipient.apiKey;
    const noCode = await call(emu, '/api/v1/oauth/token', { key, form: { 'grant-type': 'authorization_code' } });
    expect(noCode.status).toBe(400);
    expect(firstError(noCode).source?.pointer).toBe('/code');
    const emptyCode = await call(emu, '/api/v1/oauth/token', {
      key,
      form: { code: '', 'grant-type': 'authorization_code' },
    });
    expect(emptyCode.status).toBe(400);
    const noGrant = await call(emu, '/api/v1/oauth/token', { key, form: { code: readCode(emu) } });
    expect(noGrant.status).toBe(400);
    const wrongGrant = await call(emu, '/api/v1/oauth/token', {
      key,
      form: { code: readCode(emu), 'grant-type': 'client_credentials' },
    });
    expect(wrongGrant.status).toBe(400);
    expect(firstError(wrongGrant).details).toMatch(/client_credentials/);
  });

  it('answers 404 for an unknown code', async () => {
    const reply = await exchange(emu, 'bm90LWEtY29kZQ==');
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({
      errors: [{ title: 'Record not found', details: 'Authorization code not found', source: { pointer: '/code' } }],
    });
  });

  it("answers another organisation's code with the same 404 as an unknown one", async () => {
    const code = readCode(emu);
    const stranger = emu.addOrganization({ name: 'Stranger' });
    const reply = await exchange(emu, code, { key: stranger.apiKey });
    const unknown = await exchange(emu, 'bm90LWEtY29kZQ==', { key: stranger.apiKey });
    expect(reply.status).toBe(404);
    expect(reply.text).toBe(unknown.text);
    // The owner cannot redeem the code it issued either; the recipient still can.
    expect((await exchange(emu, code, { key: emu.owner.apiKey })).status).toBe(404);
    expect((await exchange(emu, code)).status).toBe(201);
  });

  it('answers 409 for a code already used', async () => {
    const code = readCode(emu);
    expect((await exchange(emu, code)).status).toBe(201);
    const again = await exchange(emu, code);
    expect(again.status).toBe(409);
    expect(firstError(again).details).toMatch(/already been used/);
  });

  it('answers 422 for an expired code (10 minutes on the emulated clock)', async () => {
    const live = readCode(emu);
    const dead = readCode(emu);
    emu.clock.advance(600_000 - 1);
    expect((await exchange(emu, live)).status).toBe(201);
    emu.clock.advance(1);
    const reply = await exchange(emu, dead);
    expect(reply.status).toBe(422);
    expect(firstError(reply).details).toMatch(/expired/);
  });

  it('prefers 409 to 422 for a code both used and expired', async () => {
    const code = readCode(emu);
    await exchange(emu, code);
    emu.clock.advance(3_600_000);
    expect((await exchange(emu, code)).status).toBe(409);
  });

  it('issues codes that survive a URL or a form body unencoded', async () => {
    const codes = Array.from({ length: 50 }, () => readCode(emu));
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const raw = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `code=${codes[0]}&grant-type=authorization_code`,
    });
    expect(raw.status).toBe(201);
  });

  it('says when an unknown code looks URL-decoded (a space where a + was) or encoded twice', async () => {
    const decoded = await exchange(emu, 'abc def');
    expect(decoded.status).toBe(404);
    expect(firstError(decoded).details).toMatch(
      /^Authorization code not found; .*looks URL-decoded \(a \+ read as a space\)/,
    );
    const twice = await exchange(emu, 'abc%2Bdef');
    expect(firstError(twice).details).toMatch(/looks URL-encoded twice/);
    // The hint comes from the code's shape alone: the same for every organisation, and no
    // hint for a plain unknown code.
    const stranger = emu.addOrganization();
    expect((await exchange(emu, 'abc def', { key: stranger.apiKey })).text).toBe(decoded.text);
    expect(firstError(await exchange(emu, 'abcdef')).details).toBe('Authorization code not found');
  });
});

describe('the whole flow over HTTP', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator();
  });
  afterEach(() => emu.close());

  it('authorize → token → GET inquiry, and nothing beyond the scope', async () => {
    const [shared, other] = emu.owner.inquiries;
    const granted = await authorize(emu, {
      'client-id': emu.recipient.id,
      'response-type': 'code',
      scope: `inquiry.read:${shared?.id}`,
    });
    expect(granted.status).toBe(201);

    const token = await exchange(emu, granted.json.code);
    expect(token.status).toBe(201);
    const accessToken: string = token.json['access-token'];

    const read = await call(emu, `/api/v1/inquiries/${shared?.id}`, { key: accessToken });
    expect(read.status).toBe(200);
    expect(read.json.data).toMatchObject({
      type: 'inquiry',
      id: shared?.id,
      attributes: { status: shared?.status, 'name-first': shared?.nameFirst, 'name-last': shared?.nameLast },
    });
    expect(read.headers['persona-organization-id']).toBe(emu.recipient.id);

    const refused = await call(emu, `/api/v1/inquiries/${other?.id}`, { key: accessToken });
    expect(refused.status).toBe(403);
  });
});
