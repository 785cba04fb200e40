import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import type { SampleApp } from '../../example-app/app.mjs';
import {
  bearerTokensSeen,
  CALLBACK_URL,
  expectNoInternals,
  formBody,
  inputValue,
  loadSample,
  pathOf,
  PUBLIC_URL,
  sampleOptions,
  shareFields,
  unescapeHtml,
} from './helpers.js';

type Agent = ReturnType<typeof request.agent>;

let emulator: PersonaEmulator;
let sample: SampleApp;
const opened: SampleApp[] = [];

beforeAll(async () => {
  emulator = await startPersonaEmulator();
  const { createApp } = await loadSample();
  sample = createApp(sampleOptions(emulator));
  opened.push(sample);
});

afterAll(async () => {
  await Promise.all(opened.map((app) => app.close()));
  await emulator.close();
});

afterEach(() => {
  emulator.clearFaults();
});

const ownerIds = (): string[] => emulator.owner.inquiries.map((inquiry) => inquiry.id);
const requestsTo = (endpoint: string): number => emulator.requests.filter((r) => r.endpoint === endpoint).length;

/** GET /auth/persona: the redirect to the owner's share page. */
async function startFlow(agent: Agent): Promise<{ sharePath: string; state: string }> {
  const res = await agent.get('/auth/persona').expect(302);
  const target = new URL(res.headers.location as string);
  expect(`${target.origin}${target.pathname}`).toBe(`${PUBLIC_URL}/owner/share`);
  expect(target.searchParams.get('redirect_uri')).toBe(CALLBACK_URL);
  const state = target.searchParams.get('state');
  expect(state).toMatch(/^[\w-]{16,}$/);
  return { sharePath: pathOf(res.headers.location), state: state as string };
}

/** The share page, and a POST of its form with the given decision and inquiries. */
async function submitShare(
  agent: Agent,
  sharePath: string,
  decision: 'share' | 'decline',
  inquiries: string[],
  tweak: Record<string, string | string[]> = {},
): Promise<request.Response> {
  const page = await agent.get(sharePath).expect(200);
  const fields = { ...shareFields(page.text, inquiries, decision), ...tweak };
  return agent.post('/owner/share').type('form').send(formBody(fields));
}

/** The whole flow up to the callback URL the owner redirects to. */
async function callbackFor(agent: Agent, inquiries: string[], verifications: string[] = []): Promise<string> {
  const { sharePath } = await startFlow(agent);
  const res = await submitShare(agent, sharePath, 'share', inquiries, { verification: verifications });
  expect(res.status).toBe(303);
  return pathOf(res.headers.location as string);
}

async function signIn(agent: Agent, inquiries: string[], verifications: string[] = []): Promise<request.Response> {
  const callback = await callbackFor(agent, inquiries, verifications);
  const res = await agent.get(callback);
  expect(res.status).toBe(303);
  expect(res.headers.location).toBe('/profile');
  return res;
}

