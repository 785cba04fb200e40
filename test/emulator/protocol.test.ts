import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { call, DOCUMENTED_VERSIONS, exchange, firstError, firstInquiry, readCode } from './helpers.js';

let emu: PersonaEmulator;
afterEach(() => emu.close());

describe('headers on every response', () => {
  it('gives each response its own Request-Id, authenticated or not, error or not', async () => {
    emu = await startPersonaEmulator();
    const replies = [
      await exchange(emu, readCode(emu)),
      await exchange(emu, 'unknown'),
      await call(emu, '/api/v1/oauth/token', { form: {} }),
      await call(emu, '/nowhere'),
    ];
    const ids = replies.map((reply) => reply.headers['request-id']);
    for (const id of ids) expect(id).toMatch(/^req_[A-Za-z0-9]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('adds organisation, environment and RateLimit headers to authenticated responses only', async () => {
    emu = await startPersonaEmulator();
    const ok = await exchange(emu, readCode(emu));
    expect(ok.headers['persona-organization-id']).toBe(emu.recipient.id);
    expect(ok.headers['persona-environment-id']).toBe(emu.environmentId);
    expect(emu.environmentId).toMatch(/^env_/);
    expect(ok.headers['ratelimit-limit']).toBe('300');
    const failed = await exchange(emu, 'unknown');
    expect(failed.status).toBe(404);
    expect(failed.headers['persona-organization-id']).toBe(emu.recipient.id);
    const anonymous = await call(emu, '/api/v1/oauth/token', { form: {} });
    expect(anonymous.headers['persona-organization-id']).toBeUndefined();
    expect(anonymous.headers['ratelimit-remaining']).toBeUndefined();
  });
});

describe('Persona-Version and Key-Inflection', () => {
  it('accepts every version Persona documents and refuses others with 400', async () => {
    emu = await startPersonaEmulator();
    for (const version of DOCUMENTED_VERSIONS) {
      const reply = await exchange(emu, readCode(emu), { headers: { 'persona-version': version } });
      expect(reply.status, version).toBe(201);
    }
    const code = readCode(emu);
    for (const version of ['2099-01-01', 'latest', '2023-1-5']) {
      const reply = await exchange(emu, code, { headers: { 'persona-version': version } });
      expect(reply.status, version).toBe(400);
      expect(firstError(reply).title).toBe('Invalid Persona-Version');
    }
    // Refused before the endpoint ran: the code is unused.
    expect((await exchange(emu, code)).status).toBe(201);
  });

  it('checks nothing without a Persona-Version header, even when versions were added', async () => {
    emu = await startPersonaEmulator({ personaVersions: ['2030-01-01'] });
    const reply = await exchange(emu, readCode(emu));
    expect(reply.status).toBe(201);
    expect(reply.json['access-token']).toMatch(/^persona_access_token_/);
  });

  it('accepts the versions of the personaVersions option besides the documented ones', async () => {
    emu = await startPersonaEmulator({ personaVersions: ['2030-01-01'] });
    expect((await exchange(emu, readCode(emu), { headers: { 'persona-version': '2030-01-01' } })).status).toBe(201);
    expect((await exchange(emu, readCode(emu), { headers: { 'persona-version': '2023-01-05' } })).status).toBe(201);
    expect((await exchange(emu, readCode(emu), { headers: { 'persona-version': '2030-01-02' } })).status).toBe(400);
  });

  it('refuses a personaVersions entry that is not a YYYY-MM-DD date', async () => {
    emu = await startPersonaEmulator();
    for (const bad of ['latest', '2030-13-01', '', 20300101]) {
      await expect(startPersonaEmulator({ personaVersions: [bad as string] })).rejects.toThrow(TypeError);
    }
  });

  it('refuses an unknown Key-Inflection with 400 and accepts any case of a known one', async () => {
    emu = await startPersonaEmulator();
    expect((await exchange(emu, readCode(emu), { headers: { 'key-inflection': 'pascal' } })).status).toBe(400);
    const upper = await exchange(emu, readCode(emu), { headers: { 'key-inflection': 'SNAKE' } });
    expect(upper.json.access_token).toMatch(/^persona_access_token_/);
  });
});

describe('Idempotency-Key', () => {
  it('replays the stored status and body: a retried exchange gets the same token', async () => {
    emu = await startPersonaEmulator();
    const code = readCode(emu);
    const first = await exchange(emu, code, { headers: { 'idempotency-key': 'k1' } });
    const second = await exchange(emu, code, { headers: { 'idempotency-key': 'k1' } });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.text).toBe(first.text);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers['request-id']).not.toBe(first.headers['request-id']);
    // Without the key the code is spent.
    expect((await exchange(emu, code)).status).toBe(409);
  });

  it('treats the same parameters in another inflection or encoding as the same request', async () => {
    emu = await startPersonaEmulator();
    const code = readCode(emu);
    const first = await exchange(emu, code, { headers: { 'idempotency-key': 'k2' } });
    const json = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      headers: { 'idempotency-key': 'k2' },
      json: { grantType: 'authorization_code', code },
    });
    expect(json.status).toBe(201);
    expect(json.json['access-token']).toBe(first.json['access-token']);
  });

  it('replays failures too, and the body as first rendered', async () => {
    emu = await startPersonaEmulator();
    const first = await exchange(emu, 'unknown-code', { headers: { 'idempotency-key': 'k3' } });
    const replay = await exchange(emu, 'unknown-code', {
      headers: { 'idempotency-key': 'k3', 'key-inflection': 'snake' },
    });
    expect(first.status).toBe(404);
    expect(replay.status).toBe(404);
    expect(replay.text).toBe(first.text);
  });

  it('answers 400 "Idempotency error" when the key comes back with other parameters', async () => {
    emu = await startPersonaEmulator();
    await exchange(emu, readCode(emu), { headers: { 'idempotency-key': 'k4' } });
    const reply = await exchange(emu, readCode(emu), { headers: { 'idempotency-key': 'k4' } });
    expect(reply.status).toBe(400);
    expect(firstError(reply).title).toBe('Idempotency error');
  });

  it('keeps keys apart per API key', async () => {
    emu = await startPersonaEmulator();
    const inq = firstInquiry(emu);
    const form = { 'client-id': emu.recipient.id, 'response-type': 'code', scope: `inquiry.read:${inq}` };
    const owner = await call(emu, '/api/v1/oauth/authorize', {
      key: emu.owner.apiKey,
      form,
      headers: { 'idempotency-key': 'same' },
    });
    const token = await exchange(emu, readCode(emu), { headers: { 'idempotency-key': 'same' } });
    expect(owner.status).toBe(201);
    expect(token.status).toBe(201);
  });

  it('does not store 401 answers', async () => {
    emu = await startPersonaEmulator();
    const code = readCode(emu);
    const refused = await exchange(emu, code, { key: 'persona_sandbox_wrong', headers: { 'idempotency-key': 'k5' } });
    expect(refused.status).toBe(401);
    const retried = await exchange(emu, code, { key: 'persona_sandbox_wrong', headers: { 'idempotency-key': 'k5' } });
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect((await exchange(emu, code, { headers: { 'idempotency-key': 'k5' } })).status).toBe(201);
  });

  it('forgets a key after 24 hours on the emulated clock', async () => {
    emu = await startPersonaEmulator({ freezeClock: true });
    await exchange(emu, 'unknown-code', { headers: { 'idempotency-key': 'k6' } });
    emu.clock.advance(24 * 3_600_000);
    const reply = await exchange(emu, readCode(emu), { headers: { 'idempotency-key': 'k6' } });
    expect(reply.status).toBe(201);
  });

  it('ignores the key on GET', async () => {
    emu = await startPersonaEmulator();
    const id = firstInquiry(emu);
    await call(emu, `/api/v1/inquiries/${id}`, { key: emu.owner.apiKey, headers: { 'idempotency-key': 'g' } });
    const other = await call(emu, `/api/v1/inquiries/${emu.owner.inquiries[1]?.id}`, {
      key: emu.owner.apiKey,
      headers: { 'idempotency-key': 'g' },
    });
    expect(other.status).toBe(200);
    expect(other.json.data.id).toBe(emu.owner.inquiries[1]?.id);
  });

  it('refuses an over-long key with 400', async () => {
    emu = await startPersonaEmulator();
    const reply = await exchange(emu, readCode(emu), { headers: { 'idempotency-key': 'x'.repeat(256) } });
    expect(reply.status).toBe(400);
  });
});

