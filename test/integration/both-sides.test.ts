import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createAuthorization,
  createCodeExchanger,
  createSharedObjectReader,
  type PersonaOAuthError,
  type PersonaTokenSet,
  type SharedObjectReader,
} from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { firstInquiry, useEmulator } from '../helpers/emulator.js';

// The three steps over real HTTP against the emulator: the owner's Create Authorization, the
// recipient's exchange, and the recipient's reads of what was shared.

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});

const readers: SharedObjectReader[] = [];
afterEach(async () => {
  await Promise.all(readers.splice(0).map((r) => r.close()));
});

function reader(options: Parameters<typeof createSharedObjectReader>[0] = {}): SharedObjectReader {
  const made = createSharedObjectReader({ baseURL: emulator.url, ...options });
  readers.push(made);
  return made;
}

function ownerShares(scope: string) {
  return createAuthorization({
    apiKey: emulator.owner.apiKey,
    baseURL: emulator.url,
    clientId: emulator.recipient.id,
    scope,
  });
}

function firstVerification(): string {
  const verification = emulator.owner.verifications[0];
  if (!verification) throw new Error('the owner has no verifications');
  return verification.id;
}

async function tokensFor(scope: string): Promise<PersonaTokenSet> {
  const { code } = await ownerShares(scope);
  const exchanger = createCodeExchanger({ apiKey: emulator.recipient.apiKey, baseURL: emulator.url });
  try {
    return await exchanger.exchange(code);
  } finally {
    await exchanger.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<PersonaOAuthError> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as PersonaOAuthError,
  );
}

describe('the owner’s Create Authorization', () => {
  it('sends the key, client-id, response-type=code and the scope, with a random Idempotency-Key, and resolves to the code', async () => {
    const inquiry = firstInquiry(emulator);
    const scope = `inquiry.read:${inquiry}  verification.read:${firstVerification()} inquiry.read:${inquiry}`;
    const first = await ownerShares(scope);
    const second = await ownerShares(scope);
    expect(first).toEqual({ code: expect.any(String), expiresIn: 600, requestId: expect.stringMatching(/^req_/) });
    expect(second.code).not.toBe(first.code);
    const sent = emulator.requests.filter((r) => r.endpoint === 'authorize');
    expect(sent).toHaveLength(2);
    const [one, two] = sent;
    expect(one?.headers.authorization).toBe(`Bearer ${emulator.owner.apiKey}`);
    expect(Object.fromEntries(new URLSearchParams(one?.body))).toEqual({
      'client-id': emulator.recipient.id,
      'response-type': 'code',
      scope: `inquiry.read:${inquiry} verification.read:${firstVerification()}`,
    });
    expect(one?.headers['idempotency-key']).toMatch(/^pwp3-[0-9a-f-]{36}$/);
    expect(two?.headers['idempotency-key']).not.toBe(one?.headers['idempotency-key']);
    expect(one?.requestId).toBe(first.requestId);
  });

  it('takes a scope list as parseScopes gives it, and refuses a malformed or empty scope before any call', async () => {
    const inquiry = firstInquiry(emulator);
    const listed = await createAuthorization({
      apiKey: emulator.owner.apiKey,
      baseURL: emulator.url,
      clientId: emulator.recipient.id,
      scope: [{ permission: 'inquiry.read', objectId: inquiry }],
    });
    expect(listed.code).toEqual(expect.any(String));
    emulator.requests.length = 0;
    await expect(ownerShares('inquiry.read')).rejects.toThrow(/scope: Invalid scope entry "inquiry.read"/);
    await expect(ownerShares('  ')).rejects.toThrow(TypeError);
    await expect(
      createAuthorization({
        apiKey: emulator.owner.apiKey,
        baseURL: emulator.url,
        clientId: 'org 1',
        scope: `inquiry.read:${inquiry}`,
      }),
    ).rejects.toThrow(/clientId/);
    await expect(
      createAuthorization({ apiKey: '', baseURL: emulator.url, clientId: 'org_1', scope: `inquiry.read:${inquiry}` }),
    ).rejects.toThrow(/data owner/);
    await expect(
      createAuthorization({
        apiKey: emulator.owner.apiKey,
        baseURL: 'http://persona.example',
        clientId: emulator.recipient.id,
        scope: `inquiry.read:${inquiry}`,
      }),
    ).rejects.toThrow(/https/);
    expect(emulator.requests).toHaveLength(0);
  });

  it('maps Persona’s refusals to stable codes, with its status, Request-Id and errors, and no key', async () => {
    const inquiry = firstInquiry(emulator);
    const unknownRecipient = await failure(
      createAuthorization({
        apiKey: emulator.owner.apiKey,
        baseURL: emulator.url,
        clientId: 'org_nobody',
        scope: `inquiry.read:${inquiry}`,
      }),
    );
    expect(unknownRecipient).toMatchObject({ code: 'request_rejected', status: 500, personaStatus: 404 });
    expect(unknownRecipient.requestId).toMatch(/^req_/);
    expect(unknownRecipient.personaErrors[0]?.pointer).toBe('/client-id');

    const notTheOwners = await failure(ownerShares(`inquiry.read:${emulator.recipient.inquiries[0]?.id}`));
    expect(notTheOwners).toMatchObject({ code: 'request_rejected', personaStatus: 404 });

    const wrongKey = await failure(
      createAuthorization({
        apiKey: 'persona_sandbox_not-a-key-at-all-000',
        baseURL: emulator.url,
        clientId: emulator.recipient.id,
        scope: `inquiry.read:${inquiry}`,
      }),
    );
    expect(wrongKey).toMatchObject({ code: 'invalid_api_key', status: 500, personaStatus: 401 });
    const said = [JSON.stringify(wrongKey), inspect(wrongKey), wrongKey.message].join('\n');
    expect(said).not.toContain('not-a-key-at-all');
  });
});