describe('public pages', () => {
  it('GET /healthz answers 200 JSON without a session', async () => {
    const res = await request(sample.app).get('/healthz').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ status: 'ok', owner: true });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('GET / explains both sides, is not signed in, and sets no cookie', async () => {
    const res = await request(sample.app).get('/').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('Recipient (Org B)');
    expect(res.text).toContain('Data owner (Org A)');
    expect(res.text).toContain(emulator.recipient.name);
    expect(res.text).toContain(emulator.owner.name);
    expect(res.text).toContain('Not signed in');
    expect(res.text).toContain('href="/auth/persona"');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves its own stylesheet', async () => {
    const res = await request(sample.app).get('/static/style.css').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/css/);
    expect(res.text).toContain('font-family');
  });

  it('colours a passed check like an approved inquiry, and never breaks a permission mid-word', async () => {
    const css = (await request(sample.app).get('/static/style.css').expect(200)).text;
    const greenRule = /((?:\.badge-[a-z_]+,?\s*)+)\{\s*background: var\(--ok-soft\)/.exec(css)?.[1] ?? '';
    expect(greenRule).toContain('.badge-approved');
    expect(greenRule).toContain('.badge-passed');
    expect(css).toMatch(/code\.permission \{[^}]*white-space: nowrap;/);
    const agent = request.agent(sample.app);
    await signIn(agent, ownerIds().slice(0, 1));
    const profile = await agent.get('/profile').expect(200);
    expect(profile.text).toContain('<code class="permission">inquiry.read</code>');
  });

  it('an unknown page is a 404 page', async () => {
    const res = await request(sample.app).get('/nope').expect(404);
    expect(res.text).toContain('Page not found');
  });

  it('any unknown GET is a 404 page, signed in or not, and logs nothing', async () => {
    const logged: string[] = [];
    const { createApp } = await loadSample();
    const app = createApp(sampleOptions(emulator, { log: (message) => logged.push(message) }));
    opened.push(app);
    const unknown = [
      '/nope',
      '/nope/',
      '/a/b/c',
      '/%ZZ',
      '/%',
      '/%00',
      '/owner',
      '/owner/share/x',
      '/auth',
      '/auth/persona/x',
      '/profile/x',
      '/inquiries',
      '/static',
      '/static/',
      '/static/nope.css',
      '/static/%ZZ',
      '/static/%',
      `/static/${'a'.repeat(300)}`,
      '/static/style.css/x',
      '/favicon.ico',
      '/logout',
      `/${'x/'.repeat(500)}`,
      '/nope?a[b]=1&a=2',
    ];
    const signedIn = request.agent(app.app);
    await signIn(signedIn, [ownerIds()[0] as string]);
    for (const client of [request(app.app), signedIn]) {
      for (const path of unknown) {
        const res = await client.get(path);
        expect([path, res.status]).toEqual([path, 404]);
        expect(res.text).toContain('Page not found');
        expectNoInternals(res.text);
      }
    }
    expect(logged).toEqual([]);
  });
});

describe('GET /auth/persona', () => {
  it('redirects to the owner share page with state and redirect_uri, keeping the state in the session', async () => {
    const agent = request.agent(sample.app);
    const res = await agent.get('/auth/persona').expect(302);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['set-cookie']?.[0]).toMatch(/^persona_sample\.sid=.*HttpOnly.*SameSite=Lax/i);
    const { state: second } = await startFlow(agent);
    expect(new URL(res.headers.location as string).searchParams.get('state')).not.toBe(second);
  });
});

