// The sign-in every framework test runs, over real HTTP on loopback against the emulator. Each
// framework's app serves the same routes:
//   GET /auth/persona              start: 302 to the share page with a state
//   GET /auth/persona/dashboard    start with returnTo '/dashboard'
//   GET /auth/persona/callback     callback: 302 to req.authInfo.returnTo, else '/profile'
//   GET /me                        the signed-in token set's scope, and whether it has a token
//   GET /inquiries/:id             the scope guard: inquiry.read on :id, then { id }
// Failures and errors are answered by the framework's own handlers.
import { request } from 'undici';
import { expect } from 'vitest';
import type { PersonaEmulator } from '../../src/testing/index.js';

/** A signed-state secret for the framework tests (32 characters or more). */
export const SECRET = 'a signed-state secret for framework tests';

/** The strategy options every framework test shares, on top of the state option. */
export function strategyOptions(emulator: PersonaEmulator): {
  apiKey: string;
  baseURL: string;
  authorizationURL: string;
  retries: number;
} {
  return {
    apiKey: emulator.recipient.apiKey,
    baseURL: emulator.url,
    authorizationURL: 'https://owner.example/share',
    retries: 0,
  };
}

/** The `cookie` request header that echoes a response's `set-cookie` lines (cleared ones left out). */
export function cookieHeader(setCookie: string | string[] | undefined): string {
  return [setCookie ?? []]
    .flat()
    .filter((line) => !/;\s*max-age=0(;|$)/i.test(line))
    .map((line) => line.split(';')[0] ?? '')
    .join('; ');
}

/** Two of the owner's inquiry ids: the one a test shares, and one it does not. */
export function sharedAndOther(emulator: PersonaEmulator): [string, string] {
  const [shared, other] = emulator.owner.inquiries;
  if (!shared || !other) throw new Error('the emulator seeds at least two inquiries');
  return [shared.id, other.id];
}

/** A browser's cookie jar: keeps what `Set-Cookie` sets, drops what it clears. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly base: string) {}

  /** GETs `path` with the jar's cookies and takes the answer's cookies into the jar. */
  async get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; location?: string; body: string }> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const res = await request(`${this.base}${path}`, { headers: { ...headers, ...(cookie ? { cookie } : {}) } });
    for (const line of [res.headers['set-cookie'] ?? []].flat()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (/;\s*max-age=0(;|$)/i.test(line) || pair.slice(eq + 1) === '') this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
    const location = res.headers.location;
    const body = await res.body.text();
    return { status: res.statusCode, body, ...(typeof location === 'string' ? { location } : {}) };
  }

  /** Starts a flow at `path` and returns the callback path for `code` with the flow's state. */
  async start(path = '/auth/persona'): Promise<(code: string) => string> {
    const start = await this.get(path);
    expect(start.status, start.body).toBe(302);
    const state = new URL(start.location ?? 'x:').searchParams.get('state');
    expect(state).toBeTruthy();
    return (code) => `/auth/persona/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state ?? '')}`;
  }
}

/** The number of token requests the emulator has seen. */
export function tokenCalls(emulator: PersonaEmulator): number {
  return emulator.requests.filter((r) => r.endpoint === 'token').length;
}

/**
 * The checks every framework passes, on an app listening at `base`: sign-in with the token and
 * its scope, returnTo, a forged and a replayed state refused with 403 and no call to Persona,
 * the scope guard allowing the shared inquiry and refusing another, and a Persona outage
 * answered 502 (not 500).
 */
export async function signInScenario(emulator: PersonaEmulator, base: string): Promise<void> {
  const [shared, other] = sharedAndOther(emulator);
  const scope = `inquiry.read:${shared}`;
  const browser = new Browser(base);

  const callback = await browser.start();
  const signedIn = await browser.get(callback(emulator.createAuthorization({ scope }).code));
  expect(signedIn.status, signedIn.body).toBe(302);
  expect(signedIn.location).toBe('/profile');
  expect(JSON.parse((await browser.get('/me')).body)).toEqual({ scope, hasToken: true });

  // Replayed: the same callback again, from the same browser; Persona is not asked again.
  const calls = tokenCalls(emulator);
  const replayed = await browser.get(callback(emulator.createAuthorization({ scope }).code));
  expect(replayed.status).toBe(403);
  expect(tokenCalls(emulator)).toBe(calls);

  expect((await browser.get(`/inquiries/${shared}`)).status).toBe(200);
  const refused = await browser.get(`/inquiries/${other}`);
  expect(refused.status).toBe(403);
  expect(refused.body).toContain('does not grant');

  const toDashboard = await browser.start('/auth/persona/dashboard');
  const back = await browser.get(toDashboard(emulator.createAuthorization({ scope }).code));
  expect(back.status, back.body).toBe(302);
  expect(back.location).toBe('/dashboard');

  const forger = new Browser(base);
  await forger.start();
  const forged = await forger.get(
    `/auth/persona/callback?code=${emulator.createAuthorization({ scope }).code}&state=forged`,
  );
  expect(forged.status).toBe(403);
  expect(tokenCalls(emulator)).toBe(calls + 1);

  emulator.setFault('token', { kind: 'status', status: 500 });
  const outage = await browser.start();
  const down = await browser.get(outage(emulator.createAuthorization({ scope }).code));
  emulator.clearFaults();
  expect(down.status, down.body).toBe(502);
}
