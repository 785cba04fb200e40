// The emulator's layers as a client meets them over HTTP: the order of the checks, the
// rate-limit windows, what makes two requests "the same" for an Idempotency-Key, routing, the
// objects the handle adds, and the edges of time.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator, type PersonaEmulatorOptions } from '../../src/testing/index.js';
import { call, exchange, firstError, firstInquiry, readCode } from './helpers.js';

let emu: PersonaEmulator;
afterEach(() => emu.close());

async function start(options: PersonaEmulatorOptions = {}): Promise<PersonaEmulator> {
  emu = await startPersonaEmulator({ freezeClock: true, ...options });
  return emu;
}

const readInquiry = (e: PersonaEmulator, key = e.owner.apiKey, headers: Record<string, string> = {}) =>
  call(e, `/api/v1/inquiries/${firstInquiry(e)}`, { key, headers });

describe("the order of Persona's layers", () => {
  it('routes and caps the body before reading credentials: 404, 405 and 413 without a key', async () => {
    await start({ maxBodyBytes: 16 });
    expect((await call(emu, '/api/v1/nowhere')).status).toBe(404);
    const wrongMethod = await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET');
    const tooLarge = await call(emu, '/api/v1/oauth/token', { form: { code: 'x'.repeat(64) } });
    expect(tooLarge.status).toBe(413);
  });

  it('takes a body of 64 KiB by default, and refuses one byte more with 413', async () => {
    await start();
    const post = (bytes: number) =>
      call(emu, '/api/v1/oauth/token', {
        key: emu.recipient.apiKey,
        body: `code=${'x'.repeat(bytes - 5)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    expect((await post(65_536)).status).toBe(400);
    expect((await post(65_537)).status).toBe(413);
  });

  it('refuses a missing credential with 401, uncounted and without the organisation headers', async () => {
    await start();
    const anonymous = await call(emu, `/api/v1/inquiries/${firstInquiry(emu)}`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.headers['persona-environment-id']).toBeUndefined();
    const first = await readInquiry(emu);
    expect(first.headers['ratelimit-remaining']).toBe('299');
  });

  it('limits the rate before reading Persona-Version and Key-Inflection', async () => {
    await start({ rateLimit: 1 });
    expect((await readInquiry(emu)).status).toBe(200);
    const limited = await readInquiry(emu, emu.owner.apiKey, { 'persona-version': 'latest', 'key-inflection': 'x' });
    expect(limited.status).toBe(429);
  });

  it('reads the Bearer scheme in any case, with spaces around the credential', async () => {
    await start();
    const path = `/api/v1/inquiries/${firstInquiry(emu)}`;
    for (const authorization of [`bearer ${emu.owner.apiKey}`, `  BEARER   ${emu.owner.apiKey}  `]) {
      expect((await call(emu, path, { headers: { authorization } })).status, authorization).toBe(200);
    }
    expect((await call(emu, path, { headers: { authorization: `Basic ${emu.owner.apiKey}` } })).status).toBe(401);
  });
});

describe('rate-limit windows', () => {
  it('opens a window with the first request, closes it 60 s later, and opens another when the clock goes back', async () => {
    await start({ rateLimit: 2 });
    expect((await readInquiry(emu)).headers['ratelimit-reset']).toBe('60');
    emu.clock.advance(20_000);
    expect((await readInquiry(emu)).headers['ratelimit-reset']).toBe('40');
    emu.clock.advance(39_999);
    expect((await readInquiry(emu)).status).toBe(429);
    emu.clock.advance(1);
    const fresh = await readInquiry(emu);
    expect(fresh.status).toBe(200);
    expect(fresh.headers['ratelimit-remaining']).toBe('1');
    expect((await readInquiry(emu)).status).toBe(200);
    emu.clock.set(emu.clock.now() - 1000);
    expect((await readInquiry(emu)).headers['ratelimit-remaining']).toBe('1');
  });

  it("keeps an API key's window apart from the environment's: each resets at its own time", async () => {
    await start({ rateLimit: 10 });
    emu.recipient.apiKeyRateLimit = 2;
    const recipientRead = () =>
      call(emu, `/api/v1/inquiries/${emu.recipient.inquiries[0]?.id}`, {
        key: emu.recipient.apiKey,
      });
    await readInquiry(emu); // opens the environment's window at 0 s
    emu.clock.advance(30_000);
    await recipientRead(); // opens the key's window at 30 s
    await recipientRead();
    emu.clock.advance(30_000); // the environment's window closes, the key's does not
    const limited = await recipientRead();
    expect(limited.status).toBe(429);
    expect(firstError(limited).details).toMatch(/this API key's 2/);
    expect((await readInquiry(emu)).headers['ratelimit-remaining']).toBe('8');
    emu.clock.advance(30_000);
    expect((await recipientRead()).status).toBe(200);
  });

  it('reports the key on a tie, and counts each key against its own limit only', async () => {
    await start({ rateLimit: 4 });
    emu.owner.apiKeyRateLimit = 5;
    emu.recipient.apiKeyRateLimit = 2;
    await readInquiry(emu);
    await readInquiry(emu);
    const tie = await call(emu, `/api/v1/inquiries/${emu.recipient.inquiries[0]?.id}`, { key: emu.recipient.apiKey });
    // The environment has 1 left of 4, the key 1 of 2: the key's figures are sent.
    expect(tie.headers['ratelimit-limit']).toBe('2');
    expect(tie.headers['ratelimit-remaining']).toBe('1');
  });
});

describe('what makes two requests the same for an Idempotency-Key', () => {
  it('tells endpoints apart: the same key and parameters on another endpoint is an Idempotency error', async () => {
    await start();
    const form = { code: 'abc', 'grant-type': 'authorization_code' };
    const headers = { 'idempotency-key': 'k-1' };
    const token = await call(emu, '/api/v1/oauth/token', { key: emu.recipient.apiKey, form, headers });
    expect(token.status).toBe(404);
    const other = await call(emu, '/api/v1/oauth/authorize', { key: emu.recipient.apiKey, form, headers });
    expect(other.status).toBe(400);
    expect(firstError(other).title).toBe('Idempotency error');
  });

  it('compares a body that does not parse by its raw text', async () => {
    await start();
    const send = (body: string) =>
      call(emu, '/api/v1/oauth/token', {
        key: emu.recipient.apiKey,
        body,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k-raw' },
      });
    const first = await send('{');
    expect(first.status).toBe(400);
    const again = await send('{');
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(firstError(await send('{{')).title).toBe('Idempotency error');
  });
});

describe('routing', () => {
  it('decodes a percent-escaped id and resolves dot segments', async () => {
    await start();
    const id = firstInquiry(emu);
    const escaped = `%${id.charCodeAt(0).toString(16)}${id.slice(1)}`;
    expect((await call(emu, `/api/v1/inquiries/${escaped}`, { key: emu.owner.apiKey })).status).toBe(200);
    expect((await call(emu, `/api/v1/reports/../inquiries/${id}?x=1`, { key: emu.owner.apiKey })).status).toBe(200);
  });

  it('names nothing for a trailing slash, a nested id, a bare collection or another type (404)', async () => {
    await start();
    const id = firstInquiry(emu);
    for (const path of [
      `/api/v1/inquiries/${id}/`,
      `/api/v1/inquiries/${id}/x`,
      '/api/v1/inquiries',
      `/api/v1/reports/${id}`,
    ]) {
      const reply = await call(emu, path, { key: emu.owner.apiKey });
      expect(reply.status, path).toBe(404);
      expect(firstError(reply).title, path).toBe('Not Found');
    }
  });

  it('answers a request target that is not a path with 404', async () => {
    await start();
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(emu.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk.toString();
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.end('GET http://[bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    expect(raw).toMatch(/^HTTP\/1\.1 (400|404)/);
  });
});

describe('objects the handle adds, as GET answers them', () => {
  it("fills an inquiry with the organisation's template and the clock's time", async () => {
    await start({ now: Date.UTC(2025, 0, 2) });
    const inquiry = emu.addInquiry(emu.owner.id);
    const reply = await call(emu, `/api/v1/inquiries/${inquiry.id}`, { key: emu.owner.apiKey });
    expect(reply.json.data.attributes).toMatchObject({
      status: 'approved',
      'created-at': '2025-01-02T00:00:00.000Z',
      'completed-at': '2025-01-02T00:00:00.000Z',
      'reference-id': null,
      'email-address': null,
      tags: [],
    });
    expect(reply.json.data.relationships['inquiry-template'].data.id).toBe(emu.owner.inquiries[0]?.inquiryTemplateId);
  });

  it('fills a verification with defaults: a passed government ID on its own, created, submitted and completed now', async () => {
    await start({ now: Date.UTC(2025, 0, 2) });
    const verification = emu.addVerification(emu.owner.id);
    const reply = await call(emu, `/api/v1/verifications/${verification.id}`, { key: emu.owner.apiKey });
    expect(reply.json.data).toMatchObject({
      type: 'verification/government-id',
      attributes: {
        status: 'passed',
        'created-at': '2025-01-02T00:00:00.000Z',
        'submitted-at': '2025-01-02T00:00:00.000Z',
        'completed-at': '2025-01-02T00:00:00.000Z',
        checks: [],
      },
      relationships: { inquiry: { data: null } },
    });
    const initiated = emu.addVerification(emu.owner.id, { type: 'selfie', status: 'initiated' });
    expect(initiated).toMatchObject({ submittedAt: null, completedAt: null });
  });

  it('links a verification to an inquiry of its own organisation only, and keeps ids unique across types', async () => {
    await start();
    const theirs = emu.recipient.inquiries[0]?.id ?? '';
    expect(() => emu.addVerification(emu.owner.id, { inquiryId: theirs })).toThrow(/not one of/);
    const taken = emu.owner.verifications[0]?.id ?? '';
    expect(() => emu.addVerification(emu.recipient.id, { id: taken })).toThrow(/already exists/);
    expect(() => emu.addVerification(emu.owner.id, { id: 'inq_abc' })).toThrow(TypeError);
    expect(() => emu.addVerification(emu.owner.id, { type: 'Government ID' })).toThrow(TypeError);
  });

  it("seeds each government ID with its inquiry's name and birthdate", async () => {
    await start();
    for (const verification of emu.owner.verifications.filter((v) => v.type === 'government-id')) {
      const inquiry = emu.owner.inquiries.find((i) => i.id === verification.inquiryId);
      expect(verification).toMatchObject({
        nameFirst: inquiry?.nameFirst,
        nameLast: inquiry?.nameLast,
        birthdate: inquiry?.birthdate,
      });
      expect(Date.parse(verification.createdAt)).toBe(Date.parse(inquiry?.createdAt ?? '') + 60_000);
    }
  });
});

describe('the edges of time', () => {
  it('expires a code at the exact millisecond its lifetime ends', async () => {
    await start();
    const [early, late] = [readCode(emu), readCode(emu)];
    emu.clock.advance(599_999);
    expect((await exchange(emu, early)).status).toBe(201);
    emu.clock.advance(1);
    expect((await exchange(emu, late)).status).toBe(422);
  });

  it('forgets a token expired for longer than the idempotency lifetime: then it is simply not valid', async () => {
    await start({ maxRecordedRequests: 0 });
    const token = (await exchange(emu, readCode(emu))).json['access-token'] as string;
    emu.clock.advance(3_600_000);
    expect(firstError(await readInquiry(emu, token)).details).toMatch(/expired/);
    emu.clock.advance(24 * 3_600_000);
    // The sweep runs every 1,000 requests.
    for (let i = 0; i < 1000; i += 1) await (await fetch(`${emu.url}/x`)).arrayBuffer();
    expect(firstError(await readInquiry(emu, token)).details).toMatch(/not valid/);
  });

  it('wakes a request held by a latency fault at once on close()', async () => {
    await start();
    emu.setFault('inquiry', { kind: 'latency', ms: 60_000 });
    const held = readInquiry(emu).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await emu.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await held).toBe('failed');
    expect(emu.requests.at(-1)?.status).toBeUndefined();
  });
});

describe('control endpoints, one by one', () => {
  it("clears one endpoint's fault with DELETE ?endpoint=, and answers 404 to an unknown control route", async () => {
    await start({ control: true });
    for (const endpoint of ['token', 'inquiry']) {
      await call(emu, '/__emulator/faults', { json: { endpoint, fault: { kind: 'status', status: 204 } } });
    }
    expect((await call(emu, '/__emulator/faults?endpoint=token', { method: 'DELETE' })).status).toBe(200);
    expect((await exchange(emu, readCode(emu))).status).toBe(201);
    const forced = await readInquiry(emu);
    expect(forced.status).toBe(204);
    expect(forced.text).toBe('');
    expect((await call(emu, '/__emulator/faults?endpoint=nope', { method: 'DELETE' })).status).toBe(400);
    expect((await call(emu, '/__emulator/clock', { json: { set: -1 } })).status).toBe(400);
    expect((await call(emu, '/__emulator/nothing', { method: 'POST' })).status).toBe(404);
    expect((await call(emu, '/__emulator/clock', { method: 'GET' })).status).toBe(404);
  });

  it('answers {} for a status fault of a non-error status without a body', async () => {
    await start();
    emu.setFault('inquiry', { kind: 'status', status: 200 });
    const reply = await readInquiry(emu);
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({});
  });
});