describe('owner side: /owner/share', () => {
  it('lists one labelled checkbox per owner inquiry inside a fieldset', async () => {
    const agent = request.agent(sample.app);
    const { sharePath, state } = await startFlow(agent);
    const res = await agent.get(sharePath).expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Data owner (Org A)');
    expect(res.text).toMatch(/<fieldset>\s*<legend>Inquiries to share<\/legend>/);
    for (const id of ownerIds()) {
      expect(res.text).toContain(`<input type="checkbox" id="inq-${id}" name="inquiry" value="${id}">`);
      expect(res.text).toContain(`<label for="inq-${id}">`);
    }
    expect(res.text).toMatch(/<fieldset>\s*<legend>Verifications to share<\/legend>/);
    for (const { id } of emulator.owner.verifications) {
      expect(res.text).toContain(`<input type="checkbox" id="ver-${id}" name="verification" value="${id}">`);
    }
    expect(res.text.match(/type="checkbox"/g)).toHaveLength(ownerIds().length + emulator.owner.verifications.length);
    expect(unescapeHtml(inputValue(res.text, 'state'))).toBe(state);
    expect(res.text).toContain('Share selected');
    expect(res.text).toContain('Decline');
  });

  it.each([
    ['another host', 'https://evil.example/auth/persona/callback'],
    ['another port', 'http://127.0.0.1:4000/auth/persona/callback'],
    ['a longer host', 'http://127.0.0.1:3999.evil.example/auth/persona/callback'],
    ['another path', `${PUBLIC_URL}/profile`],
    ['a suffix', `${CALLBACK_URL}/../../elsewhere`],
    ['a protocol-relative URL', '//evil.example/auth/persona/callback'],
  ])('refuses a redirect_uri on %s, without redirecting', async (_label, redirectUri) => {
    const agent = request.agent(sample.app);
    const { state } = await startFlow(agent);
    const res = await agent.get('/owner/share').query({ state, redirect_uri: redirectUri }).expect(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Unknown return address');
    expect(res.text).not.toContain('name="inquiry"');
  });

  it('refuses a missing redirect_uri, a repeated one and a missing state', async () => {
    const agent = request.agent(sample.app);
    const { state } = await startFlow(agent);
    await agent.get('/owner/share').query({ state }).expect(400);
    await agent
      .get(`/owner/share?state=${state}&redirect_uri=${encodeURIComponent(CALLBACK_URL)}&redirect_uri=x`)
      .expect(400);
    const res = await agent.get('/owner/share').query({ redirect_uri: CALLBACK_URL }).expect(400);
    expect(res.text).toContain('Incomplete share request');
  });

  it('POST with a tampered redirect_uri is refused and creates no authorization', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const before = requestsTo('authorize');
    const res = await submitShare(agent, sharePath, 'share', ownerIds().slice(0, 1), {
      redirect_uri: 'https://evil.example/callback',
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(requestsTo('authorize')).toBe(before);
  });

  it('POST without the form’s CSRF token is refused (403) and creates no authorization', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const before = requestsTo('authorize');
    const res = await submitShare(agent, sharePath, 'share', ownerIds().slice(0, 1), { _csrf: 'forged' });
    expect(res.status).toBe(403);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('This form has expired');
    expect(requestsTo('authorize')).toBe(before);
  });

  it('POST with nothing picked shows the form again (422) with an alert', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const res = await submitShare(agent, sharePath, 'share', []);
    expect(res.status).toBe(422);
    expect(res.text).toContain('role="alert"');
    expect(res.text).toContain('Pick at least one inquiry');
  });

  it('POST with an inquiry that is not the owner’s (422) keeps the valid choices checked', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const mine = ownerIds()[0] as string;
    const res = await submitShare(agent, sharePath, 'share', [mine, emulator.recipient.inquiries[0]?.id as string]);
    expect(res.status).toBe(422);
    expect(res.text).toContain(`value="${mine}" checked`);
    expect(res.text).toContain('not Northwind Identity');
  });

  it('POST share calls Create Authorization over HTTP and redirects to the callback with code and state', async () => {
    const agent = request.agent(sample.app);
    const { sharePath, state } = await startFlow(agent);
    const picked = ownerIds().slice(0, 2);
    emulator.requests.length = 0;
    const res = await submitShare(agent, sharePath, 'share', picked);
    expect(res.status).toBe(303);
    const back = new URL(res.headers.location as string);
    expect(`${back.origin}${back.pathname}`).toBe(CALLBACK_URL);
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.get('code')).toBeTruthy();

    const call = emulator.requests.find((r) => r.endpoint === 'authorize');
    expect(call?.method).toBe('POST');
    expect(call?.headers.authorization).toBe(`Bearer ${emulator.owner.apiKey}`);
    const body = new URLSearchParams(call?.body);
    expect(body.get('client-id')).toBe(emulator.recipient.id);
    expect(body.get('response-type')).toBe('code');
    expect(body.get('scope')).toBe(picked.map((id) => `inquiry.read:${id}`).join(' '));
  });

  it('POST decline redirects to the callback with error=access_denied and the state', async () => {
    const agent = request.agent(sample.app);
    const { sharePath, state } = await startFlow(agent);
    const before = requestsTo('authorize');
    const res = await submitShare(agent, sharePath, 'decline', []);
    expect(res.status).toBe(303);
    const back = new URL(res.headers.location as string);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('state')).toBe(state);
    expect(back.searchParams.has('code')).toBe(false);
    expect(requestsTo('authorize')).toBe(before);
  });

  it('Persona failing Create Authorization → an owner error page (502) with the Request-Id, no redirect', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    emulator.setFault('authorize', { kind: 'status', status: 500 }, { times: 1 });
    const res = await submitShare(agent, sharePath, 'share', ownerIds().slice(0, 1));
    expect(res.status).toBe(502);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toContain('Persona did not create the authorization');
    expect(res.text).toMatch(/req_[A-Za-z0-9]+/);
    expectNoInternals(res.text);
  });

  it('escapes every dynamic value: inquiry names and the state echoed into the form', async () => {
    const evil = emulator.addInquiry(emulator.owner.id, {
      nameFirst: '<script>alert(1)</script>',
      nameLast: '"Quote" & <b>',
    });
    try {
      const agent = request.agent(sample.app);
      await startFlow(agent);
      const res = await agent
        .get('/owner/share')
        .query({ state: '"><script>alert(2)</script>', redirect_uri: CALLBACK_URL })
        .expect(200);
      expect(res.text).not.toContain('<script>');
      expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(res.text).toContain('&quot;Quote&quot; &amp; &lt;b&gt;');
      expect(res.text).toContain('value="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"');
    } finally {
      emulator.owner.inquiries.splice(emulator.owner.inquiries.indexOf(evil), 1);
    }
  });
});

