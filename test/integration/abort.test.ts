import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodeExchanger } from '../../src/index.js';
import { collectReports } from '../helpers/diagnostics.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';
import request from 'supertest';
import { createTestApp } from '../helpers/app.js';

// close() and a caller's AbortSignal end an exchange in flight at once, with their own codes,
// whatever the exchange is waiting for: a response, or a retry's backoff.

const API_KEY = 'persona_test_key_for_abort_0123456789';
const CODE = 'code_for_abort_tests_0123456789';
let server: TokenServer;
let behaviour: 'hold' | 'rate-limit' = 'hold';

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    if (behaviour === 'rate-limit') {
      res.writeHead(429, { 'content-type': 'application/json', 'ratelimit-reset': '2' });
      res.end('{"errors":[{"title":"Rate limit exceeded"}]}');
    }
    // 'hold': never answer; the server's close() ends the socket.
  });
});
afterAll(async () => {
  await server.close();
});

async function settleTime(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await promise;
    return { error: undefined, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe.each(['hold', 'rate-limit'] as const)('an exchange in flight (Persona: %s)', (mode) => {
  it('close() rejects it at once with `closed`, not a network error, and leaves no timer behind', async () => {
    behaviour = mode;
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, timeoutMs: 5000 });
    const { result, reports } = await collectReports(async () => {
      const pending = settleTime(exchanger.exchange(CODE));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = exchanger.close();
      const outcome = await pending;
      await closing;
      return outcome;
    });
    expect(result.ms).toBeLessThan(1000);
    expect(result.error).toMatchObject({ name: 'PersonaOAuthError', code: 'closed', status: 503 });
    expect(String((result.error as Error).message)).not.toContain(API_KEY);
    expect(reports).toEqual([expect.objectContaining({ outcome: 'error', code: 'closed' })]);
    // A closed exchanger refuses at once, without a request.
    const before = server.requests.length;
    await expect(exchanger.exchange(CODE)).rejects.toMatchObject({ code: 'closed' });
    expect(server.requests.length).toBe(before);
  });

  it('the caller’s signal rejects it at once with `aborted`, and the exchanger keeps working', async () => {
    behaviour = mode;
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, timeoutMs: 5000 });
    try {
      const controller = new AbortController();
      const pending = settleTime(exchanger.exchange(CODE, { signal: controller.signal }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      controller.abort(new Error('the user went away'));
      const { error, ms } = await pending;
      expect(ms).toBeLessThan(1000);
      expect(error).toMatchObject({ code: 'aborted', status: 503 });
      // An already-aborted signal aborts before anything is sent.
      const before = server.requests.length;
      await expect(exchanger.exchange(CODE, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        code: 'aborted',
      });
      expect(server.requests.length).toBe(before);
    } finally {
      await exchanger.close();
    }
  });
});

describe('the strategy’s close()', () => {
  it('ends a callback in flight with a 503 `closed`, not a 502', async () => {
    behaviour = 'hold';
    const made = createTestApp({ apiKey: API_KEY, baseURL: server.url, timeoutMs: 5000 });
    const answer = request(made.app)
      .get('/callback')
      .query({ code: CODE })
      .then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await made.strategy.close();
    const res = await answer;
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('closed');
  });
});

describe('a caller’s signal does not stop the success path', () => {
  it('resolves normally when the signal never aborts', async () => {
    const ok = await startTokenServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(TOKEN_BODY));
    });
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: ok.url });
    try {
      const tokens = await exchanger.exchange(CODE, { signal: new AbortController().signal });
      expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
    } finally {
      await exchanger.close();
      await ok.close();
    }
  });
});
