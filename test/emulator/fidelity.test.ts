// The strategy's side of each row of docs/persona-fidelity.md, against the emulator over
// loopback. The emulator's side of each row is tested over HTTP in the other files of this
// directory; the table names both.
import { afterEach, describe, expect, it } from 'vitest';
import { hasScope, type PersonaTokenSet } from '../../src/index.js';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { DOCUMENTED_VERSIONS, readCode, tokenRequests } from './helpers.js';
import { strategyApp, type StrategyApp } from './strategy-app.js';

let persona: PersonaEmulator | undefined;
const apps: StrategyApp[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  await persona?.close();
  persona = undefined;
});

async function start(options: Parameters<typeof startPersonaEmulator>[0] = {}): Promise<PersonaEmulator> {
  persona = await startPersonaEmulator(options);
  return persona;
}

function appOn(
  emulator: PersonaEmulator,
  ...rest: Parameters<typeof strategyApp> extends [unknown, ...infer R] ? R : never
) {
  const app = strategyApp(emulator, ...rest);
  apps.push(app);
  return app;
}

const lastTokenRequest = (emulator: PersonaEmulator) => tokenRequests(emulator).at(-1);
const lastTokenStatus = (emulator: PersonaEmulator): number => lastTokenRequest(emulator)?.status ?? 0;

describe('Persona-Version', () => {
  it('signs in with every documented version, sent as the Persona-Version header', async () => {
    const emulator = await start();
    for (const personaVersion of DOCUMENTED_VERSIONS) {
      const app = appOn(emulator, { personaVersion });
      const outcome = await app.callback(readCode(emulator));
      expect(outcome.status, personaVersion).toBe(200);
      expect(lastTokenRequest(emulator)?.headers['persona-version']).toBe(personaVersion);
    }
  });

  it('passes a version Persona has not documented yet through, for the emulator to accept when told', async () => {
    const emulator = await start({ personaVersions: ['2031-01-01'] });
    const outcome = await appOn(emulator, { personaVersion: '2031-01-01' }).callback(readCode(emulator));
    expect(outcome.status).toBe(200);
    expect(lastTokenRequest(emulator)?.headers['persona-version']).toBe('2031-01-01');
  });

  it("reports the emulator's 400 for an unknown version as request_rejected: the deployment's fault, not the link", async () => {
    const emulator = await start();
    const outcome = await appOn(emulator, { personaVersion: '2099-01-01' }).callback(readCode(emulator));
    expect(outcome.status).toBe(500);
    expect(outcome.body.error).toMatchObject({ code: 'request_rejected', status: 500 });
  });

  it('sends no Persona-Version without the option (the API key version applies)', async () => {
    const emulator = await start();
    expect((await appOn(emulator).callback(readCode(emulator))).status).toBe(200);
    expect(lastTokenRequest(emulator)?.headers['persona-version']).toBeUndefined();
  });
});

describe('nullable token fields', () => {
  it('signs in when token-type, expires-in and scope are null: bearer, the documented hour (assumed), no scopes', async () => {
    const emulator = await start();
    emulator.setFault('token', { kind: 'null-fields' });
    const before = Date.now();
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.status).toBe(200);
    const user = outcome.body.user;
    expect(user).toMatchObject({ tokenType: 'bearer', expiresIn: 3600, expiresInAssumed: true, scope: '', scopes: [] });
    expect(user.expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it('reads the same when the fields are absent, in every inflection', async () => {
    const emulator = await start();
    emulator.setFault('token', { kind: 'null-fields', absent: true });
    for (const keyInflection of ['kebab', 'snake', 'camel'] as const) {
      const outcome = await appOn(emulator, { keyInflection }).callback(readCode(emulator));
      expect(outcome.body.user, keyInflection).toMatchObject({
        tokenType: 'bearer',
        expiresIn: 3600,
        expiresInAssumed: true,
        scopes: [],
      });
    }
  });

  it('treats expires-in 0, the schema default, as no lifetime given', async () => {
    const emulator = await start();
    const body = { 'access-token': 'persona_access_token_zero', 'expires-in': 0, scope: null, 'token-type': 'bearer' };
    emulator.setFault('token', { kind: 'status', status: 201, body });
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.body.user).toMatchObject({ expiresIn: 3600, expiresInAssumed: true });
  });

  it("keeps Persona's lifetime, unflagged, when it sends one", async () => {
    const emulator = await start();
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.body.user.expiresIn).toBe(3600);
    expect(outcome.body.user).not.toHaveProperty('expiresInAssumed');
  });

  it('fails with invalid_response (502) when the access token is null: nothing to sign in with', async () => {
    const emulator = await start();
    emulator.setFault('token', { kind: 'null-fields', fields: ['access-token'] });
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.status).toBe(500);
    expect(outcome.body.error).toMatchObject({ code: 'invalid_response', status: 502 });
  });
});