describe('GET /auth/persona/callback', () => {
  it('signs in: no-store, no-referrer, 303 to the clean /profile URL, session id regenerated', async () => {
    const agent = request.agent(sample.app);
    const first = await agent.get('/auth/persona').expect(302);
    const before = first.headers['set-cookie']?.[0]?.split(';')[0];
    const res = await agent.get(await callbackFor(agent, ownerIds().slice(0, 2)));
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/profile');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const after = res.headers['set-cookie']?.[0]?.split(';')[0];
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
  });

  it('a replayed callback URL (already used state) → 403 page with "start again", Persona not called', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    await agent.get(callback).expect(303);
    const tokenCalls = requestsTo('token');
    const res = await agent.get(callback).expect(403);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.text).toContain('This sign-in link is not valid here');
    expect(res.text).toContain('invalid_state');
    expect(res.text).toContain('Start again');
    expectNoInternals(res.text);
    expect(requestsTo('token')).toBe(tokenCalls);
  });

  it('a callback from another browser (no session) → 403 invalid_state page', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    const res = await request(sample.app).get(callback).expect(403);
    expect(res.text).toContain('invalid_state');
  });

  it('a tampered state → 403 page, the code is not sent to Persona', async () => {
    const agent = request.agent(sample.app);
    const callback = new URL(await callbackFor(agent, ownerIds().slice(0, 1)), PUBLIC_URL);
    callback.searchParams.set('state', `${callback.searchParams.get('state')}x`);
    const tokenCalls = requestsTo('token');
    const res = await agent.get(`${callback.pathname}${callback.search}`).expect(403);
    expect(res.text).toContain('This sign-in link is not valid here');
    expect(requestsTo('token')).toBe(tokenCalls);
  });

  it('a declined share → 403 page that says the owner declined; not signed in', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const declined = await submitShare(agent, sharePath, 'decline', []);
    const res = await agent.get(pathOf(declined.headers.location as string)).expect(403);
    expect(res.text).toContain('The data owner declined to share');
    expect(res.text).toContain('access_denied');
    expect(res.text).toContain('href="/auth/persona"');
    await agent.get('/profile').expect(401);
  });

  it('declining while signed in says the browser is still signed in and leads to the profile', async () => {
    const agent = request.agent(sample.app);
    await signIn(agent, ownerIds().slice(0, 1));
    const { sharePath } = await startFlow(agent);
    const declined = await submitShare(agent, sharePath, 'decline', []);
    const res = await agent.get(pathOf(declined.headers.location as string)).expect(403);
    expect(res.text).toContain('The data owner declined to share');
    expect(res.text).toContain('You are still signed in with what was shared before.');
    expect(res.text).not.toContain('you are not signed in');
    expect(res.text).toMatch(/<a class="button" href="\/profile">Open your profile<\/a>/);
    await agent.get('/profile').expect(200);
  });

  it('a replayed link while signed in offers "Open your profile"', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    await agent.get(callback).expect(303);
    const tokenCalls = requestsTo('token');
    const replayed = await agent.get(callback).expect(403);
    expect(replayed.text).toContain('This sign-in link is not valid here');
    expect(replayed.text).toMatch(/<a class="button" href="\/profile">Open your profile<\/a>/);
    expect(requestsTo('token')).toBe(tokenCalls);
    // Not signed in, the same page has no way to a profile there is not.
    const stranger = await request(sample.app).get(callback).expect(403);
    expect(stranger.text).not.toContain('Open your profile');
  });

  it('a code Persona rejects (expired) → 303 to the "link already used" page with the Request-Id; not signed in', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    emulator.clock.advance(11 * 60 * 1000);
    const res = await agent.get(callback).expect(303);
    expect(res.headers.location).toMatch(/^\/auth\/persona\/used\?request_id=req_/);
    const page = await agent.get(res.headers.location as string).expect(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain('This sign-in link has already been used');
    expect(page.text).toMatch(/Persona Request-Id[\s\S]*req_/);
    expect(page.text).toContain('Start again');
    expectNoInternals(page.text);
    await agent.get('/profile').expect(401);
  });

  it('a code already exchanged elsewhere → the same page', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    emulator.setFault('token', { kind: 'status', status: 409 }, { times: 1 });
    const res = await agent.get(callback).expect(303);
    const page = await agent.get(res.headers.location as string).expect(200);
    expect(page.text).toContain('already been used');
  });

  it('Persona down at the token endpoint → 502 page, no stack trace, no-store', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    emulator.setFault('token', { kind: 'status', status: 503 }, { times: 1 });
    const res = await agent.get(callback).expect(502);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('Persona is unavailable');
    expect(res.text).toContain('persona_unavailable');
    expect(res.text).toContain('Start again');
    expectNoInternals(res.text);
  });

  it('Persona rate limiting → 503 page with Retry-After', async () => {
    const agent = request.agent(sample.app);
    const callback = await callbackFor(agent, ownerIds().slice(0, 1));
    emulator.setFault('token', { kind: 'status', status: 429 });
    const res = await agent.get(callback).expect(503);
    expect(res.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(res.text).toContain('Persona is busy');
  });

  it('a malformed callback (repeated code) → 400 page', async () => {
    const agent = request.agent(sample.app);
    const { state } = await startFlow(agent);
    const res = await agent.get(`/auth/persona/callback?state=${state}&code=a&code=b`).expect(400);
    expect(res.text).toContain('malformed');
  });
});

