// node:http with createCodeExchanger and createStateStore's signed state, no Passport: the full sign-in of
// helpers.ts over real HTTP against the emulator. The app keeps its sign-ins in memory under a
// random `sid` cookie; errors are answered with the error's statusCode.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'vitest';
import {
  attachStateResponse,
  checkScope,
  createCodeExchanger,
  isPersonaOAuthError,
  createStateStore,
  type PersonaTokenSet,
} from '../../src/index.js';
import type { PersonaEmulator } from '../../src/testing/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { SECRET, signInScenario, strategyOptions } from './helpers.js';

let emulator: PersonaEmulator;
useEmulator((e) => {
  emulator = e;
});

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const item of opened.splice(0)) await item.close();
});

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

function nodeApp(): Promise<string> {
  const { apiKey, baseURL, authorizationURL } = strategyOptions(emulator);
  const exchanger = createCodeExchanger({ apiKey, baseURL, retries: 0 });
  const states = createStateStore({ signed: { secrets: [SECRET] } });
  const signedIn = new Map<string, PersonaTokenSet>();
  const userOf = (req: IncomingMessage) =>
    signedIn.get(/(?:^|;\s*)sid=([\w-]+)/.exec(req.headers.cookie ?? '')?.[1] ?? '');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    attachStateResponse(req, res);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/auth/persona' || url.pathname === '/auth/persona/dashboard') {
      const returnTo = url.pathname === '/auth/persona/dashboard' ? { returnTo: '/dashboard' } : {};
      const share = new URL(authorizationURL);
      share.searchParams.set('state', await states.store(req, returnTo));
      return send(res, 302, undefined, { location: share.href });
    }
    if (url.pathname === '/auth/persona/callback') {
      const checked = await states.verify(req, url.searchParams.get('state') ?? '');
      if (!checked.valid) return send(res, 403, { error: 'invalid_state', reason: checked.reason });
      const tokens = await exchanger.exchange(url.searchParams.get('code') ?? '');
      const sid = randomBytes(16).toString('base64url');
      signedIn.set(sid, tokens);
      res.setHeader(
        'set-cookie',
        [res.getHeader('set-cookie') ?? []].flat().map(String).concat(`sid=${sid}; Path=/; HttpOnly`),
      );
      return send(res, 302, undefined, { location: checked.appState.returnTo ?? '/profile' });
    }
    if (url.pathname === '/me') {
      const user = userOf(req);
      return send(res, 200, { scope: user?.scope, hasToken: typeof user?.accessToken === 'string' });
    }
    const inquiry = /^\/inquiries\/([^/]+)$/.exec(url.pathname);
    if (inquiry) {
      const refusal = checkScope(userOf(req), 'inquiry.read', { objectId: inquiry[1] });
      if (refusal) return send(res, refusal.statusCode, { error: refusal.code, message: refusal.message });
      return send(res, 200, { id: inquiry[1] });
    }
    send(res, 404);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!isPersonaOAuthError(error)) return send(res, 500);
      send(res, error.statusCode, { error: error.code, message: error.message });
    });
  });
  opened.push(exchanger, { close: () => new Promise((resolve) => server.close(resolve)) });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

describe('node:http + createCodeExchanger + createStateStore({ signed })', () => {
  it('signs in: token and scope, returnTo, forged and replayed state, scope guard, outage', async () => {
    await signInScenario(emulator, await nodeApp());
  });
});
