// How long the exchange waits before each retry, over real HTTP: the exponential backoff after a
// 429 without a wait or a failed connection (200 ms, then 400 ms, each with jitter down to half),
// and Persona's own wait when it says one (`RateLimit-Reset` first, then `Retry-After`). Lower
// bounds are exact; upper bounds leave room for a loaded machine.
import { afterEach, describe, expect, it } from 'vitest';
import { createCodeExchanger, type PersonaOAuthError } from '../../src/index.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

const API_KEY = 'persona_sandbox_retry_timing_key_5b1e';
const CODE = 'authcode_retry_timing_4c2d';
// Timers may fire up to a millisecond early against performance.now() on a loaded machine.
const EARLY = 2;

let server: TokenServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * A token server whose first `refusals` requests get `refuse` and the next a success; resolves
 * the times (ms, performance.now()) at which each request arrived.
 */
async function serve(refusals: number, refuse: 'reset' | Record<string, string>): Promise<number[]> {
  const arrivals: number[] = [];
  server = await startTokenServer((req, res) => {
    arrivals.push(performance.now());
    if (arrivals.length > refusals) {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(TOKEN_BODY));
    } else if (refuse === 'reset') {
      req.socket.destroy();
    } else {
      res.writeHead(429, { 'content-type': 'application/json', ...refuse });
      res.end(JSON.stringify({ errors: [{ title: 'Rate limit exceeded' }] }));
    }
  });
  return arrivals;
}

function gaps(arrivals: number[]): number[] {
  return arrivals.slice(1).map((at, i) => at - (arrivals[i] as number));
}

async function exchange(retries: number, timeoutMs = 10_000) {
  const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server?.url ?? '', retries, timeoutMs });
  try {
    return await exchanger.exchange(CODE);
  } finally {
    await exchanger.close();
  }
}

describe('the wait before a retry', () => {
  it('backs off 100–200 ms, then 200–400 ms, after 429s that name no wait', async () => {
    const arrivals = await serve(2, {});
    const tokens = await exchange(2);
    expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
    const [first, second] = gaps(arrivals) as [number, number];
    expect(first).toBeGreaterThanOrEqual(100 - EARLY);
    expect(first).toBeLessThan(200 + 150);
    expect(second).toBeGreaterThanOrEqual(200 - EARLY);
    expect(second).toBeLessThan(400 + 150);
  });

  it('backs off after a connection reset before any response, as after a 429', async () => {
    const arrivals = await serve(1, 'reset');
    const tokens = await exchange(1);
    expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
    const [gap] = gaps(arrivals) as [number];
    expect(gap).toBeGreaterThanOrEqual(100 - EARLY);
    expect(gap).toBeLessThan(200 + 150);
  });

  it.each([
    ['Retry-After alone', { 'retry-after': '1' }],
    ['RateLimit-Reset, before Retry-After', { 'ratelimit-reset': '1', 'retry-after': '3' }],
  ])("waits Persona's own second (%s), with at most 250 ms of jitter", async (_name, headers) => {
    const arrivals = await serve(1, headers);
    const tokens = await exchange(1);
    expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
    const [gap] = gaps(arrivals) as [number];
    expect(gap).toBeGreaterThanOrEqual(1000 - EARLY);
    expect(gap).toBeLessThan(1000 + 250 + 250);
  });

  it('does not retry when the wait would pass the deadline, and says how long Persona asked', async () => {
    const arrivals = await serve(1, { 'ratelimit-reset': '2' });
    const error = (await exchange(1, 1500).catch((e: unknown) => e)) as PersonaOAuthError;
    expect(error).toMatchObject({ code: 'rate_limited', retryAfter: 2 });
    expect(arrivals).toHaveLength(1);
  });
});
