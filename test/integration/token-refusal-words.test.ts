import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CodeExchanger, createCodeExchanger, PersonaOAuthError } from '../../src/index.js';
import { collectReports } from '../helpers/diagnostics.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

// What each refusal of the token endpoint says, over real HTTP on loopback: the exact message
// of every status class, which 400 is the deployment's fault rather than the code's, how a 403
// says quota or permission, and the few things a 2xx adds (its Request-Id, RateLimit-Remaining).

const API_KEY = 'persona_production_refusal-words-api-key-0123456789';
const MAX_BYTES = 4096;

interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Sent as it is when a string, else as JSON. */
  body?: unknown;
}

let answer: Answer = { status: 500 };
let server: TokenServer;
let exchanger: CodeExchanger;
let sequence = 0;

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? {}));
  });
  // No retries: each test sees the answer to exactly one request.
  exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, retries: 0, maxResponseBytes: MAX_BYTES });
});

afterAll(async () => {
  await exchanger.close();
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

function nextCode(): string {
  sequence += 1;
  return `code_refusal_words_${sequence}`;
}

async function refusal(next: Answer): Promise<PersonaOAuthError> {
  answer = next;
  const error = await exchanger.exchange(nextCode()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersonaOAuthError);
  expect(server.requests).toHaveLength(1);
  return error as PersonaOAuthError;
}

const REQUEST_REJECTED =
  "Persona rejected the token request itself (HTTP 400): check personaVersion and keyInflection, and that nothing else sends this exchange's Idempotency-Key; see personaErrors";

function invalidGrant(status: number): string {
  return `Persona refused the authorization code (HTTP ${status}); it may be expired, already used or issued to another organization`;
}

describe("a 400 that names the request, not the code: Persona's words wherever they are", () => {
  it.each([
    ['the title', { title: 'Invalid Persona-Version header' }],
    ['the details', { title: 'Bad request', details: 'This Idempotency-Key was used with other parameters' }],
    ['the pointer', { title: 'Invalid parameter', source: { pointer: '/grant-type' } }],
    ['a camelCase pointer', { title: 'Invalid parameter', source: { pointer: '/grantType' } }],
    ['words with an underscore', { title: 'Unsupported grant_type' }],
    ['words with a space', { title: 'Unsupported grant type' }],
    ['the key inflection', { title: 'Invalid Key-Inflection header' }],
  ])('in %s: request_rejected, with its fixed message', async (_where, detail) => {
    const error = await refusal({ status: 400, body: { errors: [detail] } });
    expect(error.code).toBe('request_rejected');
    expect(error.message).toBe(REQUEST_REJECTED);
    expect(error.personaStatus).toBe(400);
  });

  it('one error naming the request among others that do not is enough', async () => {
    const error = await refusal({
      status: 400,
      body: { errors: [{ title: 'Something else' }, { title: 'Invalid Persona-Version' }, { title: 'Another' }] },
    });
    expect(error.code).toBe('request_rejected');
  });

  it('a pointer that only contains "code" is not the code', async () => {
    const error = await refusal({
      status: 400,
      body: {
        errors: [{ title: 'Idempotency error', source: { pointer: '/data/attributes/code-challenge' } }],
      },
    });
    expect(error.code).toBe('request_rejected');
  });

  it.each([
    ['the same error', [{ title: 'Invalid grant-type', source: { pointer: '/code' } }]],
    [
      'another error',
      [{ title: 'Idempotency error' }, { title: 'Invalid parameter', source: { pointer: '/data/attributes/Code' } }],
    ],
  ])('a pointer at the code, in %s, keeps it invalid_grant', async (_where, errors) => {
    const error = await refusal({ status: 400, body: { errors } });
    expect(error.code).toBe('invalid_grant');
    expect(error.message).toBe(invalidGrant(400));
  });

  it.each([404, 409, 422])('HTTP %i naming the request is still about the code: invalid_grant', async (status) => {
    const error = await refusal({ status, body: { errors: [{ title: 'Invalid Persona-Version' }] } });
    expect(error.code).toBe('invalid_grant');
    expect(error.message).toBe(invalidGrant(status));
  });

  it('a 400 with no errors[] is about the code', async () => {
    const error = await refusal({ status: 400, body: 'not json' });
    expect(error.code).toBe('invalid_grant');
    expect(error.personaErrors).toEqual([]);
  });
});

describe('the message of each status class', () => {
  it('401: the API key', async () => {
    const error = await refusal({ status: 401 });
    expect(error.code).toBe('invalid_api_key');
    expect(error.message).toBe('Persona rejected the API key (HTTP 401)');
  });

  const FORBIDDEN = 'Persona refused the token request (HTTP 403); ';
  it.each([
    ['quota in a title', [{ title: 'Quota exceeded' }], 'a Persona quota is exhausted (not a missing permission)'],
    [
      'quota in the details',
      [{ title: 'Forbidden', details: 'The monthly quota is used up' }],
      'a Persona quota is exhausted (not a missing permission)',
    ],
    [
      'quota in a later error',
      [{ title: 'Forbidden' }, { title: 'Quota' }],
      'a Persona quota is exhausted (not a missing permission)',
    ],
    ['a permission', [{ title: 'Missing permission' }], 'the API key lacks a permission (OAuth access)'],
    [
      'a permission in the details',
      [{ title: 'Forbidden', details: 'The key lacks a Permission' }],
      'the API key lacks a permission (OAuth access)',
    ],
    ['neither', [{ title: 'Forbidden' }], 'the API key may lack OAuth access or a quota is exhausted'],
    ['no errors at all', [], 'the API key may lack OAuth access or a quota is exhausted'],
    [
      'a word cut across two errors',
      [
        { title: 'Denied', details: 'per' },
        { title: 'mission', details: 'quo' },
        { title: 'ta', details: 'x' },
      ],
      'the API key may lack OAuth access or a quota is exhausted',
    ],
  ])('403 with %s', async (_name, errors, cause) => {
    const error = await refusal({ status: 403, body: { errors } });
    expect(error.code).toBe('forbidden');
    expect(error.message).toBe(`${FORBIDDEN}${cause}`);
  });

  it('429: the rate limit', async () => {
    const error = await refusal({ status: 429 });
    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe('Persona rate limit exceeded (HTTP 429)');
  });

  it.each([300, 302, 399])('%i: a redirect, not followed', async (status) => {
    const error = await refusal({
      status,
      headers: { location: `${server.url}/elsewhere` },
      body: TOKEN_BODY,
    });
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(
      `Persona's token endpoint answered with a redirect (HTTP ${status}); redirects are not followed`,
    );
  });

  it.each([500, 503])('%i: Persona failed', async (status) => {
    const error = await refusal({ status });
    expect(error.code).toBe('persona_unavailable');
    expect(error.message).toBe(`Persona failed to issue a token (HTTP ${status})`);
  });

  it.each([418, 405, 600])('%i: unexpected', async (status) => {
    const error = await refusal({ status, body: TOKEN_BODY });
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(`Persona's token endpoint answered with unexpected HTTP ${status}`);
  });

  it('a refusal whose body is over the size cap carries no errors', async () => {
    const errors = Array.from({ length: 5 }, () => ({ title: 'Quota exceeded', details: 'x'.repeat(MAX_BYTES) }));
    const error = await refusal({ status: 403, body: { errors } });
    expect(error.personaErrors).toEqual([]);
    expect(error.message).toBe(`${FORBIDDEN}the API key may lack OAuth access or a quota is exhausted`);
  });
});

describe('a 2xx that is no token set', () => {
  it('a body that is not JSON', async () => {
    const error = await refusal({ status: 200, headers: { 'request-id': 'req_not_json' }, body: '{"access-token":' });
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe("Persona's token response is not valid JSON");
    expect(error.personaStatus).toBe(200);
    expect(error.requestId).toBe('req_not_json');
  });

  it('a body over the size cap', async () => {
    const error = await refusal({ status: 201, body: { ...TOKEN_BODY, padding: 'x'.repeat(MAX_BYTES) } });
    expect(error.code).toBe('invalid_response');
    expect(error.message).toBe(`Persona's token response is larger than ${MAX_BYTES} bytes`);
  });
});

describe('what a 2xx adds to the token set and the report', () => {
  it('a token set without a Request-Id has no requestId property at all', async () => {
    answer = { status: 201, body: TOKEN_BODY };
    const tokens = await exchanger.exchange(nextCode());
    expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
    expect(Object.keys(tokens)).not.toContain('requestId');
  });

  it('a Request-Id goes on the token set', async () => {
    answer = { status: 201, headers: { 'request-id': 'req_tokens' }, body: TOKEN_BODY };
    const tokens = await exchanger.exchange(nextCode());
    expect(tokens.requestId).toBe('req_tokens');
  });

  it("the report carries Persona's RateLimit-Remaining, on a success and on a refusal", async () => {
    answer = { status: 201, headers: { 'ratelimit-remaining': '42' }, body: TOKEN_BODY };
    const success = await collectReports(() => exchanger.exchange(nextCode()));
    expect(success.reports.map((r) => r.rateLimitRemaining)).toEqual([42]);

    answer = { status: 503, headers: { 'ratelimit-remaining': '7' } };
    const failure = await collectReports(() => exchanger.exchange(nextCode()).catch(() => undefined));
    expect(failure.reports.map((r) => [r.outcome, r.rateLimitRemaining])).toEqual([['error', 7]]);

    answer = { status: 201, body: TOKEN_BODY };
    const none = await collectReports(() => exchanger.exchange(nextCode()));
    expect(none.reports).toHaveLength(1);
    expect(none.reports[0]?.rateLimitRemaining).toBeUndefined();
  });
});