describe('objects beyond inquiries', () => {
  it('signs in with a code sharing an inquiry and one of its verifications, and the token reads both', async () => {
    const emulator = await start();
    const verification = emulator.owner.verifications[0];
    const scope = `inquiry.read:${verification?.inquiryId} verification.read:${verification?.id}`;
    const outcome = await appOn(emulator).callback(emulator.createAuthorization({ scope }).code);
    expect(outcome.status).toBe(200);
    const user = outcome.body.user as PersonaTokenSet;
    expect(user.scope).toBe(scope);
    expect(hasScope(user, 'verification.read', verification?.id)).toBe(true);
    expect(hasScope(user, 'inquiry.read', verification?.inquiryId ?? undefined)).toBe(true);
    expect(hasScope(user, 'verification.read', emulator.owner.verifications[1]?.id)).toBe(false);
    const read = await fetch(`${emulator.url}/api/v1/verifications/${verification?.id}`, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    expect(read.status).toBe(200);
  });
});

describe('rate limits and quotas', () => {
  it("fails with rate_limited (503) when the API key's own limit is reached, retryAfter from RateLimit-Reset", async () => {
    const emulator = await start({ freezeClock: true });
    emulator.recipient.apiKeyRateLimit = 1;
    const app = appOn(emulator, { retries: 0 });
    expect((await app.callback(readCode(emulator))).status).toBe(200);
    const limited = await app.callback(readCode(emulator));
    expect(limited.status).toBe(500);
    expect(limited.body.error).toMatchObject({ code: 'rate_limited', status: 503, retryAfter: 60 });
  });

  it("fails with rate_limited (503) when the environment's limit is reached", async () => {
    const emulator = await start({ freezeClock: true, rateLimit: 1 });
    const app = appOn(emulator, { retries: 0 });
    expect((await app.callback(readCode(emulator))).status).toBe(200);
    expect((await app.callback(readCode(emulator))).body.error).toMatchObject({ code: 'rate_limited', retryAfter: 60 });
  });

  it("gets a token that reads past its API key's own limit: tokens count against the environment", async () => {
    const emulator = await start({ freezeClock: true });
    emulator.recipient.apiKeyRateLimit = 1;
    const outcome = await appOn(emulator).callback(readCode(emulator));
    for (let i = 0; i < 3; i += 1) {
      const read = await fetch(`${emulator.url}/api/v1/inquiries/${emulator.owner.inquiries[0]?.id}`, {
        headers: { authorization: `Bearer ${outcome.body.user.accessToken}` },
      });
      expect(read.status).toBe(200);
    }
  });

  it("says a quota is exhausted when Persona's 403 says so", async () => {
    const emulator = await start();
    emulator.setFault('token', { kind: 'quota-exceeded' });
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.body.error).toMatchObject({ code: 'forbidden', status: 500 });
    expect(outcome.body.error.message).toMatch(/a Persona quota is exhausted \(not a missing permission\)/);
  });

  it("says a permission is missing when Persona's 403 says so, and both may be when it says neither", async () => {
    const emulator = await start();
    const body = {
      errors: [{ title: 'Forbidden', details: 'The API key does not have the permission to create access tokens' }],
    };
    emulator.setFault('token', { kind: 'status', status: 403, body });
    const permission = await appOn(emulator).callback(readCode(emulator));
    expect(permission.body.error.message).toMatch(/the API key lacks a permission/);
    emulator.setFault('token', { kind: 'status', status: 403 });
    const unsaid = await appOn(emulator).callback(readCode(emulator));
    expect(unsaid.body.error.message).toMatch(/may lack OAuth access or a quota is exhausted/);
  });

  it("reads a token answer in the API key's default inflection, without sending Key-Inflection", async () => {
    const emulator = await start();
    for (const inflection of ['snake', 'camel'] as const) {
      emulator.recipient.apiKeyInflection = inflection;
      const outcome = await appOn(emulator).callback(readCode(emulator));
      expect(outcome.status, inflection).toBe(200);
      expect(outcome.body.user.expiresIn).toBe(3600);
      expect(lastTokenRequest(emulator)?.headers['key-inflection']).toBeUndefined();
    }
  });
});

