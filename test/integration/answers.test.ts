import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthorization,
  createCodeExchanger,
  createSharedObjectReader,
  type PersonaOAuthError,
} from '../../src/index.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

// How the owner's and the recipient's calls read what Persona answers, field by field, where the
// emulator has no switch for it: the three key inflections and the 2023-01-05 nulls of Create
// Authorization, and JSON:API documents of other types, or not of the object asked for.

let answer: (res: ServerResponse) => void = () => {};
let server: TokenServer;
beforeAll(async () => {
  server = await startTokenServer((_req, res) => answer(res));
});
afterAll(() => server.close());

function answers(status: number, body: unknown): void {
  answer = (res) => {
    res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_answers' });
    res.end(JSON.stringify(body));
  };
}

const authorize = () =>
  createAuthorization({
    apiKey: 'persona_sandbox_owner-key-0000000000',
    baseURL: server.url,
    clientId: 'org_recipient1',
    scope: 'inquiry.read:inq_1',
    keyInflection: 'snake',
  });

describe('Create Authorization’s answer', () => {
  it.each([
    ['kebab-case', { code: 'c_1', 'expires-in': 600 }, 600],
    ['snake_case', { code: 'c_1', expires_in: 90 }, 90],
    ['camelCase', { code: 'c_1', expiresIn: 30 }, 30],
    ['expires-in null (2023-01-05)', { code: 'c_1', 'expires-in': null }, undefined],
    ['expires-in left out', { code: 'c_1' }, undefined],
  ])('%s', async (_name, body, expiresIn) => {
    answers(201, body);
    await expect(authorize()).resolves.toEqual({ code: 'c_1', expiresIn, requestId: 'req_answers' });
    expect(server.requests.at(-1)?.headers['key-inflection']).toBe('snake');
  });

  it.each([
    ['no code', { 'expires-in': 600 }],
    ['a null code', { code: null, 'expires-in': 600 }],
    ['a code with a line break', { code: 'c\r\n1', 'expires-in': 600 }],
    ['a negative lifetime', { code: 'c_1', 'expires-in': -1 }],
    ['a lifetime as text', { code: 'c_1', 'expires-in': '600' }],
  ])('refuses %s (invalid_response)', async (_name, body) => {
    answers(201, body);
    await expect(authorize()).rejects.toMatchObject({ code: 'invalid_response', personaStatus: 201 });
  });
});

describe('a read’s answer', () => {
  const reader = createSharedObjectReader({ baseURL: 'http://127.0.0.1:1' });
  afterAll(() => reader.close());
  const tokens = {
    accessToken: 'persona_access_token_answers',
    scope: 'report.read:rep_1 txn.read:txn_1 inquiry.read:inq_1 verification.read:ver_1 inquiry.read:inq_a/b',
  };
  const read = (type: string, id: string) => {
    const own = createSharedObjectReader({ baseURL: server.url });
    return own.read(tokens, type, id).finally(() => own.close());
  };

  it('reads another type as a generic document, on its retrieval path', async () => {
    answers(200, { data: { type: 'report', id: 'rep_1', attributes: { status: 'ready' } }, included: [] });
    const shared = await read('report', 'rep_1');
    expect(shared.document.data).toEqual({ type: 'report', id: 'rep_1', attributes: { status: 'ready' } });
    expect(server.requests.at(-1)?.url).toBe('/api/v1/reports/rep_1');
    answers(200, { data: { type: 'txn', id: 'txn_1' } });
    await read('txn', 'txn_1');
    expect(server.requests.at(-1)?.url).toBe('/api/v1/transactions/txn_1');
  });

  it('puts every call under a base URL with a path of its own, without its query or fragment', async () => {
    const prefixed = `${server.url}/gateway/persona?x=1#y`;
    answers(200, { data: { type: 'inquiry', id: 'inq_1' } });
    const own = createSharedObjectReader({ baseURL: prefixed });
    await own.read(tokens, 'inquiry', 'inq_1', { include: ['account'] }).finally(() => own.close());
    expect(server.requests.at(-1)?.url).toBe('/gateway/persona/api/v1/inquiries/inq_1?include=account');
    answers(201, { code: 'c_1', 'expires-in': 600 });
    await createAuthorization({
      apiKey: 'persona_sandbox_owner-key-0000000000',
      baseURL: `${server.url}/gateway/persona/`,
      clientId: 'org_recipient1',
      scope: 'inquiry.read:inq_1',
    });
    expect(server.requests.at(-1)?.url).toBe('/gateway/persona/api/v1/oauth/authorize');
    answers(201, { 'access-token': 'persona_access_token_answers', 'expires-in': 60, scope: 'inquiry.read:inq_1' });
    const exchanger = createCodeExchanger({ apiKey: 'persona_sandbox_recipient-key-00000', baseURL: prefixed });
    await exchanger.exchange('code_prefixed').finally(() => exchanger.close());
    expect(server.requests.at(-1)?.url).toBe('/gateway/persona/api/v1/oauth/token');
  });

  it('encodes the id into the path', async () => {
    answers(200, { data: { type: 'inquiry', id: 'inq_a/b' } });
    await read('inquiry', 'inq_a/b');
    expect(server.requests.at(-1)?.url).toBe('/api/v1/inquiries/inq_a%2Fb');
  });

  it.each([
    ['another object', 'inquiry', 'inq_1', { data: { type: 'inquiry', id: 'inq_2' } }],
    ['another type', 'inquiry', 'inq_1', { data: { type: 'verification/government-id', id: 'inq_1' } }],
    ['a verification typed inquiry', 'verification', 'ver_1', { data: { type: 'inquiry', id: 'ver_1' } }],
    ['no data', 'inquiry', 'inq_1', { errors: [] }],
    ['an array', 'inquiry', 'inq_1', [{ data: { type: 'inquiry', id: 'inq_1' } }]],
  ])('refuses %s (invalid_response)', async (_name, type, id, body) => {
    answers(200, body);
    const error = await read(type, id).then(
      () => undefined,
      (e: unknown) => e as PersonaOAuthError,
    );
    expect(error).toMatchObject({ code: 'invalid_response', personaStatus: 200, requestId: 'req_answers' });
  });

  it('refuses a malformed type, or a call without a token set, before any call', async () => {
    const before = server.requests.length;
    await expect(reader.read(tokens, 'Inquiry', 'inq_1')).rejects.toThrow(TypeError);
    await expect(reader.read({ scope: tokens.scope } as never, 'inquiry', 'inq_1')).rejects.toThrow(TypeError);
    await expect(reader.read(null as never, 'inquiry', 'inq_1')).rejects.toThrow(TypeError);
    expect(server.requests.length).toBe(before);
  });
});

describe('a read’s size cap', () => {
  it('is 1 MiB by default (a document with included objects), and maxResponseBytes when given', async () => {
    const big = { data: { type: 'inquiry', id: 'inq_1', attributes: { notes: 'x'.repeat(200_000) } } };
    answers(200, big);
    const tokens = { accessToken: 'persona_access_token_cap', scope: 'inquiry.read:inq_1' };
    const roomy = createSharedObjectReader({ baseURL: server.url });
    const tight = createSharedObjectReader({ baseURL: server.url, maxResponseBytes: 100_000 });
    try {
      await expect(roomy.read(tokens, 'inquiry', 'inq_1')).resolves.toMatchObject({ document: big });
      await expect(tight.read(tokens, 'inquiry', 'inq_1')).rejects.toMatchObject({ code: 'invalid_response' });
    } finally {
      await Promise.all([roomy.close(), tight.close()]);
    }
  });
});
