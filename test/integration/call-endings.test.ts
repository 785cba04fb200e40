// How a call to Persona ends when it gets no usable answer, over real HTTP: each failure's message
// and what it keeps of Persona's side (status, Request-Id), an answer refused from its headers
// without waiting for its body, and what a finished call leaves behind (no timer, no listener on
// the caller's signal, a pooled connection still open).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CALL_CHANNEL,
  type CodeExchangerOptions,
  createAuthorization,
  createCodeExchanger,
  EXCHANGE_CHANNEL,
  type PersonaOAuthError,
} from '../../src/index.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

const API_KEY = 'persona_sandbox_call_endings_key_3e7b';
const CODE = 'authcode_call_endings_9a1c';
const TOKEN_ENDPOINT = "Persona's token endpoint";
const SUCCESS = JSON.stringify(TOKEN_BODY);

let server: TokenServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

type Handler = Parameters<typeof startTokenServer>[0];

async function serve(handler: Handler): Promise<string> {
  server = await startTokenServer(handler);
  return server.url;
}

async function exchange(baseURL: string, options: Partial<CodeExchangerOptions> = {}, signal?: AbortSignal) {
  const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL, retries: 0, ...options });
  try {
    return await exchanger.exchange(CODE, { signal });
  } finally {
    await exchanger.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<PersonaOAuthError> {
  return (await promise.then(
    () => expect.fail('the call succeeded'),
    (error: unknown) => error,
  )) as PersonaOAuthError;
}

describe("a call's failure says what happened, and what Persona had said", () => {
  it('could not reach Persona: names the endpoint and the origin, no Persona status', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure(exchange(`http://127.0.0.1:${port}`));
    expect(error).toMatchObject({
      code: 'network',
      message: `Could not reach ${TOKEN_ENDPOINT} (http://127.0.0.1:${port})`,
      personaStatus: undefined,
      requestId: undefined,
    });
  });

  it('the connection broke mid-body: the status and Request-Id already received are kept', async () => {
    const url = await serve((req, res) => {
      res.writeHead(201, {
        'content-type': 'application/json',
        'content-length': '1000',
        'request-id': 'req_broken_1',
      });
      res.write('{"access-token":');
      setTimeout(() => req.socket.destroy(), 20);
    });
    const error = await failure(exchange(url));
    expect(error).toMatchObject({
      code: 'network',
      message: `The connection to Persona broke while reading the answer of ${TOKEN_ENDPOINT}`,
      personaStatus: 201,
      requestId: 'req_broken_1',
    });
  });

  it('no answer in time: says the deadline; keeps the status and a printable Request-Id', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_slow_1' });
      res.write('{');
    });
    const error = await failure(exchange(url, { timeoutMs: 300 }));
    expect(error).toMatchObject({
      code: 'timeout',
      message: `${TOKEN_ENDPOINT} did not answer within 300 ms`,
      personaStatus: 200,
      requestId: 'req_slow_1',
    });
  });

  it.each([
    ['longer than 128 characters', 'r'.repeat(129)],
    ['with a character that is not visible ASCII', 'req_é_1'],
  ])('no answer in time, a Request-Id %s: left out, the status kept', async (_name, id) => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': id });
      res.write('{');
    });
    const error = await failure(exchange(url, { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: 'timeout', personaStatus: 200, requestId: undefined });
  });

  it('no response at all in time: no Persona status', async () => {
    const url = await serve(() => {});
    const error = await failure(exchange(url, { timeoutMs: 300 }));
    expect(error).toMatchObject({ code: 'timeout', personaStatus: undefined, requestId: undefined });
  });

  it("closed: says so, with no cause; aborted: says so, with the caller's reason as its cause", async () => {
    const url = await serve(() => {});
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: url, retries: 0 });
    const pending = failure(exchanger.exchange(CODE));
    setTimeout(() => void exchanger.close(), 50);
    const closed = await pending;
    expect(closed).toMatchObject({ code: 'closed', message: `The client was closed while calling ${TOKEN_ENDPOINT}` });
    expect(closed.cause).toBeUndefined();

    const controller = new AbortController();
    const reason = new Error('the user went away');
    setTimeout(() => controller.abort(reason), 50);
    const aborted = await failure(exchange(url, {}, controller.signal));
    expect(aborted).toMatchObject({
      code: 'aborted',
      message: `The call to ${TOKEN_ENDPOINT} was aborted by its caller`,
    });
    expect(aborted.cause).toBe(reason);
  });
});

