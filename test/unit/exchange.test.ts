import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import { type Dispatcher, MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EXCHANGE_CHANNEL,
  PersonaOAuthError,
  createCodeExchanger,
  type ExchangeReport,
  type CodeExchanger,
  type CodeExchangerOptions,
} from '../../src/index.js';
import { VERSION } from '../../src/version.js';

const ORIGIN = 'http://127.0.0.1:9';
const TOKEN_PATH = '/api/v1/oauth/token';
const API_KEY = 'persona_sandbox_orgB_key_7f3a9c2e1b';
const CODE = 'authcode_9f8e7d6c5b4a';
const TOKEN = 'persona_access_token_d8b7f084-385f-4ff0-930e-1580ccefa16d';
const SCOPE = 'inquiry.read:inq_uX7kRTiBxsJ1sZqPLAsjdP9j';
const SUCCESS = { 'access-token': TOKEN, 'expires-in': 3599, scope: SCOPE, 'token-type': 'bearer' };

interface Seen {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

let agent: MockAgent;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});

afterEach(async () => {
  await agent.close();
});

function exchanger(options: Partial<CodeExchangerOptions> = {}): CodeExchanger {
  return createCodeExchanger({ apiKey: API_KEY, baseURL: ORIGIN, dispatcher: agent, retries: 0, ...options });
}

/** The request's headers as the mock saw them, names in lower case. */
function lowerHeaders(headers: unknown): Record<string, string> {
  const entries = Object.entries((headers ?? {}) as Record<string, unknown>);
  return Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), String(value)]));
}

/** Intercepts the token endpoint once (or `times`), recording what reached it. */
function intercept(
  statusCode: number,
  data: unknown,
  headers: Record<string, string> = {},
  times = 1,
  origin = ORIGIN,
  path = TOKEN_PATH,
): Seen[] {
  const seen: Seen[] = [];
  agent
    .get(origin)
    .intercept({ path, method: 'POST' })
    .reply((opts) => {
      seen.push({
        path: opts.path,
        method: opts.method,
        headers: lowerHeaders(opts.headers),
        body: String(opts.body),
      });
      return {
        statusCode,
        data: typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data),
        responseOptions: { headers: { 'content-type': 'application/json', ...headers } },
      };
    })
    .times(times);
  return seen;
}

async function failure(promise: Promise<unknown>): Promise<PersonaOAuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PersonaOAuthError);
    return error as PersonaOAuthError;
  }
  throw new Error('expected the exchange to fail');
}

