import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  CALL_CHANNEL,
  type CodeExchanger,
  createAuthorization,
  createCodeExchanger,
  createSharedObjectReader,
  EXCHANGE_CHANNEL,
} from '../../src/index.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

// The DEBUG line and the diagnostics channels in this process, over real HTTP on loopback:
// which DEBUG and NODE_DEBUG values turn the line on (the `debug` package's patterns), that a
// change takes effect at the next call, the exact fields of each line, and the channels' names.
// (test/logging.test.ts checks the same in a child process running the built package.)

const API_KEY = 'persona_production_diagnostics-log-key-0123456789';
const CODE = 'code_diagnostics_log_0123456789';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}

let answer: Answer = { status: 201, body: TOKEN_BODY };
let server: TokenServer;
let exchanger: CodeExchanger;
const saved = { DEBUG: process.env.DEBUG, NODE_DEBUG: process.env.NODE_DEBUG };

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  });
  exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, retries: 0 });
});

afterAll(async () => {
  await exchanger.close();
  await server.close();
});

afterEach(() => setEnv(saved));

function setEnv(env: { DEBUG?: string | undefined; NODE_DEBUG?: string | undefined }): void {
  for (const name of ['DEBUG', 'NODE_DEBUG'] as const) {
    const value = env[name];
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

/** The lines `run` writes to stderr that come from this package. */
async function linesOf(run: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const original = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await run().catch(() => undefined);
  } finally {
    process.stderr.write = original;
  }
  return written.filter((text) => text.startsWith('passport-withpersona'));
}

const exchange = () => exchanger.exchange(CODE);

describe('when the DEBUG line is written', () => {
  // First in the file: the module reads the variables for the first time here.
  it('not with neither variable set', async () => {
    setEnv({});
    expect(await linesOf(exchange)).toEqual([]);
  });

  it.each([
    ['the name', 'passport-withpersona', 1],
    ['the name in capitals', 'PASSPORT-WITHPERSONA', 1],
    ['*', '*', 1],
    ['a wildcard', 'passport-*', 1],
    ['a list with commas', 'express:*,passport-withpersona', 1],
    ['a list with spaces and commas', 'express:*, passport-withpersona  koa', 1],
    ['another name', 'express:*', 0],
    ['a prefix of the name', 'passport', 0],
    ['the name with a dot for its dash', 'passport.withpersona', 0],
    ['the name in parentheses', '(passport-withpersona)', 0],
    ['the name followed by +', 'passport-withpersona+', 0],
    ['the name negated after *', '*,-passport-withpersona', 0],
    ['the name negated before it is named', '-passport-withpersona,passport-withpersona', 0],
    ['another name negated', 'passport-withpersona,-express:*', 1],
    ['only separators', ' , ', 0],
  ])('DEBUG set to %s: %i line', async (_name, value, count) => {
    setEnv({ DEBUG: value });
    expect(await linesOf(exchange)).toHaveLength(count);
  });

  it('NODE_DEBUG alone, and either of the two', async () => {
    setEnv({ NODE_DEBUG: 'passport-withpersona' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ DEBUG: 'express:*', NODE_DEBUG: 'passport-withpersona' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ DEBUG: 'passport-withpersona', NODE_DEBUG: 'http' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ DEBUG: 'express:*', NODE_DEBUG: 'http' });
    expect(await linesOf(exchange)).toEqual([]);
  });

  it('follows each change of either variable at the next call', async () => {
    setEnv({});
    expect(await linesOf(exchange)).toEqual([]);
    setEnv({ DEBUG: 'passport-withpersona' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ DEBUG: 'passport-withpersona', NODE_DEBUG: 'http' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ NODE_DEBUG: 'http' });
    expect(await linesOf(exchange)).toEqual([]);
    setEnv({ NODE_DEBUG: 'passport-withpersona' });
    expect(await linesOf(exchange)).toHaveLength(1);
    setEnv({ NODE_DEBUG: 'http' });
    expect(await linesOf(exchange)).toEqual([]);
  });
});

describe('what the DEBUG line says', () => {
  it('a success: every field, with Persona’s Request-Id and RateLimit-Remaining', async () => {
    setEnv({ DEBUG: 'passport-withpersona' });
    answer = { status: 201, headers: { 'request-id': 'req_log_1', 'ratelimit-remaining': '42' }, body: TOKEN_BODY };
    expect(await linesOf(exchange)).toEqual([
      expect.stringMatching(
        /^passport-withpersona exchange success persona_status=201 duration_ms=\d+\.\d attempts=1 request_id=req_log_1 ratelimit_remaining=42\n$/,
      ),
    ]);
  });

  it('a refusal: its code, and - for what Persona did not send', async () => {
    setEnv({ DEBUG: 'passport-withpersona' });
    answer = { status: 400, body: { errors: [{ title: 'Invalid code' }] } };
    expect(await linesOf(exchange)).toEqual([
      expect.stringMatching(
        /^passport-withpersona exchange error code=invalid_grant persona_status=400 duration_ms=\d+\.\d attempts=1 request_id=- ratelimit_remaining=-\n$/,
      ),
    ]);
  });

  it('no answer at all: - for the status too', async () => {
    setEnv({ DEBUG: 'passport-withpersona' });
    const closed = await startTokenServer();
    const url = closed.url;
    await closed.close();
    const nowhere = createCodeExchanger({ apiKey: API_KEY, baseURL: url, retries: 0 });
    try {
      expect(await linesOf(() => nowhere.exchange(CODE))).toEqual([
        expect.stringMatching(
          /^passport-withpersona exchange error code=network persona_status=- duration_ms=\d+\.\d attempts=1 request_id=- ratelimit_remaining=-\n$/,
        ),
      ]);
    } finally {
      await nowhere.close();
    }
  });

  it('Create Authorization and a read each write their own line', async () => {
    setEnv({ DEBUG: 'passport-withpersona' });
    answer = { status: 201, headers: { 'request-id': 'req_authz' }, body: { code: 'c_log', 'expires-in': 600 } };
    const authorize = () =>
      createAuthorization({ apiKey: API_KEY, baseURL: server.url, clientId: 'org_1', scope: 'inquiry.read:inq_1' });
    expect(await linesOf(authorize)).toEqual([
      expect.stringMatching(/^passport-withpersona authorize success persona_status=201 .* request_id=req_authz /),
    ]);

    answer = { status: 200, headers: { 'request-id': 'req_read' }, body: { data: { type: 'inquiry', id: 'inq_1' } } };
    const reader = createSharedObjectReader({ baseURL: server.url });
    try {
      const read = () =>
        reader.read({ accessToken: 'persona_access_token_log', scope: 'inquiry.read:inq_1' }, 'inquiry', 'inq_1');
      expect(await linesOf(read)).toEqual([
        expect.stringMatching(/^passport-withpersona read success persona_status=200 .* request_id=req_read /),
      ]);
    } finally {
      await reader.close();
    }
  });
});

describe('the diagnostics channels', () => {
  it('are named as documented, the exchange on one and the other calls on the other', async () => {
    expect(EXCHANGE_CHANNEL).toBe('passport-withpersona:exchange');
    expect(CALL_CHANNEL).toBe('passport-withpersona:call');
    const seen: [string, unknown][] = [];
    const onExchange = (message: unknown) => void seen.push(['exchange', message]);
    const onCall = (message: unknown) => void seen.push(['call', message]);
    subscribe('passport-withpersona:exchange', onExchange);
    subscribe('passport-withpersona:call', onCall);
    try {
      answer = { status: 201, body: TOKEN_BODY };
      await exchange();
      answer = { status: 201, body: { code: 'c_channel', 'expires-in': 600 } };
      await createAuthorization({
        apiKey: API_KEY,
        baseURL: server.url,
        clientId: 'org_1',
        scope: 'inquiry.read:inq_1',
      });
    } finally {
      unsubscribe('passport-withpersona:exchange', onExchange);
      unsubscribe('passport-withpersona:call', onCall);
    }
    expect(seen).toEqual([
      ['exchange', expect.objectContaining({ outcome: 'success', personaStatus: 201 })],
      ['call', expect.objectContaining({ call: 'authorize', outcome: 'success', personaStatus: 201 })],
    ]);
  });
});