describe('an answer refused from its headers, without waiting for its body', () => {
  it('a Content-Length over the size cap: invalid_response at once, though the body never comes', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': '1025' });
      res.write('{');
    });
    const started = performance.now();
    const error = await failure(exchange(url, { maxResponseBytes: 1024, timeoutMs: 5000 }));
    expect(error.code).toBe('invalid_response');
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('a Content-Length of exactly the size cap is read', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(SUCCESS)) });
      res.end(SUCCESS);
    });
    const tokens = await exchange(url, { maxResponseBytes: Buffer.byteLength(SUCCESS) });
    expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
  });

  it.each([300, 302])('a redirect (%i) is refused at its headers, though its body never ends', async (status) => {
    const url = await serve((_req, res) => {
      res.writeHead(status, { location: 'http://127.0.0.1:9/elsewhere', 'content-type': 'application/json' });
      res.write('{');
    });
    const started = performance.now();
    const error = await failure(exchange(url, { timeoutMs: 5000 }));
    expect(error).toMatchObject({ code: 'invalid_response', personaStatus: status });
    expect(performance.now() - started).toBeLessThan(2500);
  });
});

describe('what a finished call leaves behind', () => {
  it('keeps its pooled connection open past timeoutMs, for the next exchange', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(SUCCESS);
    });
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: url, retries: 0, timeoutMs: 200 });
    try {
      await exchanger.exchange(CODE);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await exchanger.exchange(CODE);
    } finally {
      await exchanger.close();
    }
    expect(server?.connections).toBe(1);
  });

  it("leaves no timer running and no listener on the caller's signal", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(SUCCESS);
    });
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: url, retries: 0, timeoutMs: 60_000 });
    const signal = new AbortController().signal;
    const before = timers();
    try {
      await exchanger.exchange(CODE, { signal });
      await exchanger.exchange(CODE, { signal });
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    } finally {
      await exchanger.close();
    }
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('reports an exchange on EXCHANGE_CHANNEL and Create Authorization on CALL_CHANNEL, each only there', async () => {
    const url = await serve((req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(req.url?.includes('authorize') ? JSON.stringify({ code: 'code_from_authorize' }) : SUCCESS);
    });
    const seen: string[] = [];
    const onExchange = () => void seen.push('exchange');
    const onCall = () => void seen.push('call');
    subscribe(EXCHANGE_CHANNEL, onExchange);
    subscribe(CALL_CHANNEL, onCall);
    try {
      await createAuthorization({ apiKey: API_KEY, baseURL: url, clientId: 'org_1', scope: 'inquiry.read:inq_1' });
      await exchange(url);
    } finally {
      unsubscribe(EXCHANGE_CHANNEL, onExchange);
      unsubscribe(CALL_CHANNEL, onCall);
    }
    expect(seen).toEqual(['call', 'exchange']);
  });
});

describe('a connection attempt that times out', () => {
  it("is retried, in the caller's dispatcher, when its connect timeout is shorter than the deadline", async () => {
    // Accepts TCP connections and never answers the TLS handshake.
    const sockets: Socket[] = [];
    const stall = createNetServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => stall.listen(0, '127.0.0.1', resolve));
    const { port } = stall.address() as AddressInfo;
    const dispatcher = new Agent({ connect: { timeout: 100 } });
    try {
      const error = await failure(exchange(`https://127.0.0.1:${port}`, { dispatcher, retries: 1, timeoutMs: 5000 }));
      expect(error.code).toBe('network');
      expect(sockets).toHaveLength(2);
    } finally {
      await dispatcher.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => stall.close(() => resolve()));
    }
  });
});