function expectNoSecrets(error: PersonaOAuthError, secrets: string[] = [API_KEY, CODE, TOKEN]): void {
  const outputs = [error.message, error.stack ?? '', JSON.stringify(error), inspect(error, { depth: Infinity })];
  for (const text of outputs) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

describe('exchange: success', () => {
  it('posts the code and returns the parsed token set', async () => {
    const seen = intercept(201, SUCCESS, { 'request-id': 'req_abc123' });
    const before = Date.now();
    const tokens = await exchanger().exchange(CODE);
    expect(tokens).toMatchObject({
      accessToken: TOKEN,
      tokenType: 'bearer',
      expiresIn: 3599,
      scope: SCOPE,
      scopes: [
        { permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_uX7kRTiBxsJ1sZqPLAsjdP9j' },
      ],
      requestId: 'req_abc123',
    });
    expect(tokens.expiresAt).toBeGreaterThanOrEqual(before + 3_599_000);
    expect(tokens.expiresAt).toBeLessThanOrEqual(Date.now() + 3_599_000);
    expect(seen).toHaveLength(1);
    expect(agent.pendingInterceptors()).toEqual([]);
  });

  it('sends the documented request', async () => {
    const seen = intercept(201, SUCCESS);
    await exchanger().exchange(CODE);
    const request = seen[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(TOKEN_PATH);
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['user-agent']).toContain(`passport-withpersona/${VERSION}`);
    expect(request.headers['idempotency-key']).toMatch(
      /^pwp3-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(request.headers['persona-version']).toBeUndefined();
    expect(request.headers['key-inflection']).toBeUndefined();
    const body = new URLSearchParams(request.body);
    expect(body.get('code')).toBe(CODE);
    expect(body.get('grant-type')).toBe('authorization_code');
    expect([...body.keys()].sort()).toEqual(['code', 'grant-type']);
  });

  it('sends Persona-Version and Key-Inflection when configured', async () => {
    const seen = intercept(201, { accessToken: TOKEN, expiresIn: 3599, scope: SCOPE, tokenType: 'bearer' });
    const tokens = await exchanger({ personaVersion: '2023-01-05', keyInflection: 'camel' }).exchange(CODE);
    expect(tokens.accessToken).toBe(TOKEN);
    expect(seen[0]!.headers['persona-version']).toBe('2023-01-05');
    expect(seen[0]!.headers['key-inflection']).toBe('camel');
  });

  it('encodes a code holding form-reserved characters so it arrives intact', async () => {
    const tricky = 'a+b/c=d&grant-type=password% é';
    const seen = intercept(201, SUCCESS);
    await exchanger().exchange(tricky);
    const body = new URLSearchParams(seen[0]!.body);
    expect(body.getAll('code')).toEqual([tricky]);
    expect(body.getAll('grant-type')).toEqual(['authorization_code']);
  });

  it('reads a snake_case response', async () => {
    intercept(200, { access_token: TOKEN, expires_in: 60, scope: null, token_type: 'Bearer' });
    expect(await exchanger().exchange(CODE)).toMatchObject({
      accessToken: TOKEN,
      expiresIn: 60,
      scope: '',
      scopes: [],
    });
  });

  it('posts under a base URL path prefix', async () => {
    const seen = intercept(201, SUCCESS, {}, 1, 'https://persona.example.test', '/proxy/api/v1/oauth/token');
    await exchanger({ baseURL: 'https://persona.example.test/proxy' }).exchange(CODE);
    expect(seen[0]!.path).toBe('/proxy/api/v1/oauth/token');
  });

  it('publishes one report on the diagnostics channel, without secrets', async () => {
    const reports: ExchangeReport[] = [];
    const listener = (message: unknown) => reports.push(message as ExchangeReport);
    subscribe(EXCHANGE_CHANNEL, listener);
    try {
      intercept(201, SUCCESS, { 'request-id': 'req_r1' });
      await exchanger().exchange(CODE);
      intercept(422, { errors: [{ title: 'Bad code' }] }, { 'request-id': 'req_r2' });
      await failure(exchanger().exchange(CODE));
    } finally {
      unsubscribe(EXCHANGE_CHANNEL, listener);
    }
    expect(reports).toHaveLength(2);
    expect(reports[0]).toMatchObject({ outcome: 'success', personaStatus: 201, requestId: 'req_r1', attempts: 1 });
    expect(reports[1]).toMatchObject({
      outcome: 'error',
      code: 'invalid_grant',
      personaStatus: 422,
      requestId: 'req_r2',
      attempts: 1,
    });
    const text = JSON.stringify(reports);
    for (const secret of [API_KEY, CODE, TOKEN]) expect(text).not.toContain(secret);
  });
});

describe('exchange: status mapping', () => {
  it.each([
    [400, 'invalid_grant', 401],
    [404, 'invalid_grant', 401],
    [409, 'invalid_grant', 401],
    [422, 'invalid_grant', 401],
    [401, 'invalid_api_key', 500],
    [403, 'forbidden', 500],
    [429, 'rate_limited', 503],
    [500, 'persona_unavailable', 502],
    [502, 'persona_unavailable', 502],
    [503, 'persona_unavailable', 502],
    [504, 'persona_unavailable', 502],
    [418, 'invalid_response', 502],
    [402, 'invalid_response', 502],
    [301, 'invalid_response', 502],
    [302, 'invalid_response', 502],
    [307, 'invalid_response', 502],
  ])('maps HTTP %i to %s with status %i', async (personaStatus, code, status) => {
    const redirect: Record<string, string> =
      personaStatus >= 300 && personaStatus < 400 ? { location: `${ORIGIN}/elsewhere` } : {};
    intercept(personaStatus, { errors: [{ title: 'Something' }] }, { 'request-id': 'req_map', ...redirect });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.personaStatus).toBe(personaStatus);
    expect(error.requestId).toBe('req_map');
    expectNoSecrets(error);
  });

  it('does not follow a redirect', async () => {
    const seen = intercept(302, '', { location: `${ORIGIN}/elsewhere` });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/redirect/i);
    expect(seen).toHaveLength(1);
  });

  it('puts retryAfter from RateLimit-Reset on a 429', async () => {
    intercept(
      429,
      { errors: [{ title: 'Rate limit exceeded' }] },
      { 'ratelimit-reset': '17', 'ratelimit-limit': '300' },
    );
    const error = await failure(exchanger({ retries: 0 }).exchange(CODE));
    expect(error.code).toBe('rate_limited');
    expect(error.status).toBe(503);
    expect(error.retryAfter).toBe(17);
  });

  it('leaves retryAfter undefined on a 429 without RateLimit-Reset', async () => {
    intercept(429, { errors: [{ title: 'Rate limit exceeded' }] });
    const error = await failure(exchanger({ retries: 0 }).exchange(CODE));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfter).toBeUndefined();
  });

  it('ignores a malformed RateLimit-Reset', async () => {
    intercept(429, {}, { 'ratelimit-reset': 'soon' });
    const error = await failure(exchanger({ retries: 0 }).exchange(CODE));
    expect(error.retryAfter).toBeUndefined();
  });

  it('drops a Request-Id that is not short printable ASCII', async () => {
    intercept(422, {}, { 'request-id': 'x'.repeat(200) });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.requestId).toBeUndefined();
  });
});

