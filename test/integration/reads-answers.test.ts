import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createSharedObjectReader,
  PersonaOAuthError,
  type ReadSharedOptions,
  type SharedObjectReader,
} from '../../src/index.js';
import { collectCallReports } from '../helpers/persona-calls.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

// The recipient's reads over real HTTP on loopback, at their edges: the words of every refusal
// (of the arguments, before any call, and of Persona's answers, naming the type read), the
// document checks, the report it publishes, and close() ending a read in flight.

const TOKEN = 'persona_access_token_reads-answers-0123456789';
const SCOPE = 'inquiry.read:inq_r1 verification.read:ver_r1 report.read:rep_r1';
const tokens = { accessToken: TOKEN, scope: SCOPE, expiresAt: Date.now() + 3_600_000 };
const INQUIRY = { data: { type: 'inquiry', id: 'inq_r1', attributes: { status: 'approved' } } };

interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as it is when a string, else as JSON. */
  body?: unknown;
  /** Never answer (the read waits until it is ended). */
  hold?: boolean;
}

let answer: Answer = { status: 200, body: INQUIRY };
let server: TokenServer;
let reader: SharedObjectReader;

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    if (answer.hold) return;
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {}));
  });
  reader = createSharedObjectReader({ baseURL: server.url, retries: 0 });
});