describe('signed in', () => {
  let agent: Agent;
  let granted: string[];
  let token: string;

  beforeAll(async () => {
    agent = request.agent(sample.app);
    granted = ownerIds().slice(1, 3);
    await signIn(agent, granted);
    emulator.requests.length = 0;
    await agent.get(`/inquiries/${granted[0]}`).expect(200);
    token = bearerTokensSeen(emulator)[0] as string;
    expect(token).toMatch(/^persona_access_token_/);
  });

  it('GET /profile: time left, the scopes as a table, a link per inquiry, the token masked', async () => {
    const res = await agent.get('/profile').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/class="time-left">(59|60) min \d+ s</);
    expect(res.text).toContain('<th scope="col">Permission</th>');
    expect(res.text).toContain('<caption>');
    for (const id of granted) {
      expect(res.text).toContain(`<td><code>${id}</code></td>`);
      expect(res.text).toContain(`href="/inquiries/${id}"`);
    }
    expect(res.text.match(/href="\/inquiries\//g)).toHaveLength(granted.length);
    expect(res.text).not.toContain(token);
    expect(res.text).toContain(`${token.slice(0, 24)}…`);
    expect(res.text).toContain('action="/logout"');
  });

  it('GET /profile says so when the lifetime was assumed (Persona sent no expires-in)', async () => {
    expect((await agent.get('/profile').expect(200)).text).not.toContain('lifetime-assumed');
    emulator.setFault('token', { kind: 'null-fields', fields: ['expires-in'] }, { times: 1 });
    const other = request.agent(sample.app);
    await signIn(other, granted);
    const res = await other.get('/profile').expect(200);
    expect(res.text).toMatch(/class="time-left">(59|60) min \d+ s</);
    expect(res.text).toContain('assumed: Persona sent no lifetime, so the documented hour applies');
  });

  it('GET / shows the signed-in state and what is shared, never the token', async () => {
    const res = await agent.get('/').expect(200);
    expect(res.text).toContain('Signed in.');
    for (const id of granted) expect(res.text).toContain(id);
    expect(res.text).not.toContain(token);
  });

  it('GET /inquiries/:id (granted) fetches it from Persona with the access token and shows it', async () => {
    emulator.requests.length = 0;
    const id = granted[1] as string;
    const inquiry = emulator.owner.inquiries.find((i) => i.id === id);
    const res = await agent.get(`/inquiries/${id}`).expect(200);
    expect(res.text).toContain(inquiry?.nameLast as string);
    expect(res.text).toContain(inquiry?.status.replace(/_/g, ' ') as string);
    const call = emulator.requests.find((r) => r.endpoint === 'inquiry');
    expect(call?.path).toBe(`/api/v1/inquiries/${id}`);
    expect(call?.headers.authorization).toBe(`Bearer ${token}`);
    expect(res.text).not.toContain(token);
  });

  it('GET /inquiries/:id (not granted) → 403 page, Persona is not asked', async () => {
    emulator.requests.length = 0;
    const other = ownerIds()[0] as string;
    const res = await agent.get(`/inquiries/${other}`).expect(403);
    expect(res.text).toContain('This inquiry was not shared with you');
    expect(res.text).toContain(other);
    expect(res.text).toContain('insufficient_scope');
    expect(emulator.requests).toHaveLength(0);
  });

  it('Persona failing while reading an inquiry → 502 page', async () => {
    emulator.setFault('inquiry', { kind: 'status', status: 500 }, { times: 1 });
    const res = await agent.get(`/inquiries/${granted[0]}`).expect(502);
    expect(res.text).toContain('Persona is unavailable');
    expectNoInternals(res.text);
  });

  it('Persona refusing the token (401) while reading → the reconnect page', async () => {
    emulator.setFault('inquiry', { kind: 'status', status: 401 }, { times: 1 });
    const res = await agent.get(`/inquiries/${granted[0]}`).expect(401);
    expect(res.text).toContain('reconnect');
  });

  it('POST /logout needs the form’s CSRF token; then the session is destroyed', async () => {
    const own = request.agent(sample.app);
    await signIn(own, ownerIds().slice(0, 1));
    const profile = await own.get('/profile').expect(200);
    await own.post('/logout').type('form').send('_csrf=forged').expect(403);
    await own.get('/profile').expect(200);
    await own.get('/logout').expect(404);

    const res = await own
      .post('/logout')
      .type('form')
      .send(formBody({ _csrf: inputValue(profile.text, '_csrf') }))
      .expect(303);
    expect(res.headers.location).toBe('/');
    expect(res.headers['set-cookie']?.[0]).toMatch(/^persona_sample\.sid=;.*Expires=Thu, 01 Jan 1970/);
    await own.get('/profile').expect(401);
  });

  it('the old session cookie is dead after logout (destroyed on the server)', async () => {
    const own = request.agent(sample.app);
    const login = await signIn(own, ownerIds().slice(0, 1));
    const sid = login.headers['set-cookie']?.[0]?.split(';')[0] as string;
    const profile = await request(sample.app).get('/profile').set('Cookie', sid).expect(200);
    await request(sample.app)
      .post('/logout')
      .set('Cookie', sid)
      .type('form')
      .send(formBody({ _csrf: inputValue(profile.text, '_csrf') }))
      .expect(303);
    await request(sample.app).get('/profile').set('Cookie', sid).expect(401);
  });
});

describe('not signed in', () => {
  it('GET /profile → 401 page that offers to connect', async () => {
    const res = await request(sample.app).get('/profile').expect(401);
    expect(res.text).toContain('You are not signed in');
    expect(res.text).toContain('href="/auth/persona"');
  });

  it('GET /inquiries/:id → 401 page, Persona is not asked', async () => {
    emulator.requests.length = 0;
    await request(sample.app).get(`/inquiries/${ownerIds()[0]}`).expect(401);
    expect(emulator.requests).toHaveLength(0);
  });

  it('POST /logout without a session just goes home', async () => {
    const res = await request(sample.app).post('/logout').type('form').send('').expect(303);
    expect(res.headers.location).toBe('/');
  });
});

describe('an expired token is never used', () => {
  let shortLived: PersonaEmulator;
  let app: SampleApp;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    shortLived = await startPersonaEmulator({ tokenTtlSeconds: 1 });
    const { createApp } = await loadSample();
    app = createApp({ ...sampleOptions(shortLived), now: () => Date.now() + clockOffsetMs });
    opened.push(app);
  });

  afterAll(async () => {
    await app.close();
    await shortLived.close();
  });

  it('after expiresAt, /profile and /inquiries/:id ask to reconnect (401) and Persona is not called', async () => {
    const agent = request.agent(app.app);
    const { sharePath } = await (async () => {
      const res = await agent.get('/auth/persona').expect(302);
      return { sharePath: pathOf(res.headers.location as string) };
    })();
    const page = await agent.get(sharePath).expect(200);
    const id = shortLived.owner.inquiries[0]?.id as string;
    const shared = await agent
      .post('/owner/share')
      .type('form')
      .send(formBody(shareFields(page.text, id)))
      .expect(303);
    await agent.get(pathOf(shared.headers.location as string)).expect(303);
    await agent.get('/profile').expect(200);

    // The token lives one second: move the app's clock past it instead of waiting.
    clockOffsetMs = 2_000;
    shortLived.requests.length = 0;
    const profile = await agent.get('/profile').expect(401);
    expect(profile.text).toContain('Your access has expired: reconnect');
    expect(profile.text).toContain('token_expired');
    expect(profile.text).toContain('href="/auth/persona"');
    const inquiry = await agent.get(`/inquiries/${id}`).expect(401);
    expect(inquiry.text).toContain('reconnect');
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain('The access has expired');
    expect(shortLived.requests).toHaveLength(0);
  });
});