describe('exchange: Persona errors[]', () => {
  it('parses titles, details and pointers', async () => {
    intercept(422, {
      errors: [
        { title: 'Invalid code', details: 'The code has expired', source: { pointer: '/code' } },
        { title: 'Second' },
        { details: 'no title: skipped' },
        'junk',
        null,
      ],
    });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.personaErrors).toEqual([
      { title: 'Invalid code', details: 'The code has expired', pointer: '/code' },
      { title: 'Second' },
    ]);
    // Persona's words stay in personaErrors: the message is the library's fixed text.
    expect(error.message).not.toContain('Invalid code');
    expect(error.message).toMatch(/^Persona refused the authorization code \(HTTP 422\)/);
  });

  it('redacts the code, the API key and access tokens echoed in errors[]', async () => {
    intercept(400, {
      errors: [
        {
          title: `Code ${CODE} is invalid`,
          details: `API key ${API_KEY} cannot use ${TOKEN}`,
          source: { pointer: `/code/${CODE}` },
        },
      ],
    });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.code).toBe('invalid_grant');
    expect(error.personaErrors).toEqual([
      {
        title: 'Code [REDACTED] is invalid',
        details: 'API key [REDACTED] cannot use [REDACTED]',
        pointer: '/code/[REDACTED]',
      },
    ]);
    expectNoSecrets(error);
  });

  it('keeps at most 10 errors and clips long texts', async () => {
    const errors = Array.from({ length: 20 }, (_, i) => ({ title: `E${i}`, details: 'd'.repeat(2000) }));
    intercept(422, { errors });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.personaErrors).toHaveLength(10);
    expect(error.personaErrors.map((e) => e.title)).toEqual([
      'E0',
      'E1',
      'E2',
      'E3',
      'E4',
      'E5',
      'E6',
      'E7',
      'E8',
      'E9',
    ]);
    expect(error.personaErrors[0]!.details!.length).toBeLessThanOrEqual(501);
    expect(error.personaErrors[0]!.details!.length).toBeGreaterThanOrEqual(100);
  });

  it.each([
    ['not JSON', '<html>502 Bad Gateway</html>'],
    ['a JSON array', '[1,2]'],
    ['JSON null', 'null'],
    ['a JSON number', '5'],
    ['errors not an array', '{"errors":{"title":"x"}}'],
    ['empty', ''],
  ])('gives no personaErrors when the error body is %s', async (_name, body) => {
    intercept(422, body);
    const error = await failure(exchanger().exchange(CODE));
    expect(error.code).toBe('invalid_grant');
    expect(error.personaErrors).toEqual([]);
  });
});