afterAll(async () => {
  await reader.close();
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

async function refusal(next: Answer, type = 'inquiry', id = 'inq_r1'): Promise<PersonaOAuthError> {
  answer = next;
  const error = await reader.read(tokens, type, id).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersonaOAuthError);
  expect(server.requests).toHaveLength(1);
  return error as PersonaOAuthError;
}

describe('read: arguments refused before any call, each with its words', () => {
  const NEEDS_TOKEN = 'passport-withpersona: read needs a token set with an accessToken';
  const TYPE = 'passport-withpersona: type must be a resource name such as inquiry';
  const names = (what: string) => `passport-withpersona: ${what} must list names of letters, digits, _, - and .`;

  it.each([
    ['null tokens', null, 'inquiry', {}, NEEDS_TOKEN],
    ['a string as tokens', TOKEN, 'inquiry', {}, NEEDS_TOKEN],
    [
      'a function as tokens',
      Object.assign(() => undefined, { accessToken: TOKEN, scope: SCOPE }),
      'inquiry',
      {},
      NEEDS_TOKEN,
    ],
    ['tokens without an access token', { scope: SCOPE }, 'inquiry', {}, NEEDS_TOKEN],
    ['a type with a trailing character', tokens, 'inquiry!', {}, TYPE],
    ['a type with a path in it', tokens, 'inquiry/1', {}, TYPE],
    [
      'an include with one bad name among good ones',
      tokens,
      'inquiry',
      { include: ['account', 'bad name'] },
      names('include'),
    ],
    ['an include name that is a number', tokens, 'inquiry', { include: [7] }, names('include')],
    [
      'fields with one bad name',
      tokens,
      'inquiry',
      { fields: { inquiry: ['status', 'a&b'] } },
      names('fields[inquiry]'),
    ],
    [
      'fields keyed by a bad type name',
      tokens,
      'inquiry',
      { fields: { 'inquiry]=x&y[': ['status'] } },
      'passport-withpersona: fields must be keyed by type names',
    ],
  ])('%s', async (_name, given, type, options, message) => {
    await expect(reader.read(given as never, type, 'inq_r1', options as ReadSharedOptions)).rejects.toThrow(
      new TypeError(message),
    );
    expect(server.requests).toHaveLength(0);
  });

  it('an expired token and a scope without the object, with their messages', async () => {
    await expect(reader.read({ ...tokens, expiresAt: Date.now() - 1 }, 'inquiry', 'inq_r1')).rejects.toThrow(
      new PersonaOAuthError(
        'token_expired',
        'The access token has expired: Persona issues no refresh token, so connect again for a new code',
      ),
    );
    const refused = await reader.read(tokens, 'inquiry', 'inq_other').catch((e: unknown) => e as PersonaOAuthError);
    expect(refused).toMatchObject({
      code: 'insufficient_scope',
      message: "The access token's scope does not grant inquiry.read on this object",
    });
    expect(server.requests).toHaveLength(0);
  });

  it('a token set whose expiresAt is null or absent is not taken for expired', async () => {
    answer = { status: 200, body: INQUIRY };
    await expect(reader.read({ ...tokens, expiresAt: null } as never, 'inquiry', 'inq_r1')).resolves.toMatchObject({
      document: INQUIRY,
    });
    await expect(reader.read({ accessToken: TOKEN, scope: SCOPE }, 'inquiry', 'inq_r1')).resolves.toMatchObject({
      document: INQUIRY,
    });
  });
});

describe("read: Persona's refusals, in words naming the type read", () => {
  it.each([400, 422])('HTTP %i: request_rejected (check include and fields)', async (status) => {
    const error = await refusal({ status, body: { errors: [{ title: 'Invalid include' }] } });
    expect(error.code).toBe('request_rejected');
    expect(error.message).toBe(
      `Persona rejected the read (HTTP ${status}): check include and fields; see personaErrors`,
    );
    expect(error.personaErrors).toEqual([{ title: 'Invalid include' }]);
  });

  it('HTTP 401: token_expired (connect again)', async () => {
    const error = await refusal({ status: 401 });
    expect(error.code).toBe('token_expired');
    expect(error.message).toBe('Persona refused the access token (HTTP 401): connect again');
  });

  it.each([403, 404])('HTTP %i: insufficient_scope', async (status) => {
    const error = await refusal({ status });
    expect(error.code).toBe('insufficient_scope');
    expect(error.message).toBe(`Persona refused to give this object to the access token (HTTP ${status})`);
  });

  it.each([
    [300, 'report', "Persona's report endpoint answered with a redirect (HTTP 300); redirects are not followed"],
    [503, 'report', 'Persona failed to give the shared report (HTTP 503)'],
    [418, 'inquiry', "Persona's inquiry endpoint answered with unexpected HTTP 418"],
  ])('HTTP %i of a %s read', async (status, type, message) => {
    const id = type === 'report' ? 'rep_r1' : 'inq_r1';
    const error = await refusal({ status, body: { data: { type, id } } }, type, id);
    expect(error.message).toBe(message);
  });
});

describe("read: a 2xx answer's document", () => {
  it.each([
    ['not JSON', 'inquiry', 'inq_r1', '{"data":', "Persona's inquiry response is not valid JSON"],
    [
      'another object',
      'report',
      'rep_r1',
      { data: { type: 'report', id: 'rep_r2' } },
      "Persona's report response is not the report asked for",
    ],
    [
      'a verification whose type is a list',
      'verification',
      'ver_r1',
      { data: { type: ['verification/government-id'], id: 'ver_r1' } },
      "Persona's verification response is not the verification asked for",
    ],
  ])('%s: invalid_response, with its message', async (_name, type, id, body, message) => {
    const error = await refusal({ status: 200, headers: { 'request-id': 'req_doc' }, body }, type, id);
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(message);
    expect(error.requestId).toBe('req_doc');
  });

  it('a body over the cap: invalid_response, naming the type and the cap', async () => {
    const small = createSharedObjectReader({ baseURL: server.url, retries: 0, maxResponseBytes: 1024 });
    try {
      answer = { status: 200, body: { data: { type: 'inquiry', id: 'inq_r1', notes: 'x'.repeat(2048) } } };
      await expect(small.read(tokens, 'inquiry', 'inq_r1')).rejects.toThrow(
        "Persona's inquiry response is larger than 1024 bytes",
      );
    } finally {
      await small.close();
    }
  });

  it('sends no query string when there is neither include nor fields', async () => {
    answer = { status: 200, body: INQUIRY };
    await reader.read(tokens, 'inquiry', 'inq_r1', {});
    expect(server.requests[0]?.url).toBe('/api/v1/inquiries/inq_r1');
  });
});

describe('read: its report, and close()', () => {
  it('publishes one report named read', async () => {
    answer = { status: 200, headers: { 'request-id': 'req_read_report' }, body: INQUIRY };
    const { reports } = await collectCallReports(() => reader.read(tokens, 'inquiry', 'inq_r1'));
    expect(reports).toEqual([
      expect.objectContaining({ call: 'read', outcome: 'success', personaStatus: 200, requestId: 'req_read_report' }),
    ]);
  });

  it('close() ends a read in flight as closed', async () => {
    const own = createSharedObjectReader({ baseURL: server.url, retries: 0, timeoutMs: 5000 });
    answer = { status: 200, hold: true };
    const reading = own.read(tokens, 'inquiry', 'inq_r1').catch((e: unknown) => e as PersonaOAuthError);
    while (server.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await own.close();
    expect(await reading).toMatchObject({ code: 'closed' });
  });
});