describe('with a real Persona (no simulated owner)', () => {
  it('hides the owner side; /auth/persona explains it needs the owner’s share page', async () => {
    const { createApp } = await loadSample();
    const { owner: _owner, ...options } = sampleOptions(emulator);
    const app = createApp(options);
    opened.push(app);
    const home = await request(app.app).get('/').expect(200);
    expect(home.text).toContain('not simulated');
    expect(home.text).not.toContain('href="/auth/persona"');
    await request(app.app).get('/owner/share').expect(404);
    await request(app.app).post('/owner/share').expect(404);
    const start = await request(app.app).get('/auth/persona').expect(400);
    expect(start.text).toContain('PERSONA_AUTHORIZATION_URL');
    const health = await request(app.app).get('/healthz').expect(200);
    expect(health.body.owner).toBe(false);
  });

  it('with an authorizationURL, /auth/persona redirects there with state and redirect_uri', async () => {
    const { createApp } = await loadSample();
    const { owner: _owner, ...options } = sampleOptions(emulator);
    const app = createApp({ ...options, authorizationURL: 'https://owner.example/share' });
    opened.push(app);
    const res = await request(app.app).get('/auth/persona').expect(302);
    const target = new URL(res.headers.location as string);
    expect(target.origin).toBe('https://owner.example');
    expect(target.searchParams.get('redirect_uri')).toBe(CALLBACK_URL);
    expect(target.searchParams.get('state')).toBeTruthy();
  });
});