describe('exchange: invalid successful responses', () => {
  it.each([
    ['not JSON', '<html>ok</html>'],
    ['empty', ''],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['token type mac', JSON.stringify({ ...SUCCESS, 'token-type': 'mac' })],
    ['no access token', JSON.stringify({ ...SUCCESS, 'access-token': null })],
    ['expires-in as a string', JSON.stringify({ ...SUCCESS, 'expires-in': '3599' })],
    ['a malformed scope', JSON.stringify({ ...SUCCESS, scope: 'inquiry' })],
  ])('fails with invalid_response (502) when the body is %s', async (_name, body) => {
    intercept(201, body, { 'request-id': 'req_bad' });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.code).toBe('invalid_response');
    expect(error.status).toBe(502);
    expect(error.personaStatus).toBe(201);
    expect(error.requestId).toBe('req_bad');
    expectNoSecrets(error);
  });

  it('wraps the parser’s plain refusal with Persona’s context, keeping the scope’s SyntaxError as cause', async () => {
    intercept(201, { ...SUCCESS, scope: `inquiry.read:inq_1 ${CODE}` }, { 'request-id': 'req_scope' });
    const error = await failure(exchanger().exchange(CODE));
    expect(error.message).toBe("Persona's token response is invalid: scope is malformed");
    expect(error).toMatchObject({ code: 'invalid_response', status: 502, personaStatus: 201, requestId: 'req_scope' });
    // The malformed entry was the code: the SyntaxError that quotes it is summarised without it.
    expect((error.cause as Error).name).toBe('SyntaxError');
    expect((error.cause as Error).message).toMatch(/^Invalid scope entry "\[REDACTED\]"/);
    expectNoSecrets(error);
  });

  it('rejects a response larger than maxResponseBytes', async () => {
    intercept(201, { ...SUCCESS, padding: 'x'.repeat(2000) });
    const error = await failure(exchanger({ maxResponseBytes: 1024 }).exchange(CODE));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/larger than 1024 bytes/);
  });

  it('rejects a declared Content-Length above maxResponseBytes without reading the body', async () => {
    // The body itself would fit: only the declared length is too large.
    intercept(201, SUCCESS, { 'content-length': '100000' });
    const error = await failure(exchanger({ maxResponseBytes: 1024 }).exchange(CODE));
    expect(error.code).toBe('invalid_response');
    expect(error.message).toMatch(/larger than 1024 bytes/);
  });

  it('accepts a response right at maxResponseBytes', async () => {
    const base = JSON.stringify({ ...SUCCESS, padding: '' });
    const body = JSON.stringify({ ...SUCCESS, padding: 'x'.repeat(1024 - base.length) });
    expect(Buffer.byteLength(body)).toBe(1024);
    intercept(201, body);
    expect((await exchanger({ maxResponseBytes: 1024 }).exchange(CODE)).accessToken).toBe(TOKEN);
  });
});

