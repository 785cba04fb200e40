import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CodeExchanger, createCodeExchanger, PersonaOAuthError } from '../../src/index.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

// The edges of how a token endpoint's answer is read, over real HTTP on loopback: which header
// gives a 429's retryAfter, which status means what near the ends of its range, and where
// Persona's error texts are cut.

const API_KEY = 'persona_production_status-edges-api-key-0123456789';
const CODE = 'code_status_edges_0123456789';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

let answer: Answer = { status: 500 };
let server: TokenServer;
let exchanger: CodeExchanger;

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': 'req_edges', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? { errors: [{ title: 'Refused' }] }));
  });
  // No retries: each test sees the answer to exactly one request.
  exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, retries: 0 });
});

afterAll(async () => {
  await exchanger.close();
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

async function refusal(next: Answer): Promise<PersonaOAuthError> {
  answer = next;
  const error = await exchanger.exchange(CODE).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersonaOAuthError);
  expect(server.requests).toHaveLength(1);
  return error as PersonaOAuthError;
}

describe('a 429: retryAfter from RateLimit-Reset, else Retry-After, else none', () => {
  it('takes Retry-After when it comes alone', async () => {
    const error = await refusal({ status: 429, headers: { 'retry-after': '7' } });
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfter).toBe(7);
  });

  it('prefers RateLimit-Reset over Retry-After', async () => {
    const error = await refusal({ status: 429, headers: { 'ratelimit-reset': '3', 'retry-after': '9' } });
    expect(error.retryAfter).toBe(3);
  });

  it('falls back to Retry-After when RateLimit-Reset is malformed', async () => {
    const error = await refusal({ status: 429, headers: { 'ratelimit-reset': 'soon', 'retry-after': '9' } });
    expect(error.retryAfter).toBe(9);
  });

  it('reads seconds with surrounding spaces, up to nine digits', async () => {
    expect((await refusal({ status: 429, headers: { 'retry-after': ' 12 ' } })).retryAfter).toBe(12);
    server.requests.length = 0;
    expect((await refusal({ status: 429, headers: { 'retry-after': '123456789' } })).retryAfter).toBe(123_456_789);
  });

  it.each([
    ['a date', 'Wed, 21 Oct 2026 07:28:00 GMT'],
    ['a word', 'soon'],
    ['a fraction', '1.5'],
    ['a negative number', '-1'],
    ['ten digits', '1234567890'],
    ['digits then junk', '12abc'],
    ['junk then digits', 'x12'],
  ])('leaves retryAfter undefined (never NaN) for a malformed Retry-After: %s', async (_name, value) => {
    const error = await refusal({ status: 429, headers: { 'retry-after': value } });
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfter).toBeUndefined();
  });

  it('leaves retryAfter undefined when neither header is sent', async () => {
    expect((await refusal({ status: 429 })).retryAfter).toBeUndefined();
  });

  it('gives no retryAfter to a refusal that is not a 429, whatever its headers say', async () => {
    const error = await refusal({ status: 503, headers: { 'retry-after': '5', 'ratelimit-reset': '5' } });
    expect(error.code).toBe('persona_unavailable');
    expect(error.retryAfter).toBeUndefined();
  });
});

describe('the status ranges at their ends', () => {
  it.each([
    [500, 'persona_unavailable'],
    [599, 'persona_unavailable'],
    [600, 'invalid_response'],
    [999, 'invalid_response'],
    [499, 'invalid_response'],
    [405, 'invalid_response'],
  ])('HTTP %i → %s', async (status, code) => {
    const error = await refusal({ status });
    expect(error.code).toBe(code);
    expect(error.personaStatus).toBe(status);
    expect(error.requestId).toBe('req_edges');
    expect(error.message).toContain(String(status));
  });
});

describe("Persona's error texts: cut at 500 characters", () => {
  it('keeps a 500-character title, details and pointer whole', async () => {
    const text = 'x'.repeat(500);
    const error = await refusal({
      status: 422,
      body: { errors: [{ title: text, details: text, source: { pointer: text } }] },
    });
    expect(error.personaErrors).toEqual([{ title: text, details: text, pointer: text }]);
  });

  it('cuts a 501-character title, details and pointer to 500 and an ellipsis', async () => {
    const text = 'y'.repeat(501);
    const cut = `${'y'.repeat(500)}…`;
    const error = await refusal({
      status: 422,
      body: { errors: [{ title: text, details: text, source: { pointer: text } }] },
    });
    expect(error.personaErrors).toEqual([{ title: cut, details: cut, pointer: cut }]);
  });

  it('keeps the first 10 errors, and skips those without a string title', async () => {
    const errors = [
      { details: 'no title' },
      null,
      'text',
      ...Array.from({ length: 12 }, (_, i) => ({ title: `E${i}` })),
    ];
    const error = await refusal({ status: 422, body: { errors } });
    expect(error.personaErrors.map((e) => e.title)).toEqual(['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6']);
  });
});
