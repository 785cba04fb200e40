import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { inspect } from 'node:util';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXCHANGE_CHANNEL, type ExchangeReport } from '../../src/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { captureDebugLog } from '../helpers/diagnostics.js';
import { type Behaviour, json, type RawServer, respond, startRawServer } from '../helpers/raw-server.js';

// A raw TCP server that speaks just enough HTTP/1.1 to misbehave in every way a token endpoint
// can: each test names a behaviour, the server reads the request and acts it out. The same table
// for all three calls (exchange, Create Authorization, read) is in three-calls.test.ts.

const API_KEY = 'persona_production_hostile-suite-api-key-0123456789';
const TIMEOUT_MS = 500;
const MARGIN_MS = 700;

const GOOD = JSON.stringify({
  'access-token': 'persona_access_token_11111111-2222-4333-8444-555555555555',
  'expires-in': 3599,
  scope: 'inquiry.read:inq_A',
  'token-type': 'bearer',
});

function send(status: number, body: string, headers?: Record<string, string>): Behaviour {
  return (socket) => socket.end(respond(status, body, headers));
}

function token(overrides: Record<string, unknown>): Behaviour {
  return json(201, { ...(JSON.parse(GOOD) as Record<string, unknown>), ...overrides });
}

interface Case {
  name: string;
  behaviour: Behaviour;
  status: number;
  code: string;
  /** Requests the server should see (retries included), or a [min, max] range; default 1. */
  attempts?: number | [number, number];
  /** The deadline for this case, when it is not TIMEOUT_MS. */
  timeoutMs?: number;
}