describe('exchange: one request per exchange, and retries', () => {
  it('makes a request per exchange, even for one code twice in flight at once', async () => {
    const keys: string[] = [];
    agent
      .get(ORIGIN)
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .reply((options) => {
        keys.push(String((options.headers as Record<string, string>)['idempotency-key']));
        return keys.length === 1
          ? {
              statusCode: 201,
              data: JSON.stringify(SUCCESS),
              responseOptions: { headers: { 'content-type': 'application/json' } },
            }
          : { statusCode: 409, data: JSON.stringify({ errors: [{ title: 'used' }] }) };
      })
      .delay(50)
      .times(2);
    const s = exchanger();
    const [a, b] = await Promise.allSettled([s.exchange(CODE), s.exchange(CODE)]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
    expect(a.status).toBe('fulfilled');
    expect((b as PromiseRejectedResult).reason.code).toBe('invalid_grant');
  });

  it('makes separate requests for different codes', async () => {
    const seen = intercept(201, SUCCESS, {}, 2);
    const s = exchanger();
    await Promise.all([s.exchange('code_one'), s.exchange('code_two')]);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.headers['idempotency-key']).not.toBe(seen[1]!.headers['idempotency-key']);
  });

  it('makes a new request for the same code once the first has finished', async () => {
    const seen = intercept(422, {}, {}, 2);
    const s = exchanger();
    await failure(s.exchange(CODE));
    await failure(s.exchange(CODE));
    expect(seen).toHaveLength(2);
  });

  it('retries a 429 with the same Idempotency-Key, then succeeds', async () => {
    const limited = intercept(429, { errors: [{ title: 'Rate limit' }] }, { 'ratelimit-reset': '0' });
    const ok = intercept(201, SUCCESS);
    const tokens = await exchanger({ retries: 1 }).exchange(CODE);
    expect(tokens.accessToken).toBe(TOKEN);
    expect(limited).toHaveLength(1);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.headers['idempotency-key']).toBe(limited[0]!.headers['idempotency-key']);
  });

  it('gives up on 429 after the configured retries', async () => {
    const seen = intercept(429, {}, { 'ratelimit-reset': '0' }, 3);
    const error = await failure(exchanger({ retries: 2 }).exchange(CODE));
    expect(error.code).toBe('rate_limited');
    expect(seen).toHaveLength(3);
  });

  it('does not retry a 429 whose reset is beyond the deadline', async () => {
    const seen = intercept(429, {}, { 'ratelimit-reset': '60' }, 2);
    const started = Date.now();
    const error = await failure(exchanger({ retries: 1, timeoutMs: 2000 }).exchange(CODE));
    expect(error.code).toBe('rate_limited');
    expect(error.retryAfter).toBe(60);
    expect(seen).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('never retries a 5xx', async () => {
    const seen = intercept(500, {}, {}, 3);
    const error = await failure(exchanger({ retries: 2 }).exchange(CODE));
    expect(error.code).toBe('persona_unavailable');
    expect(seen).toHaveLength(1);
  });

  it('retries a refused connection', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const ok = intercept(201, SUCCESS);
    const tokens = await exchanger({ retries: 1 }).exchange(CODE);
    expect(tokens.accessToken).toBe(TOKEN);
    expect(ok).toHaveLength(1);
  });

  it('fails with network (502) when the connection fails and no retry is left', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .replyWithError(Object.assign(new Error(`reset while sending ${API_KEY}`), { code: 'ECONNRESET' }));
    const error = await failure(exchanger({ retries: 0 }).exchange(CODE));
    expect(error.code).toBe('network');
    expect(error.status).toBe(502);
    expect(error.personaStatus).toBeUndefined();
    expectNoSecrets(error);
  });

  it('does not retry an error that is not a connection failure', async () => {
    agent
      .get(ORIGIN)
      .intercept({ path: TOKEN_PATH, method: 'POST' })
      .replyWithError(Object.assign(new Error('weird'), { code: 'EWEIRD' }));
    const ok = intercept(201, SUCCESS);
    const error = await failure(exchanger({ retries: 2 }).exchange(CODE));
    expect(error.code).toBe('network');
    expect(ok).toHaveLength(0);
  });

  it('rejects (never throws) when a dispatcher throws from dispatch(), with the API key redacted', async () => {
    const throwing = {
      dispatch() {
        throw new Error(`cannot dispatch with ${API_KEY}`);
      },
    } as unknown as Dispatcher;
    const exchange = createCodeExchanger({ apiKey: API_KEY, baseURL: ORIGIN, dispatcher: throwing }).exchange(CODE);
    const error = await failure(exchange);
    expect(error.code).toBe('network');
    expect(error.status).toBe(502);
    expectNoSecrets(error);
  });

  it('fails with timeout (504) when Persona does not answer before timeoutMs', async () => {
    agent.get(ORIGIN).intercept({ path: TOKEN_PATH, method: 'POST' }).reply(201, JSON.stringify(SUCCESS)).delay(2000);
    const started = Date.now();
    const error = await failure(exchanger({ timeoutMs: 150 }).exchange(CODE));
    expect(error.code).toBe('timeout');
    expect(error.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
