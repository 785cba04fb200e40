import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CreateAuthorizationOptions, createAuthorization, PersonaOAuthError } from '../../src/index.js';
import { collectCallReports } from '../helpers/persona-calls.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

// The owner's Create Authorization over real HTTP on loopback, at its edges: the words of every
// refusal (of its options, before any call, and of Persona's answers), the bounds of clientId,
// the code and expires-in, the report it publishes, and the pool it closes.

const API_KEY = 'persona_production_owner-answers-key-0123456789';
const SCOPE = 'inquiry.read:inq_owner1';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as it is when a string, else as JSON. */
  body?: unknown;
}

let answer: Answer = { status: 201, body: { code: 'c_1', 'expires-in': 600 } };
let server: TokenServer;

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {}));
  });
});

afterAll(() => server.close());

beforeEach(() => {
  server.requests.length = 0;
});

function authorize(options: Partial<CreateAuthorizationOptions> = {}) {
  return createAuthorization({
    apiKey: API_KEY,
    baseURL: server.url,
    clientId: 'org_recipient1',
    scope: SCOPE,
    retries: 0,
    ...options,
  });
}

async function refusal(next: Answer, options: Partial<CreateAuthorizationOptions> = {}): Promise<PersonaOAuthError> {
  answer = next;
  const error = await authorize(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersonaOAuthError);
  return error as PersonaOAuthError;
}

describe('createAuthorization: options refused before any call, each with its words', () => {
  const KEY_REQUIRED = 'passport-withpersona: apiKey is required (the data owner organization’s Persona API key)';
  const CLIENT_ID = "passport-withpersona: clientId must be the recipient organization's id (org_…)";

  it.each([
    ['no options', undefined, KEY_REQUIRED],
    ['no apiKey', { apiKey: undefined }, KEY_REQUIRED],
    ['a blank apiKey', { apiKey: '   ' }, KEY_REQUIRED],
    ['a clientId that is a number', { clientId: 12345 }, CLIENT_ID],
    ['a clientId of 257 characters', { clientId: `org_${'x'.repeat(253)}` }, CLIENT_ID],
    ['an empty scope list', { scope: [] }, 'passport-withpersona: scope must name at least one permission:object pair'],
  ])('%s', async (_name, options, message) => {
    const made =
      options === undefined
        ? createAuthorization(undefined as never)
        : authorize(options as unknown as Partial<CreateAuthorizationOptions>);
    await expect(made).rejects.toThrow(new TypeError(message));
    expect(server.requests).toHaveLength(0);
  });

  it('takes a clientId of 256 characters', async () => {
    answer = { status: 201, body: { code: 'c_256', 'expires-in': 600 } };
    const clientId = `org_${'x'.repeat(252)}`;
    await expect(authorize({ clientId })).resolves.toMatchObject({ code: 'c_256' });
    expect(new URLSearchParams(server.requests[0]?.body).get('client-id')).toBe(clientId);
  });
});

describe("createAuthorization: Persona's refusals", () => {
  it.each([400, 404, 409, 422])('HTTP %i: request_rejected, with its message', async (status) => {
    const error = await refusal({ status, body: { errors: [{ title: 'Not found', source: { pointer: '/scope' } }] } });
    expect(error.code).toBe('request_rejected');
    expect(error.personaStatus).toBe(status);
    expect(error.message).toBe(
      `Persona refused to create the authorization (HTTP ${status}): check clientId and that every object in scope is yours; see personaErrors`,
    );
  });

  it.each([
    [300, "Persona's Create Authorization endpoint answered with a redirect (HTTP 300); redirects are not followed"],
    [
      403,
      'Persona refused the Create Authorization request (HTTP 403); the API key may lack OAuth access or a quota is exhausted',
    ],
    [503, 'Persona failed to create the authorization (HTTP 503)'],
    [418, "Persona's Create Authorization endpoint answered with unexpected HTTP 418"],
  ])('HTTP %i: the endpoint named in the message', async (status, message) => {
    const error = await refusal({ status, body: { code: 'c_not_this', errors: [{ title: 'No' }] } });
    expect(error.message).toBe(message);
  });

  it('an echo of the API key in errors[] or the Request-Id is redacted', async () => {
    const error = await refusal({
      status: 422,
      headers: { 'request-id': `req_${API_KEY.slice(5)}` },
      body: { errors: [{ title: 'Invalid', details: `key ${API_KEY} is not allowed` }] },
    });
    const said = [error.message, JSON.stringify(error), JSON.stringify(error.personaErrors), error.requestId].join(' ');
    expect(said).not.toContain(API_KEY.slice(10, 30));
    expect(error.personaErrors[0]?.details).toContain('[REDACTED]');
  });
});

describe("createAuthorization: a 2xx answer's body", () => {
  const NO_CODE = "Persona's Create Authorization response carries no usable code";

  it.each([
    ['not JSON', '{"code":', "Persona's Create Authorization response is not valid JSON"],
    ['null', 'null', NO_CODE],
    ['an array', '[{"code":"c_1"}]', NO_CODE],
    ['a string', '"c_1"', NO_CODE],
    ['a code of 4097 characters', { code: 'c'.repeat(4097) }, NO_CODE],
    ['a code with a space', { code: 'c 1' }, NO_CODE],
    [
      'a fractional expires-in',
      { code: 'c_1', 'expires-in': 1.5 },
      "Persona's Create Authorization response has an invalid expires-in",
    ],
  ])('%s: invalid_response, with its message', async (_name, body, message) => {
    const error = await refusal({ status: 201, headers: { 'request-id': 'req_body' }, body });
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(message);
    expect(error.personaStatus).toBe(201);
    expect(error.requestId).toBe('req_body');
  });

  it('a body over the cap: invalid_response, naming the cap', async () => {
    const error = await refusal(
      { status: 201, body: { code: 'c_1', padding: 'x'.repeat(2048) } },
      { maxResponseBytes: 1024 },
    );
    expect(error.message).toBe("Persona's Create Authorization response is larger than 1024 bytes");
  });

  it('takes a code of 4096 characters and an expires-in of 0', async () => {
    const code = 'c'.repeat(4096);
    answer = { status: 201, body: { code, 'expires-in': 0 } };
    await expect(authorize()).resolves.toStrictEqual({ code, expiresIn: 0 });
  });

  it('has no requestId property when Persona sent no Request-Id', async () => {
    answer = { status: 201, body: { code: 'c_no_id', 'expires-in': 600 } };
    const authorization = await authorize();
    expect(Object.keys(authorization).sort()).toEqual(['code', 'expiresIn']);
  });
});

describe('createAuthorization: its report and its pool', () => {
  it('publishes one report named authorize', async () => {
    answer = { status: 201, headers: { 'request-id': 'req_report' }, body: { code: 'c_1', 'expires-in': 600 } };
    const { reports } = await collectCallReports(() => authorize());
    expect(reports).toEqual([
      expect.objectContaining({ call: 'authorize', outcome: 'success', personaStatus: 201, requestId: 'req_report' }),
    ]);
  });

  it('closes the connection it opened once the call ends', async () => {
    answer = { status: 201, body: { code: 'c_1', 'expires-in': 600 } };
    await authorize();
    const deadline = Date.now() + 2000;
    while (server.openSockets() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.openSockets()).toBe(0);
  });
});