const cases: Case[] = [
  { name: 'headers never sent', behaviour: () => {}, status: 504, code: 'timeout' },
  {
    name: 'body drips past the deadline',
    behaviour: (socket) => {
      socket.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
      const timer = setInterval(() => (socket.writable ? socket.write(' ') : clearInterval(timer)), 50);
      socket.on('close', () => clearInterval(timer));
    },
    status: 504,
    code: 'timeout',
  },
  {
    name: 'reset before headers (every attempt)',
    behaviour: (socket) => socket.resetAndDestroy(),
    status: 502,
    code: 'network',
    attempts: [2, 3],
    // Three attempts and two backoffs (up to 600 ms): room enough that a loaded machine does
    // not turn the outcome into a timeout.
    timeoutMs: 2500,
  },
  {
    name: 'reset after headers',
    behaviour: (socket) => {
      socket.write(
        'HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"access-token":',
      );
      setTimeout(() => socket.resetAndDestroy(), 20);
    },
    status: 502,
    code: 'network',
  },
  {
    name: '10 MB body (declared)',
    behaviour: (socket) => {
      socket.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n');
      socket.write(Buffer.alloc(1024 * 1024, 0x20));
    },
    status: 502,
    code: 'invalid_response',
  },
  {
    name: '10 MB body (chunked, no length)',
    behaviour: (socket) => {
      socket.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = (): void => {
        while (sent < 10 * 1024 * 1024 && socket.writable) {
          sent += chunk.length;
          if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString()}\r\n`))
            return void socket.once('drain', pump);
        }
      };
      pump();
    },
    status: 502,
    code: 'invalid_response',
  },
  {
    name: 'invalid JSON',
    behaviour: send(201, '{"access-token": "persona_access_token_x",'),
    status: 502,
    code: 'invalid_response',
  },
  { name: 'empty 201', behaviour: send(201, ''), status: 502, code: 'invalid_response' },
  { name: 'a JSON array', behaviour: json(201, [GOOD]), status: 502, code: 'invalid_response' },
  { name: 'a JSON string', behaviour: json(201, GOOD), status: 502, code: 'invalid_response' },
  { name: 'JSON null', behaviour: send(201, 'null'), status: 502, code: 'invalid_response' },
  {
    name: 'access token missing',
    behaviour: token({ 'access-token': undefined }),
    status: 502,
    code: 'invalid_response',
  },
  { name: 'access token null', behaviour: token({ 'access-token': null }), status: 502, code: 'invalid_response' },
  { name: 'access token a number', behaviour: token({ 'access-token': 42 }), status: 502, code: 'invalid_response' },
  {
    name: 'access token with CRLF',
    behaviour: token({ 'access-token': 'persona_access_token_a\r\nX-Evil: 1' }),
    status: 502,
    code: 'invalid_response',
  },
  { name: 'expires-in a string', behaviour: token({ 'expires-in': '3599' }), status: 502, code: 'invalid_response' },
  { name: 'expires-in negative', behaviour: token({ 'expires-in': -1 }), status: 502, code: 'invalid_response' },
  { name: 'expires-in fractional', behaviour: token({ 'expires-in': 1.5 }), status: 502, code: 'invalid_response' },
  { name: 'expires-in a boolean', behaviour: token({ 'expires-in': true }), status: 502, code: 'invalid_response' },
  { name: 'scope a number', behaviour: token({ scope: 7 }), status: 502, code: 'invalid_response' },
  {
    name: 'scope an array',
    behaviour: token({ scope: ['inquiry.read:inq_A'] }),
    status: 502,
    code: 'invalid_response',
  },
  { name: 'scope malformed', behaviour: token({ scope: 'inquiry.read' }), status: 502, code: 'invalid_response' },
  { name: 'token type a number', behaviour: token({ 'token-type': 1 }), status: 502, code: 'invalid_response' },
  { name: 'token type mac', behaviour: token({ 'token-type': 'mac' }), status: 502, code: 'invalid_response' },
  {
    name: 'HTML 502',
    behaviour: send(502, '<html><body>Bad gateway</body></html>', { 'content-type': 'text/html' }),
    status: 502,
    code: 'persona_unavailable',
  },
  {
    name: '301 redirect',
    behaviour: send(301, '', { location: 'http://127.0.0.1:1/steal' }),
    status: 502,
    code: 'invalid_response',
  },
  {
    name: '302 redirect',
    behaviour: send(302, '', { location: 'http://127.0.0.1:1/steal' }),
    status: 502,
    code: 'invalid_response',
  },
  {
    name: '307 redirect',
    behaviour: send(307, '', { location: 'http://127.0.0.1:1/steal' }),
    status: 502,
    code: 'invalid_response',
  },
  {
    name: '429 with RateLimit-Reset past the deadline',
    behaviour: json(429, { errors: [{ title: 'Rate limit exceeded' }] }, { 'ratelimit-reset': '60' }),
    status: 503,
    code: 'rate_limited',
  },
  {
    name: '429 without RateLimit-Reset (retried, then given up)',
    behaviour: json(429, { errors: [{ title: 'Rate limit exceeded' }] }),
    status: 503,
    code: 'rate_limited',
    attempts: [2, 3],
    timeoutMs: 2500,
  },
  {
    name: '500',
    behaviour: json(500, { errors: [{ title: 'Internal server error' }] }),
    status: 502,
    code: 'persona_unavailable',
  },
  {
    name: '503',
    behaviour: json(503, { errors: [{ title: 'Service unavailable' }] }),
    status: 502,
    code: 'persona_unavailable',
  },
  {
    name: '401',
    behaviour: json(401, { errors: [{ title: 'Must be authenticated' }] }),
    status: 500,
    code: 'invalid_api_key',
  },
  { name: '403', behaviour: json(403, { errors: [{ title: 'Forbidden' }] }), status: 500, code: 'forbidden' },
  {
    name: '418',
    behaviour: send(418, "I'm a teapot", { 'content-type': 'text/plain' }),
    status: 502,
    code: 'invalid_response',
  },
  {
    name: '404 on the code',
    behaviour: json(404, { errors: [{ title: 'Not found' }] }),
    status: 401,
    code: 'invalid_grant',
  },
];

let server: RawServer;

const logLines: string[] = [];
const reports: ExchangeReport[] = [];
const unhandled: unknown[] = [];
const onReport = (message: unknown): void => void reports.push(message as ExchangeReport);
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
let restoreLog: () => void = () => {};

beforeAll(async () => {
  server = await startRawServer();
  restoreLog = captureDebugLog(logLines);
  subscribe(EXCHANGE_CHANNEL, onReport);
  process.on('unhandledRejection', onUnhandled);
});

afterAll(async () => {
  restoreLog();
  unsubscribe(EXCHANGE_CHANNEL, onReport);
  process.off('unhandledRejection', onUnhandled);
  await server.close();
});

describe('hostile token endpoint: every outcome is defined, bounded and leak-free', () => {
  let code = 0;
  const seenCodes: string[] = [];
  const answers: string[] = [];

  it.each(cases)('$name → $status $code', async (c) => {
    server.act(c.behaviour);
    const timeoutMs = c.timeoutMs ?? TIMEOUT_MS;
    const app: TestApp = createTestApp({ apiKey: API_KEY, baseURL: server.url, timeoutMs });
    code += 1;
    const authCode = `hostile-authorization-code-${code}-abcdef`;
    seenCodes.push(authCode);
    const started = performance.now();
    const res = await request(app.app).get('/callback').query({ code: authCode });
    const elapsed = performance.now() - started;
    answers.push(res.text, JSON.stringify(res.headers));

    expect(res.status).toBe(c.status);
    const body = res.body as { code?: string; info?: { code?: string } };
    expect(body.code ?? body.info?.code).toBe(c.code);
    expect(elapsed).toBeLessThan(timeoutMs + MARGIN_MS);
    // Backoff is jittered and never crosses the deadline, so a retry may be skipped near it.
    const [min, max] = Array.isArray(c.attempts) ? c.attempts : [c.attempts ?? 1, c.attempts ?? 1];
    expect(server.heads.length).toBeGreaterThanOrEqual(min);
    expect(server.heads.length).toBeLessThanOrEqual(max);

    await app.strategy.close();
    await expect.poll(() => server.sockets.size, { timeout: 2000 }).toBe(0);
  });

  it('left no unhandled rejection, logged one line per exchange, and leaked no secret anywhere', () => {
    expect(unhandled).toEqual([]);
    const exchangeLines = logLines.filter((l) => l.startsWith('passport-withpersona exchange'));
    expect(exchangeLines).toHaveLength(cases.length);
    expect(reports).toHaveLength(cases.length);
    expect(reports.every((r) => r.outcome === 'error' && typeof r.durationMs === 'number')).toBe(true);
    const everything = [...logLines, ...answers, inspect(reports, { depth: 5 }), JSON.stringify(reports)].join('\n');
    expect(everything).not.toContain(API_KEY);
    expect(everything).not.toContain('persona_access_token_11111111');
    for (const c of seenCodes) expect(everything).not.toContain(c);
  });
});