describe('rate limiting', () => {
  it('counts authenticated requests per 60-second window, answers 429 beyond, and resets', async () => {
    emu = await startPersonaEmulator({ rateLimit: 3, freezeClock: true });
    const id = firstInquiry(emu);
    const get = (key = emu.owner.apiKey) => call(emu, `/api/v1/inquiries/${id}`, { key });

    const remaining: unknown[] = [];
    for (let i = 0; i < 3; i += 1) {
      const reply = await get(i === 1 ? emu.recipient.apiKey : emu.owner.apiKey);
      remaining.push(reply.headers['ratelimit-remaining']);
      expect(reply.headers['ratelimit-limit']).toBe('3');
      expect(reply.headers['ratelimit-reset']).toBe('60');
    }
    // Shared by every API key of the environment.
    expect(remaining).toEqual(['2', '1', '0']);

    // Unauthenticated requests do not count and are not limited.
    expect((await call(emu, `/api/v1/inquiries/${id}`)).status).toBe(401);

    emu.clock.advance(20_000);
    const limited = await get();
    expect(limited.status).toBe(429);
    expect(firstError(limited).title).toBe('Rate limit exceeded');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBe('40');

    emu.clock.advance(40_000);
    const fresh = await get();
    expect(fresh.status).toBe(200);
    expect(fresh.headers['ratelimit-remaining']).toBe('2');
  });

  it('does not store a 429 under an Idempotency-Key', async () => {
    emu = await startPersonaEmulator({ rateLimit: 1, freezeClock: true });
    const code = readCode(emu);
    await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: emu.owner.apiKey });
    const limited = await exchange(emu, code, { headers: { 'idempotency-key': 'r1' } });
    expect(limited.status).toBe(429);
    emu.resetRateLimit();
    const retried = await exchange(emu, code, { headers: { 'idempotency-key': 'r1' } });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe('robustness', () => {
  it('answers unknown routes with 404 in Persona error form and wrong methods with 405', async () => {
    emu = await startPersonaEmulator();
    const unknown = await call(emu, '/api/v1/nothing-here', { key: emu.owner.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].title).toBe('Not Found');
    const trailing = await call(emu, '/api/v1/oauth/token/', { key: emu.recipient.apiKey, form: {} });
    expect(trailing.status).toBe(404);
    const get = await call(emu, '/api/v1/oauth/token', { key: emu.recipient.apiKey });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('answers bad bodies with 400 and keeps serving', async () => {
    emu = await startPersonaEmulator();
    const key = emu.recipient.apiKey;
    const post = (body: string, type: string) =>
      call(emu, '/api/v1/oauth/token', { key, body, headers: { 'content-type': type } });
    for (const [body, type] of [
      ['{"code":', 'application/json'],
      ['[1,2]', 'application/json'],
      ['"code"', 'application/json'],
      ['{"code":{"nested":true},"grant-type":"authorization_code"}', 'application/json'],
      ['code=a&code=b&grant-type=authorization_code', 'application/x-www-form-urlencoded'],
      ['code=a&grant_type=authorization_code&grant-type=authorization_code', 'application/x-www-form-urlencoded'],
      ['code=a&grant-type=authorization_code', 'text/plain'],
    ]) {
      const reply = await post(body ?? '', type ?? '');
      expect(reply.status, body).toBe(400);
      expect(reply.json.errors[0].title, body).toEqual(expect.any(String));
    }
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('caps the body: 413 in Persona error form, and the log keeps only the cap', async () => {
    emu = await startPersonaEmulator({ maxBodyBytes: 1024 });
    const reply = await call(emu, '/api/v1/oauth/token', {
      key: emu.recipient.apiKey,
      form: { code: 'x'.repeat(5000), 'grant-type': 'authorization_code' },
    });
    expect(reply.status).toBe(413);
    expect(reply.json.errors[0].title).toBe('Payload Too Large');
    expect(emu.requests.at(-1)?.body.length).toBe(1024);
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('survives a body far past the cap', async () => {
    emu = await startPersonaEmulator();
    const huge = Buffer.alloc(8 * 1024 * 1024, 'a');
    const outcome = await call(emu, '/api/v1/oauth/token', { key: emu.recipient.apiKey, body: huge }).then(
      (reply) => reply.status,
      (error: unknown) => error,
    );
    if (typeof outcome === 'number') expect(outcome).toBe(413);
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
  });

  it('turns a failure inside an endpoint into a 500 in Persona error form', async () => {
    emu = await startPersonaEmulator();
    const inquiry = emu.addInquiry(emu.owner.id);
    (inquiry as unknown as { nameFirst: unknown }).nameFirst = 10n;
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: emu.owner.apiKey });
    expect(reply.status).toBe(500);
    expect(reply.json.errors[0].title).toBe('Internal server error');
    expect(reply.headers['request-id']).toMatch(/^req_/);
    expect((await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: emu.owner.apiKey })).status).toBe(200);
  });

  it('does not process a request whose client hung up mid-body', async () => {
    emu = await startPersonaEmulator();
    const code = readCode(emu);
    const body = new URLSearchParams({ code, 'grant-type': 'authorization_code' }).toString();
    const { port } = new URL(emu.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /api/v1/oauth/token HTTP/1.1\r\nHost: x\r\n' +
            `Authorization: Bearer ${emu.recipient.apiKey}\r\n` +
            'Content-Type: application/x-www-form-urlencoded\r\n' +
            `Content-Length: ${body.length + 10}\r\n\r\n${body}`,
          () => setTimeout(() => socket.destroy(), 50),
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await expect.poll(() => emu.requests.length).toBe(1);
    expect(emu.requests[0]).toMatchObject({ endpoint: 'token', status: undefined });
    expect((await exchange(emu, code)).status).toBe(201);
  });

  it('survives garbage on the socket', async () => {
    emu = await startPersonaEmulator();
    const { port } = new URL(emu.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('\u0000\u0001 NOT HTTP\r\n\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { key: emu.owner.apiKey })).status).toBe(200);
  });
});

describe('request log', () => {
  it('records every request in order with what reached the endpoint and the status sent', async () => {
    emu = await startPersonaEmulator();
    const code = readCode(emu);
    const reply = await exchange(emu, code, { headers: { 'idempotency-key': 'log-1' } });
    await call(emu, '/elsewhere?x=1');
    expect(emu.requests).toHaveLength(2);
    const [token, other] = emu.requests;
    expect(token).toMatchObject({
      endpoint: 'token',
      method: 'POST',
      path: '/api/v1/oauth/token',
      status: 201,
      requestId: reply.headers['request-id'],
    });
    expect(token?.headers.authorization).toBe(`Bearer ${emu.recipient.apiKey}`);
    expect(token?.headers['idempotency-key']).toBe('log-1');
    expect(new URLSearchParams(token?.body).get('code')).toBe(code);
    expect(other).toMatchObject({ endpoint: 'other', method: 'GET', path: '/elsewhere?x=1', status: 404 });
    emu.requests.length = 0;
    await call(emu, '/again');
    expect(emu.requests).toHaveLength(1);
  });
});
