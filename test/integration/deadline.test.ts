import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { collectReports } from '../helpers/diagnostics.js';

// `timeoutMs` ends the exchange on time in every phase, with the strategy's own pool and with a
// dispatcher the application passes in, and leaves no socket or timer behind. Undici 7 does not
// settle a request aborted while it waits for a connection until that connection is made or
// fails (nodejs/undici#386): a TLS handshake that never completes used to cost the connect
// timeout (10 s with a plain `new Agent()`) instead of `timeoutMs`.

const TIMEOUT_MS = 400;
// What the timeout may add to the deadline.
const MARGIN_MS = 100;

type Behaviour = 'silent' | 'no-headers' | 'drip' | '429-then-silent';

let server: Server;
let behaviour: Behaviour = 'silent';
const sockets = new Set<Socket>();
let requestsSeen = 0;
let port = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      // 'silent' never answers anything, not even a TLS ClientHello.
      if (behaviour === 'silent' || !chunk.toString('latin1').includes('POST ')) return;
      requestsSeen += 1;
      if (behaviour === 'drip') {
        socket.write('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{');
        const timer = setInterval(() => (socket.writable ? socket.write(' ') : clearInterval(timer)), 50);
        socket.on('close', () => clearInterval(timer));
      } else if (behaviour === '429-then-silent' && requestsSeen === 1) {
        socket.write('HTTP/1.1 429 Too Many Requests\r\nratelimit-reset: 0\r\ncontent-length: 2\r\n\r\n{}');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const opened: { app: TestApp; dispatcher?: Dispatcher }[] = [];
afterEach(async () => {
  for (const { app, dispatcher } of opened.splice(0)) {
    await app.strategy.close();
    await dispatcher?.destroy();
  }
  for (const socket of sockets) socket.destroy();
  requestsSeen = 0;
});

function appFor(scheme: 'http' | 'https', dispatcher?: Dispatcher): TestApp {
  const app = createTestApp({
    apiKey: 'persona_deadline_suite_api_key_0123456789',
    baseURL: `${scheme}://127.0.0.1:${port}`,
    timeoutMs: TIMEOUT_MS,
    ...(dispatcher ? { dispatcher } : {}),
  });
  opened.push({ app, dispatcher });
  return app;
}

/**
 * Calls the callback and checks it failed with 504 timeout on time: the exchange's own duration
 * (from the diagnostics channel) within the deadline plus the margin, allowing for the lateness
 * of a timer set at the same moment, so a loaded machine, which delays every timer alike, does
 * not fail the test. The answer as a whole must come well before any 10 s connect timeout.
 */
async function expectTimeoutOnTime(app: TestApp): Promise<void> {
  const {
    result: { lateness },
    reports,
  } = await collectReports(async () => {
    const started = performance.now();
    const lateness = new Promise<number>((resolve) =>
      setTimeout(() => resolve(performance.now() - started - TIMEOUT_MS), TIMEOUT_MS),
    );
    const res = await request(app.app).get('/callback').query({ code: 'deadline-suite-code-0123456789' });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(504);
    expect(res.body.code).toBe('timeout');
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 2000);
    // In an object, so the promise is handed back as it is, not awaited here.
    return { lateness };
  });
  expect(reports).toHaveLength(1);
  const duration = reports[0]?.durationMs ?? Number.NaN;
  expect(duration).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
  expect(duration).toBeLessThan(TIMEOUT_MS + MARGIN_MS + (await lateness));
}

const dispatchers = [
  ['the strategy’s own pool', () => undefined],
  ['a user-supplied new Agent()', () => new Agent()],
] as const;

describe.each(dispatchers)('the deadline holds with %s', (_name, makeDispatcher) => {
  it('in a TLS handshake that never completes (TCP accepted, ClientHello never answered)', async () => {
    behaviour = 'silent';
    const dispatcher = makeDispatcher();
    await expectTimeoutOnTime(appFor('https', dispatcher));
    if (!dispatcher) {
      // The strategy's pool ends its own connection attempt at the deadline.
      await expect.poll(() => sockets.size, { timeout: 300, interval: 10 }).toBe(0);
    }
  });

  it('while waiting for the response headers', async () => {
    behaviour = 'no-headers';
    await expectTimeoutOnTime(appFor('http', makeDispatcher()));
    expect(requestsSeen).toBe(1);
    await expect.poll(() => sockets.size, { timeout: 300, interval: 10 }).toBe(0);
  });

  it('while a body drips in', async () => {
    behaviour = 'drip';
    await expectTimeoutOnTime(appFor('http', makeDispatcher()));
    await expect.poll(() => sockets.size, { timeout: 300, interval: 10 }).toBe(0);
  });

  it('across a retry (a 429, then silence)', async () => {
    behaviour = '429-then-silent';
    await expectTimeoutOnTime(appFor('http', makeDispatcher()));
    expect(requestsSeen).toBe(2);
    await expect.poll(() => sockets.size, { timeout: 300, interval: 10 }).toBe(0);
  });
});

describe('the deadline holds while waiting in a busy pool', () => {
  it('a dispatcher with one connection, held by another request: timeout on time, and never sent later', async () => {
    behaviour = 'no-headers';
    const dispatcher = new Agent({ connections: 1 });
    const busy = new AbortController();
    const held = dispatcher
      .request({ origin: `http://127.0.0.1:${port}`, path: '/busy', method: 'POST', body: 'x', signal: busy.signal })
      .catch(() => undefined);
    await expect.poll(() => requestsSeen).toBe(1);
    await expectTimeoutOnTime(appFor('http', dispatcher));
    busy.abort();
    await held;
    // The connection is free again; the exchange that gave up must not go out on it now.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(requestsSeen).toBe(1);
  });
});

const CHILD = fileURLToPath(new URL('./fixtures/deadline-child.mjs', import.meta.url));

/** Runs one exchange in a child process; resolves to its report and how long it lived after it. */
function runChild(baseURL: string, dispatcher: 'owned' | 'user'): Promise<{ report: unknown; lingerMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, baseURL, dispatcher, String(TIMEOUT_MS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    let reportedAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!reportedAt && output.includes('\n')) reportedAt = performance.now();
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ report: JSON.parse(output), lingerMs: performance.now() - reportedAt }));
  });
}

describe('no socket or timer keeps the process alive after a timeout', () => {
  it('the strategy’s own pool, TLS handshake never answered: the process exits at once', async () => {
    behaviour = 'silent';
    const { report, lingerMs } = await runChild(`https://127.0.0.1:${port}`, 'owned');
    expect(report).toMatchObject({ outcome: 'error', code: 'timeout' });
    expect(lingerMs).toBeLessThan(300);
  });

  it('a user-supplied Agent, response never sent: the process exits at once', async () => {
    behaviour = 'no-headers';
    const { report, lingerMs } = await runChild(`http://127.0.0.1:${port}`, 'user');
    expect(report).toMatchObject({ outcome: 'error', code: 'timeout' });
    expect(lingerMs).toBeLessThan(300);
  });
});
