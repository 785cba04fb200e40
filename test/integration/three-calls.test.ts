import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersonaOAuthError } from '../../src/index.js';
import { captureDebugLog } from '../helpers/diagnostics.js';
import {
  API_KEY,
  CALLS,
  CODE,
  collectCallReports,
  echoesIn,
  type PersonaCallUnderTest,
  TOKEN,
} from '../helpers/persona-calls.js';
import { type Behaviour, json, type RawServer, respond, startRawServer } from '../helpers/raw-server.js';

// What every call to Persona guarantees, checked on each of the three: the exchange, the owner's
// Create Authorization and the recipient's read. A hostile server acts out each behaviour; the
// call must end with the right code, on time, with the right number of attempts, leaving no
// socket open, and no secret in the error, its JSON or inspect output, the DEBUG line or the report.

const TIMEOUT_MS = 300;
// What the call's own duration (from its report) may exceed the deadline by.
const MARGIN_MS = 150;

interface Case {
  name: string;
  behaviour: Behaviour;
  /** The code of the failure, or a function of the call for the statuses whose meaning differs. */
  code: string | ((call: PersonaCallUnderTest) => string);
  attempts?: number | [number, number];
  timeoutMs?: number;
  https?: true;
  /** Secrets the answer handed to the call, beyond those it holds. */
  handed?: (call: PersonaCallUnderTest) => string[];
}