describe('the recipient’s reads of what was shared', () => {
  it('reads a shared inquiry and verification with the access token, typed, with the Request-Id', async () => {
    const inquiry = firstInquiry(emulator);
    const verification = firstVerification();
    const tokens = await tokensFor(`inquiry.read:${inquiry} verification.read:${verification}`);
    emulator.requests.length = 0;
    const read = reader();
    const shared = await read.read(tokens, 'inquiry', inquiry);
    expect(shared.document.data).toMatchObject({ type: 'inquiry', id: inquiry });
    expect(shared.requestId).toMatch(/^req_/);
    const checked = await read.read(tokens, 'verification', verification);
    expect(checked.document.data.type).toMatch(/^verification\//);
    expect(checked.document.data.id).toBe(verification);
    const [first, second] = emulator.requests;
    expect(first).toMatchObject({ method: 'GET', path: `/api/v1/inquiries/${inquiry}`, status: 200 });
    expect(first?.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(second?.path).toBe(`/api/v1/verifications/${verification}`);
    expect(shared.requestId).toBe(first?.requestId);
  });

  it('sends Persona’s include and fields parameters', async () => {
    const inquiry = firstInquiry(emulator);
    const tokens = await tokensFor(`inquiry.read:${inquiry}`);
    emulator.requests.length = 0;
    const read = await reader().read(tokens, 'inquiry', inquiry, {
      include: ['verifications'],
      fields: { inquiry: ['status', 'name-first'], verification: ['status'] },
    });
    const path = emulator.requests[0]?.path ?? '';
    const query = new URL(path, 'http://x').searchParams;
    expect(query.get('include')).toBe('verifications');
    expect(query.get('fields[inquiry]')).toBe('status,name-first');
    expect(query.get('fields[verification]')).toBe('status');
    // The emulator answers them as Persona does: sparse attributes, related objects included.
    expect(Object.keys(read.document.data.attributes ?? {}).sort()).toEqual(['name-first', 'status']);
    await expect(reader().read(tokens, 'inquiry', inquiry, { include: ['a&b=c'] })).rejects.toThrow(TypeError);
  });

  it('refuses before any call a token past expiresAt (token_expired) or without the permission on that id (insufficient_scope)', async () => {
    const inquiry = firstInquiry(emulator);
    const tokens = await tokensFor(`inquiry.read:${inquiry}`);
    emulator.requests.length = 0;
    const late = reader({ now: () => tokens.expiresAt });
    expect(await failure(late.read(tokens, 'inquiry', inquiry))).toMatchObject({ code: 'token_expired', status: 401 });
    const other = emulator.owner.inquiries[1]?.id ?? 'inq_other';
    expect(await failure(reader().read(tokens, 'inquiry', other))).toMatchObject({
      code: 'insufficient_scope',
      status: 403,
    });
    expect(await failure(reader().read(tokens, 'verification', inquiry))).toMatchObject({
      code: 'insufficient_scope',
    });
    expect(emulator.requests).toHaveLength(0);
  });

  it('turns Persona’s refusal of the token into token_expired, and of the object into insufficient_scope', async () => {
    const inquiry = firstInquiry(emulator);
    const tokens = await tokensFor(`inquiry.read:${inquiry}`);
    // The scope names an object Persona will not give: the app's check passes, Persona's refuses.
    const widened = { ...tokens, scope: `${tokens.scope} inquiry.read:inq_notShared1`, scopes: undefined };
    const refused = await failure(reader().read(widened, 'inquiry', 'inq_notShared1'));
    expect(refused).toMatchObject({ code: 'insufficient_scope', personaStatus: 403 });
    emulator.clock.advance(2 * 60 * 60 * 1000);
    const expired = await failure(reader().read(tokens, 'inquiry', inquiry));
    expect(expired).toMatchObject({ code: 'token_expired', status: 401, personaStatus: 401 });
    const said = [JSON.stringify(expired), inspect(expired), expired.message, JSON.stringify(refused)].join('\n');
    expect(said).not.toContain(tokens.accessToken);
  });
});
