import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { call, exchange, firstError, firstInquiry, readCode } from './helpers.js';

describe('fault injection', () => {
  let emu: PersonaEmulator;
  beforeEach(async () => {
    emu = await startPersonaEmulator();
  });
  afterEach(() => emu.close());

  it('is off by default and applies to one endpoint only', async () => {
    emu.setFault('token', { kind: 'status', status: 503 });
    expect((await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: emu.owner.apiKey })).status).toBe(200);
    expect((await exchange(emu, readCode(emu))).status).toBe(503);
  });

  it('applies to the next `times` requests, then stops; null and clearFaults remove it', async () => {
    emu.setFault('token', { kind: 'status', status: 500 }, { times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await exchange(emu, readCode(emu))).status);
    expect(statuses).toEqual([500, 500, 201]);

    emu.setFault('token', { kind: 'status', status: 500 });
    emu.setFault('token', null);
    expect((await exchange(emu, readCode(emu))).status).toBe(201);

    emu.setFault('token', { kind: 'status', status: 500 });
    emu.setFault('inquiry', { kind: 'status', status: 500 });
    emu.clearFaults();
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('refuses invalid faults with a TypeError', () => {
    const bad: unknown[] = [
      { kind: 'nope' },
      { kind: 'latency', ms: -1 },
      { kind: 'status', status: 99 },
      { kind: 'status', status: 500, layer: 'cdn' },
      { kind: 'oversized', bytes: 0 },
      { kind: 'drip', intervalMs: 10, chunks: 0 },
      { kind: 'reset', when: 'later' },
      { kind: 'redirect', status: 303 },
      { kind: 'redirect', location: 'a\r\nb' },
      'latency',
    ];
    for (const fault of bad) {
      expect(() => emu.setFault('token', fault as never), JSON.stringify(fault)).toThrow(TypeError);
    }
    expect(() => emu.setFault('nowhere' as never, { kind: 'malformed' })).toThrow(TypeError);
    expect(() => emu.setFault('token', { kind: 'malformed' }, { times: 0 })).toThrow(TypeError);
  });

  it('latency: waits, then answers normally', async () => {
    emu.setFault('token', { kind: 'latency', ms: 300 }, { times: 1 });
    const started = performance.now();
    const reply = await exchange(emu, readCode(emu));
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(reply.status).toBe(201);
    expect(reply.json['access-token']).toMatch(/^persona_access_token_/);
  });

  it('status: default Persona error body, or the given body and headers', async () => {
    emu.setFault('token', { kind: 'status', status: 503 }, { times: 1 });
    const plain = await exchange(emu, readCode(emu));
    expect(plain.status).toBe(503);
    expect(firstError(plain).title).toBe('Service Unavailable');
    expect(plain.headers['request-id']).toMatch(/^req_/);

    emu.setFault(
      'token',
      { kind: 'status', status: 429, body: 'slow down', headers: { 'Retry-After': '7' } },
      { times: 1 },
    );
    const raw = await exchange(emu, readCode(emu));
    expect(raw.status).toBe(429);
    expect(raw.text).toBe('slow down');
    expect(raw.headers['retry-after']).toBe('7');

    emu.setFault(
      'token',
      { kind: 'status', status: 429, headers: { 'RateLimit-Reset': '30', 'Request-Id': 'req_fixed' } },
      { times: 1 },
    );
    const limited = await exchange(emu, readCode(emu));
    expect(limited.headers['ratelimit-reset']).toBe('30');
    expect(limited.headers['ratelimit-limit']).toBe('300');
    expect(limited.headers['request-id']).toBe('req_fixed');

    emu.setFault('token', { kind: 'status', status: 201, body: { 'access-token': null } }, { times: 1 });
    const odd = await exchange(emu, readCode(emu));
    expect(odd.status).toBe(201);
    expect(odd.json).toEqual({ 'access-token': null });
  });

  it('status (persona layer): runs after authentication and is stored under the Idempotency-Key', async () => {
    const code = readCode(emu);
    emu.setFault('token', { kind: 'status', status: 500 }, { times: 1 });
    const first = await exchange(emu, code, { headers: { 'idempotency-key': 's1' } });
    expect(first.status).toBe(500);
    expect(first.headers['ratelimit-limit']).toBe('300');
    const replay = await exchange(emu, code, { headers: { 'idempotency-key': 's1' } });
    expect(replay.status).toBe(500);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    // The endpoint never ran: the code is unused and a fresh key redeems it.
    expect((await exchange(emu, code, { headers: { 'idempotency-key': 's2' } })).status).toBe(201);

    emu.setFault('token', { kind: 'status', status: 500 }, { times: 1 });
    expect((await exchange(emu, code, { key: 'persona_sandbox_wrong' })).status).toBe(401);
  });

  it('status (edge layer): answers before anything, stores and counts nothing', async () => {
    const code = readCode(emu);
    emu.setFault('token', { kind: 'status', status: 502, layer: 'edge' }, { times: 1 });
    const first = await exchange(emu, code, { key: 'not-even-a-key', headers: { 'idempotency-key': 'e1' } });
    expect(first.status).toBe(502);
    expect(first.headers['ratelimit-limit']).toBeUndefined();
    const retried = await exchange(emu, code, { headers: { 'idempotency-key': 'e1' } });
    expect(retried.status).toBe(201);
    expect(retried.headers['ratelimit-remaining']).toBe('299');
  });

  it('malformed: 201 with a JSON content type and a body that does not parse', async () => {
    emu.setFault('token', { kind: 'malformed' }, { times: 1 });
    const reply = await exchange(emu, readCode(emu));
    expect(reply.status).toBe(201);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
    expect(emu.requests.at(-1)?.status).toBe(201);
  });

  it('oversized: 201 with exactly the given number of bytes, with or without Content-Length', async () => {
    emu.setFault('token', { kind: 'oversized', bytes: 300_000 }, { times: 1 });
    const sized = await exchange(emu, readCode(emu));
    expect(sized.status).toBe(201);
    expect(sized.headers['content-length']).toBe('300000');
    expect(Buffer.byteLength(sized.text)).toBe(300_000);
    expect(sized.text.startsWith('{"access-token":"persona_access_token_')).toBe(true);

    emu.setFault('token', { kind: 'oversized', bytes: 200_000, chunked: true }, { times: 1 });
    const chunked = await exchange(emu, readCode(emu));
    expect(chunked.headers['content-length']).toBeUndefined();
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(Buffer.byteLength(chunked.text)).toBe(200_000);
    expect(JSON.parse(chunked.text)['token-type']).toBe('bearer');
  });

  it('oversized: a client that hangs up early does not upset the emulator', async () => {
    emu.setFault('token', { kind: 'oversized', bytes: 50 * 1024 * 1024 }, { times: 1 });
    const response = await request(`${emu.url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.recipient.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: readCode(emu), 'grant-type': 'authorization_code' }).toString(),
    });
    expect(response.headers['content-length']).toBe(String(50 * 1024 * 1024));
    response.body.destroy();
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('no-headers: never answers, and close() still returns promptly', async () => {
    emu.setFault('token', { kind: 'no-headers' });
    await expect(exchange(emu, readCode(emu), { headersTimeout: 300 })).rejects.toMatchObject({
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    expect(emu.requests.at(-1)).toMatchObject({ endpoint: 'token', status: undefined });

    const hanging = exchange(emu, readCode(emu), { headersTimeout: 60_000 }).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await emu.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await hanging).toBe('failed');
  });

  it('drip: headers at once, the body in pieces, one per interval', async () => {
    emu.setFault('token', { kind: 'drip', intervalMs: 100, chunks: 5 }, { times: 1 });
    const started = performance.now();
    const response = await request(`${emu.url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.recipient.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: readCode(emu), 'grant-type': 'authorization_code' }).toString(),
    });
    const headersAt = performance.now() - started;
    const pieces: number[] = [];
    let text = '';
    for await (const chunk of response.body) {
      pieces.push(performance.now() - started);
      text += String(chunk);
    }
    expect(response.statusCode).toBe(201);
    expect((pieces[0] ?? 0) - headersAt).toBeGreaterThanOrEqual(80);
    expect(pieces.length).toBe(5);
    expect(pieces.at(-1)).toBeGreaterThanOrEqual(480);
    expect(JSON.parse(text)['access-token']).toMatch(/^persona_access_token_/);
  });

  it('drip: a body timeout shorter than the interval trips', async () => {
    // undici checks body timeouts on a coarse (about 1 s) timer: leave it room.
    emu.setFault('token', { kind: 'drip', intervalMs: 5000 }, { times: 1 });
    await expect(exchange(emu, readCode(emu), { bodyTimeout: 500 })).rejects.toMatchObject({
      code: 'UND_ERR_BODY_TIMEOUT',
    });
  });

  it('reset before headers: the connection dies, yet the request was processed', async () => {
    const code = readCode(emu);
    emu.setFault('token', { kind: 'reset' }, { times: 1 });
    const failure = await exchange(emu, code, { headers: { 'idempotency-key': 'x1' } }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(emu.requests.at(-1)?.status).toBeUndefined();
    // Retrying with the same key is safe: the stored token comes back.
    const retry = await exchange(emu, code, { headers: { 'idempotency-key': 'x1' } });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // Retrying without it finds the code spent.
    expect((await exchange(emu, code)).status).toBe(409);
  });

  it('reset after headers: the status arrives, the body does not', async () => {
    emu.setFault('token', { kind: 'reset', when: 'after-headers' }, { times: 1 });
    const response = await request(`${emu.url}/api/v1/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.recipient.apiKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: readCode(emu), 'grant-type': 'authorization_code' }).toString(),
    });
    expect(response.statusCode).toBe(201);
    await expect(response.body.text()).rejects.toBeInstanceOf(Error);
    expect(emu.requests.at(-1)?.status).toBe(201);
  });

  it('redirect: answered in front of Persona, the request is not processed', async () => {
    const code = readCode(emu);
    emu.setFault('token', { kind: 'redirect' }, { times: 1 });
    const moved = await exchange(emu, code);
    expect(moved.status).toBe(302);
    expect(moved.headers.location).toBe(`${emu.url}/api/v1/oauth/token`);
    expect((await exchange(emu, code)).status).toBe(201);

    emu.setFault('token', { kind: 'redirect', status: 307, location: 'https://elsewhere.example/token' }, { times: 1 });
    const temporary = await exchange(emu, readCode(emu));
    expect(temporary.status).toBe(307);
    expect(temporary.headers.location).toBe('https://elsewhere.example/token');
  });

  it('works on the authorize and inquiry endpoints too', async () => {
    emu.setFault('authorize', { kind: 'status', status: 503 }, { times: 1 });
    const form = { 'client-id': emu.recipient.id, 'response-type': 'code', scope: `inquiry.read:${firstInquiry(emu)}` };
    expect((await call(emu, '/api/v1/oauth/authorize', { key: emu.owner.apiKey, form })).status).toBe(503);
    emu.setFault('inquiry', { kind: 'malformed' }, { times: 1 });
    const reply = await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: emu.owner.apiKey });
    expect(reply.status).toBe(201);
    expect(reply.json).toBeUndefined();
  });
});

describe('control endpoints', () => {
  let emu: PersonaEmulator;
  afterEach(() => emu.close());

  it('are absent (404) unless enabled', async () => {
    emu = await startPersonaEmulator();
    const reply = await call(emu, '/__emulator/faults', { json: { endpoint: 'token', fault: { kind: 'malformed' } } });
    expect(reply.status).toBe(404);
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('set and clear faults, move the clock and reset the rate limit when enabled', async () => {
    emu = await startPersonaEmulator({ control: true, rateLimit: 1, freezeClock: true });
    const set = await call(emu, '/__emulator/faults', {
      json: { endpoint: 'token', fault: { kind: 'status', status: 504 }, times: 1 },
    });
    expect(set.status).toBe(200);
    expect(emu.requests).toHaveLength(0);
    expect((await exchange(emu, readCode(emu))).status).toBe(504);

    const invalid = await call(emu, '/__emulator/faults', { json: { endpoint: 'token', fault: { kind: 'boom' } } });
    expect(invalid.status).toBe(400);
    expect(firstError(invalid).details).toMatch(/kind/);
    expect(
      (await call(emu, '/__emulator/faults', { body: '{', headers: { 'content-type': 'application/json' } })).status,
    ).toBe(400);

    await call(emu, '/__emulator/faults', { json: { endpoint: 'token', fault: { kind: 'malformed' } } });
    expect((await call(emu, '/__emulator/faults', { method: 'DELETE' })).status).toBe(200);

    expect((await exchange(emu, readCode(emu))).status).toBe(429);
    expect((await call(emu, '/__emulator/rate-limit/reset', { method: 'POST' })).status).toBe(200);
    const code = readCode(emu);
    const before = emu.clock.now();
    const moved = await call(emu, '/__emulator/clock', { json: { advance: 600_000 } });
    expect(moved.json.now).toBe(before + 600_000);
    expect((await exchange(emu, code)).status).toBe(422);
  });
});