const drip: Behaviour = (socket) => {
  socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{');
  const timer = setInterval(() => (socket.writable ? socket.write(' ') : clearInterval(timer)), 50);
  socket.on('close', () => clearInterval(timer));
};

const cases: Case[] = [
  { name: 'TLS handshake never answered', behaviour: () => {}, code: 'timeout', attempts: 0, https: true },
  { name: 'headers never sent', behaviour: () => {}, code: 'timeout' },
  { name: 'body drips past the deadline', behaviour: drip, code: 'timeout' },
  {
    name: 'a 429, then silence: the deadline spans the retry',
    behaviour: (socket, attempt) => {
      if (attempt === 1) socket.end(respond(429, '{}', { 'ratelimit-reset': '0' }));
    },
    code: 'timeout',
    attempts: 2,
  },
  {
    name: 'reset before headers (every attempt)',
    behaviour: (socket) => socket.resetAndDestroy(),
    code: 'network',
    attempts: [2, 3],
    timeoutMs: 2500,
  },
  {
    name: 'reset after headers',
    behaviour: (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"x":');
      setTimeout(() => socket.resetAndDestroy(), 20);
    },
    code: 'network',
  },
  {
    name: '10 MB body (declared)',
    behaviour: (socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10485760\r\n\r\n');
      socket.write(Buffer.alloc(1024 * 1024, 0x20));
    },
    code: 'invalid_response',
  },
  { name: 'invalid JSON', behaviour: (socket) => socket.end(respond(200, '{"code":')), code: 'invalid_response' },
  { name: 'a JSON array', behaviour: json(200, []), code: 'invalid_response' },
  {
    name: '302 redirect',
    behaviour: (socket) => socket.end(respond(302, '', { location: 'http://127.0.0.1:1/steal' })),
    code: 'invalid_response',
  },
  {
    name: '429 with RateLimit-Reset past the deadline',
    behaviour: json(429, { errors: [{ title: 'Rate limit exceeded' }] }, { 'ratelimit-reset': '60' }),
    code: 'rate_limited',
  },
  {
    name: '429 without RateLimit-Reset (retried, then given up)',
    behaviour: json(429, { errors: [{ title: 'Rate limit exceeded' }] }),
    code: 'rate_limited',
    attempts: [2, 3],
    timeoutMs: 2500,
  },
  { name: '500', behaviour: json(500, { errors: [{ title: 'Internal server error' }] }), code: 'persona_unavailable' },
  { name: '401', behaviour: json(401, { errors: [{ title: 'Must be authenticated' }] }), code: (c) => c.codes[401] },
  { name: '403', behaviour: json(403, { errors: [{ title: 'Forbidden' }] }), code: (c) => c.codes[403] },
  {
    name: 'every secret echoed in errors[] and the Request-Id',
    behaviour: json(
      500,
      { errors: [{ title: `key ${API_KEY.slice(0, -1)}`, details: `code=${CODE.slice(1)} token ${TOKEN}` }] },
      { 'request-id': `req_${API_KEY.slice(3, 40)}` },
    ),
    code: 'persona_unavailable',
  },
  {
    name: 'a code and a token in a refused 2xx body, echoed in the Request-Id',
    behaviour: json(
      200,
      { code: CODE, 'access-token': TOKEN, 'expires-in': 'soon', data: { id: 'x' } },
      { 'request-id': `req_${CODE.slice(2)}_${TOKEN.slice(25)}` },
    ),
    code: 'invalid_response',
    handed: (call) => ({ exchange: [TOKEN], authorize: [CODE], read: [] })[call.name],
  },
];

let server: RawServer;
const logLines: string[] = [];
const said: { call: PersonaCallUnderTest; text: string }[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
let restoreLog: () => void = () => {};

beforeAll(async () => {
  server = await startRawServer();
  restoreLog = captureDebugLog(logLines);
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  restoreLog();
  process.off('unhandledRejection', onUnhandled);
  await server.close();
});

async function failureOf(call: PersonaCallUnderTest, timeoutMs: number, https = false): Promise<PersonaOAuthError> {
  const baseURL = https ? server.httpsURL : server.url;
  const { result, reports } = await collectCallReports(() =>
    call.run({ baseURL, timeoutMs }).then(
      () => undefined,
      (error: unknown) => error,
    ),
  );
  expect(result).toBeInstanceOf(PersonaOAuthError);
  const error = result as PersonaOAuthError;
  expect(reports).toHaveLength(1);
  expect(reports[0]).toMatchObject({ outcome: 'error', code: error.code });
  expect(reports[0]?.durationMs).toBeLessThan(timeoutMs + MARGIN_MS);
  for (const text of [error.message, JSON.stringify(error), inspect(error, { depth: null }), inspect(reports)]) {
    said.push({ call, text });
  }
  return error;
}

describe.each(CALLS)('$name: every outcome is defined, bounded and leak-free', (call) => {
  it.each(cases)('$name', async (c) => {
    server.act(c.behaviour);
    const error = await failureOf(call, c.timeoutMs ?? TIMEOUT_MS, c.https);
    if (c.handed) expect(echoesIn(inspect(error), [...call.secrets, ...c.handed(call)])).toEqual([]);
    expect(error.code).toBe(typeof c.code === 'string' ? c.code : c.code(call));
    const [min, max] = Array.isArray(c.attempts) ? c.attempts : [c.attempts ?? 1, c.attempts ?? 1];
    expect(server.heads.length).toBeGreaterThanOrEqual(min);
    expect(server.heads.length).toBeLessThanOrEqual(max);
    if (server.heads.length > 0) expect(server.heads[0]?.startsWith(`${call.method} /api/v1/`)).toBe(true);
    await expect.poll(() => server.sockets.size, { timeout: 2000 }).toBe(0);
  });

  it('a 429 then the answer: retried on the same Idempotency-Key (POST), and resolves', async () => {
    server.act((socket, attempt) =>
      socket.end(
        attempt === 1
          ? respond(429, '{}', { 'ratelimit-reset': '0' })
          : respond(call.method === 'POST' ? 201 : 200, JSON.stringify(call.success)),
      ),
    );
    const { result, reports } = await collectCallReports(() => call.run({ baseURL: server.url, timeoutMs: 2000 }));
    expect(result).toBeDefined();
    expect(reports).toMatchObject([{ outcome: 'success', attempts: 2 }]);
    const keys = server.heads.map((head) => /idempotency-key: (\S+)/i.exec(head)?.[1]);
    if (call.method === 'POST') {
      expect(keys[0]).toMatch(/^pwp3-/);
      expect(keys[1]).toBe(keys[0]);
    } else {
      expect(keys).toEqual([undefined, undefined]);
    }
  });

  it('the caller’s signal aborts it (aborted), and nothing is left open', async () => {
    server.act(() => {});
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const error = await call.run({ baseURL: server.url, timeoutMs: 5000, signal: abort.signal }).then(
      () => undefined,
      (e: unknown) => e as PersonaOAuthError,
    );
    expect(error?.code).toBe('aborted');
    await expect.poll(() => server.sockets.size, { timeout: 2000 }).toBe(0);
  });
});

it('left no unhandled rejection, and no secret in any error, report or DEBUG line', () => {
  expect(unhandled).toEqual([]);
  expect(said.filter(({ text }) => text.includes('[REDACTED]')).length).toBeGreaterThanOrEqual(CALLS.length);
  for (const { call, text } of said) expect(echoesIn(text, call.secrets), text).toEqual([]);
  for (const call of CALLS) {
    const lines = logLines.filter((line) => line.startsWith(`passport-withpersona ${call.name} `));
    expect(lines.filter((line) => line.includes(' error ')).length).toBeGreaterThanOrEqual(cases.length);
    expect(echoesIn(lines.join('\n'), call.secrets)).toEqual([]);
  }
});