describe('verifications: shared next to inquiries, opened behind requireScope', () => {
  let signedIn: Agent;
  let shared: { inquiry: string; verification: string; other: string };

  beforeAll(async () => {
    signedIn = request.agent(sample.app);
    const [first, second] = emulator.owner.verifications;
    shared = { inquiry: first?.inquiryId as string, verification: first?.id as string, other: second?.id as string };
    emulator.requests.length = 0;
    await signIn(signedIn, [shared.inquiry], [shared.verification]);
  });

  it('asks Persona for inquiry.read and verification.read in one authorization', () => {
    const call = emulator.requests.find((r) => r.endpoint === 'authorize');
    expect(new URLSearchParams(call?.body).get('scope')).toBe(
      `inquiry.read:${shared.inquiry} verification.read:${shared.verification}`,
    );
  });

  it('GET /profile links each shared object to its page', async () => {
    const res = await signedIn.get('/profile').expect(200);
    expect(res.text).toContain('2 objects with');
    expect(res.text).toContain(`href="/inquiries/${shared.inquiry}"`);
    expect(res.text).toContain(`href="/verifications/${shared.verification}"`);
    expect(res.text).toContain('View verification');
  });

  it('GET /verifications/:id (granted) reads it from Persona with the access token and shows its checks', async () => {
    emulator.requests.length = 0;
    const res = await signedIn.get(`/verifications/${shared.verification}`).expect(200);
    const verification = emulator.owner.verifications.find((v) => v.id === shared.verification);
    expect(res.text).toContain('Government ID verification');
    expect(res.text).toContain(verification?.nameLast as string);
    expect(res.text).toContain('<code>id_tamper_detection</code>');
    expect(res.text).toContain(`<code>${shared.inquiry}</code>`);
    const call = emulator.requests.find((r) => r.endpoint === 'verification');
    expect(call?.path).toBe(`/api/v1/verifications/${shared.verification}`);
    expect(call?.headers.authorization).toMatch(/^Bearer persona_access_token_/);
  });

  it('GET /verifications/:id (not granted) → 403 page, Persona is not asked', async () => {
    emulator.requests.length = 0;
    const res = await signedIn.get(`/verifications/${shared.other}`).expect(403);
    expect(res.text).toContain('This verification was not shared with you');
    expect(res.text).toContain('insufficient_scope');
    expect(emulator.requests).toHaveLength(0);
  });

  it('an inquiry id under /verifications/ is not shared either (the permission is per kind)', async () => {
    await signedIn.get(`/verifications/${shared.inquiry}`).expect(403);
  });

  it('POST share with a verification that is not the owner’s (422)', async () => {
    const agent = request.agent(sample.app);
    const { sharePath } = await startFlow(agent);
    const res = await submitShare(agent, sharePath, 'share', [], {
      verification: [emulator.recipient.verifications[0]?.id as string],
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('not Northwind Identity');
  });

  it('Persona failing while reading a verification → 502 page', async () => {
    emulator.setFault('verification', { kind: 'status', status: 500 }, { times: 1 });
    const res = await signedIn.get(`/verifications/${shared.verification}`).expect(502);
    expect(res.text).toContain('Persona could not give this verification (HTTP 500)');
  });
});