describe('the token exchange', () => {
  it('sends the code as a form with grant-type=authorization_code, and its API key as Bearer', async () => {
    const emulator = await start();
    const code = readCode(emulator);
    expect((await appOn(emulator).callback(code)).status).toBe(200);
    const sent = lastTokenRequest(emulator);
    expect(sent?.method).toBe('POST');
    expect(sent?.path).toBe('/api/v1/oauth/token');
    expect(sent?.headers.authorization).toBe(`Bearer ${emulator.recipient.apiKey}`);
    expect(sent?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(sent?.body))).toEqual({ code, 'grant-type': 'authorization_code' });
  });

  it("fails with invalid_grant (401) for an unknown, used, expired or another organisation's code", async () => {
    const emulator = await start({ freezeClock: true });
    const app = appOn(emulator);
    const used = readCode(emulator);
    await app.callback(used);
    const expired = readCode(emulator);
    const stranger = emulator.addOrganization({ name: 'Stranger' });
    const theirs = emulator.createAuthorization({
      scope: `inquiry.read:${emulator.owner.inquiries[0]?.id}`,
      clientId: stranger.id,
    }).code;
    emulator.clock.advance(600_000);
    const statuses: number[] = [];
    for (const code of ['bm90LWEtY29kZQ', used, expired, theirs]) {
      const outcome = await app.callback(code);
      expect(outcome.body.info?.code).toBe('invalid_grant');
      statuses.push(outcome.status, lastTokenStatus(emulator));
    }
    expect(statuses).toEqual([401, 404, 401, 409, 401, 422, 401, 404]);
  });

  it('fails with invalid_api_key (500) when Persona refuses the API key (401)', async () => {
    const emulator = await start();
    const outcome = await appOn(emulator, {}, 'persona_sandbox_not-a-key').callback(readCode(emulator));
    expect(outcome.body.error).toMatchObject({ code: 'invalid_api_key', status: 500 });
  });

  it('sends a fresh Idempotency-Key per exchange, and the same one on its retry after a 429', async () => {
    const emulator = await start();
    const app = appOn(emulator);
    await app.callback(readCode(emulator));
    await app.callback(readCode(emulator));
    const [first, second] = tokenRequests(emulator).map((r) => r.headers['idempotency-key']);
    expect(first).toEqual(expect.any(String));
    expect(second).not.toBe(first);
    emulator.requests.length = 0;
    emulator.setFault('token', { kind: 'status', status: 429, headers: { 'RateLimit-Reset': '1' } }, { times: 1 });
    expect((await app.callback(readCode(emulator))).status).toBe(200);
    const keys = tokenRequests(emulator).map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
  });

  it("carries Persona's Request-Id on the token set and on a failure", async () => {
    const emulator = await start();
    const app = appOn(emulator);
    const ok = await app.callback(readCode(emulator));
    expect(ok.body.user.requestId).toBe(lastTokenRequest(emulator)?.requestId);
    const refused = await app.callback('unknown-code');
    expect(refused.body.info.requestId).toBe(lastTokenRequest(emulator)?.requestId);
  });

  it('does not depend on Persona-Environment-Id or Persona-Organization-Id: signs in without them', async () => {
    const emulator = await start();
    const body = { 'access-token': 'persona_access_token_edge', 'expires-in': 3599, scope: '', 'token-type': 'bearer' };
    emulator.setFault('token', { kind: 'status', status: 201, body, layer: 'edge' }, { times: 1 });
    const outcome = await appOn(emulator).callback(readCode(emulator));
    expect(outcome.status).toBe(200);
    expect(outcome.body.user.accessToken).toBe('persona_access_token_edge');
  });

  it('asks for each Key-Inflection with keyInflection, and reads the answer', async () => {
    const emulator = await start();
    for (const keyInflection of ['kebab', 'snake', 'camel'] as const) {
      const outcome = await appOn(emulator, { keyInflection }).callback(readCode(emulator));
      expect(outcome.status, keyInflection).toBe(200);
      expect(lastTokenRequest(emulator)?.headers['key-inflection']).toBe(keyInflection);
    }
  });

  it('talks plain HTTP to a loopback emulator only: another host must be HTTPS', async () => {
    const emulator = await start();
    expect((await appOn(emulator).callback(readCode(emulator))).status).toBe(200);
    expect(() => strategyApp(emulator, { baseURL: 'http://persona.example' })).toThrow(TypeError);
  });
});

describe("this package's conventions, which are not Persona's", () => {
  it('sends a browser without a code to authorizationURL with redirect_uri (and state when on)', async () => {
    const emulator = await start();
    const app = appOn(emulator, {
      authorizationURL: 'https://owner.example/share',
      callbackURL: 'https://app.example/callback',
    });
    const outcome = await app.callbackRaw('/callback');
    expect(outcome.status).toBe(302);
    const target = new URL(outcome.location ?? '');
    expect(`${target.origin}${target.pathname}`).toBe('https://owner.example/share');
    expect(target.searchParams.get('redirect_uri')).toBe('https://app.example/callback');
    expect(emulator.requests).toHaveLength(0);
  });

  it('reads error=access_denied on the callback as the owner declining (403), without calling Persona', async () => {
    const emulator = await start();
    const outcome = await appOn(emulator).callbackRaw('/callback?error=access_denied&error_description=No%20thanks');
    expect(outcome.status).toBe(403);
    expect(outcome.body.info.code).toBe('access_denied');
    expect(emulator.requests).toHaveLength(0);
  });
});
