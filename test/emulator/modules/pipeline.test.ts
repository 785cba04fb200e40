import { describe, expect, it } from 'vitest';
import { decideResponse, type RequestContext } from '../../../src/testing/pipeline.js';
import { matchRoute } from '../../../src/testing/routes.js';
import type { EmulatorFault } from '../../../src/testing/types.js';
import { fakeRequest, world, type World } from './fixtures.js';

function decide(
  w: World,
  init: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    tooLarge?: boolean;
    fault?: EmulatorFault;
  },
) {
  const path = init.path ?? '/api/v1/oauth/token';
  const ctx: RequestContext = {
    req: fakeRequest(init.method ?? 'POST', path, init.headers),
    route: matchRoute(path),
    body: init.body ?? '',
    tooLarge: init.tooLarge ?? false,
    fault: init.fault,
  };
  const response = decideResponse(w.state, ctx);
  return { ...response, json: JSON.parse(response.body) };
}

const tokenBody = (code: string): string => `grant-type=authorization_code&code=${encodeURIComponent(code)}`;

describe('decideResponse: the order of the checks', () => {
  it('routes (404, 405) and caps the body (413) before looking at credentials', () => {
    const w = world();
    expect(decide(w, { path: '/nowhere' }).status).toBe(404);
    const wrongMethod = decide(w, { method: 'GET' });
    expect([wrongMethod.status, wrongMethod.headers.allow]).toEqual([405, 'POST']);
    expect(decide(w, { tooLarge: true }).status).toBe(413);
  });

  it('refuses a missing credential with 401, uncounted and without the common headers', () => {
    const w = world({ rateLimit: 1 });
    const res = decide(w, {});
    expect([res.status, res.headers['www-authenticate'], res.headers['ratelimit-limit']]).toEqual([
      401,
      'Bearer',
      undefined,
    ]);
    expect(decide(w, { headers: { authorization: `Bearer ${w.recipient.apiKey}` } }).status).toBe(400);
  });

  it('limits the rate before checking Persona-Version and Key-Inflection', () => {
    const w = world({ rateLimit: 1 });
    const headers = { authorization: `Bearer ${w.recipient.apiKey}`, 'persona-version': '1999-01-01' };
    const first = decide(w, { headers });
    expect([first.status, first.json.errors[0].title]).toEqual([400, 'Invalid Persona-Version']);
    const second = decide(w, { headers });
    expect([second.status, second.headers['ratelimit-remaining']]).toEqual([429, '0']);
  });

  it('adds the organisation, environment and RateLimit headers to every authenticated answer', () => {
    const w = world();
    const res = decide(w, { headers: { authorization: `Bearer ${w.recipient.apiKey}`, 'key-inflection': 'shouting' } });
    expect(res.status).toBe(400);
    expect(res.headers).toMatchObject({
      'persona-organization-id': w.recipient.id,
      'persona-environment-id': 'env_modules',
      'ratelimit-limit': '300',
    });
  });
});

describe('decideResponse: idempotency', () => {
  it('stores the endpoint answer and replays it, marked, for the same parameters', () => {
    const w = world();
    const code = w.state.grants.issueCode(
      w.owner.id,
      w.recipient.id,
      ['inquiry.read:inq_owner1'],
      w.state.clock.now(),
    ).code;
    const headers = { authorization: `Bearer ${w.recipient.apiKey}`, 'idempotency-key': 'k1' };
    const first = decide(w, { headers, body: tokenBody(code) });
    const again = decide(w, { headers: { ...headers, 'key-inflection': 'snake' }, body: tokenBody(code) });
    expect(first.status).toBe(201);
    expect(again.body).toBe(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(decide(w, { headers, body: tokenBody('other') }).json.errors[0].title).toBe('Idempotency error');
  });

  it('stores a persona-layer status fault, and refuses an empty or overlong key', () => {
    const w = world();
    const headers = { authorization: `Bearer ${w.recipient.apiKey}`, 'idempotency-key': 'k2' };
    expect(decide(w, { headers, body: tokenBody('c'), fault: { kind: 'status', status: 500 } }).status).toBe(500);
    expect(decide(w, { headers, body: tokenBody('c') }).status).toBe(500);
    expect(decide(w, { headers: { ...headers, 'idempotency-key': '' }, body: tokenBody('c') }).status).toBe(400);
    expect(
      decide(w, { headers: { ...headers, 'idempotency-key': 'k'.repeat(256) }, body: tokenBody('c') }).status,
    ).toBe(400);
  });

  it('does not store a 429 fault, so the retry really runs', () => {
    const w = world();
    const headers = { authorization: `Bearer ${w.recipient.apiKey}`, 'idempotency-key': 'k3' };
    expect(decide(w, { headers, body: tokenBody('c'), fault: { kind: 'status', status: 429 } }).status).toBe(429);
    expect(decide(w, { headers, body: tokenBody('c') }).status).toBe(404);
  });
});

describe('decideResponse: endpoints', () => {
  it('refuses an access token on the OAuth endpoints with 403', () => {
    const w = world();
    const now = w.state.clock.now();
    const redeemed = w.state.grants.redeem(
      w.state.grants.issueCode(w.owner.id, w.recipient.id, [], now).code,
      w.recipient.id,
      now,
    );
    if (!redeemed.ok) throw new Error('not redeemed');
    const res = decide(w, { headers: { authorization: `Bearer ${redeemed.accessToken}` }, body: tokenBody('x') });
    expect(res.status).toBe(403);
  });

  it('answers 400 for a body that does not parse', () => {
    const w = world();
    const res = decide(w, {
      headers: { authorization: `Bearer ${w.recipient.apiKey}`, 'content-type': 'application/json' },
      body: '{',
    });
    expect([res.status, res.json.errors[0].details]).toEqual([400, 'The request body is not valid JSON']);
  });

  it('reads an inquiry with GET', () => {
    const w = world();
    const res = decide(w, {
      method: 'GET',
      path: '/api/v1/inquiries/inq_owner1',
      headers: { authorization: `Bearer ${w.owner.apiKey}` },
    });
    expect([res.status, res.json.data.id]).toEqual([200, 'inq_owner1']);
  });
});
