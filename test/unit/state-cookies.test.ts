// Where signed state finds its cookies on each framework's request, and when it makes them
// Secure: Express's req.res, koa-passport's req.ctx, a response attached with
// attachStateResponse (Node's or Fastify's wrappers), and the framework's or the proxy's word
// on HTTPS.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { attachStateResponse, createStateStore, type PersonaRequest } from '../../src/index.js';

const SECRETS = ['a signed-state secret for the cookie tests'];

function nodePair(headers: Record<string, string> = {}): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  return { req, res: new ServerResponse(req) };
}

function setCookies(res: ServerResponse): string[] {
  return [res.getHeader('set-cookie') ?? []].flat().map(String);
}

describe('signed state cookies', () => {
  it('writes through a response attached to a Node request', async () => {
    const { req, res } = nodePair();
    attachStateResponse(req, res);
    await createStateStore({ signed: { secrets: SECRETS } }).store(req, {});
    expect(setCookies(res)).toEqual([expect.stringMatching(/^pwp_state_[\w-]{16}=.*; HttpOnly; SameSite=Lax$/)]);
  });

  it("writes through Fastify's reply.raw, attached as an onRequest hook does, and reads request.protocol", async () => {
    const { req, res } = nodePair();
    const request = { raw: req, headers: req.headers, protocol: 'https' };
    let called = false;
    attachStateResponse(request, { raw: res }, () => {
      called = true;
    });
    expect(called).toBe(true);
    await createStateStore({ signed: { secrets: SECRETS } }).store(request as unknown as PersonaRequest, {});
    expect(setCookies(res)).toEqual([expect.stringMatching(/^__Host-pwp_state_[\w-]{16}=.*; Secure$/)]);
  });

  it("writes through koa-passport's ctx, Secure when ctx.secure says so", async () => {
    const appended: [string, string][] = [];
    const ctx = { secure: true, append: (field: string, value: string) => appended.push([field, value]) };
    const req = { headers: {}, ctx, res: { setHeader() {} } };
    await createStateStore({ signed: { secrets: SECRETS } }).store(req as unknown as PersonaRequest, {});
    expect(appended).toEqual([['set-cookie', expect.stringMatching(/^__Host-pwp_state_.*; Secure$/)]]);
  });

  it.each([
    ['https', true],
    ['HTTPS', true],
    [' https , http', true],
    ['http, https', false],
    ['', false],
  ])('X-Forwarded-Proto %j makes the cookie Secure: %s', async (proto, secure) => {
    const { req, res } = nodePair({ 'x-forwarded-proto': proto });
    attachStateResponse(req, res);
    await createStateStore({ signed: { secrets: SECRETS } }).store(req, {});
    expect(setCookies(res)[0]?.startsWith('__Host-')).toBe(secure);
    expect(setCookies(res)[0]?.endsWith('; Secure')).toBe(secure);
  });

  it('keeps secure: false as the app said, whatever the proxy says', async () => {
    const { req, res } = nodePair({ 'x-forwarded-proto': 'https' });
    attachStateResponse(req, res);
    const store = createStateStore({ signed: { secrets: SECRETS, secure: false } });
    await store.store(req, {});
    expect(setCookies(res)[0]).toMatch(/^pwp_state_.*SameSite=Lax$/);
  });

  it('verifies on the callback the cookie it set behind the proxy', async () => {
    const store = createStateStore({ signed: { secrets: SECRETS } });
    const start = nodePair({ 'x-forwarded-proto': 'https' });
    attachStateResponse(start.req, start.res);
    const state = await store.store(start.req, { returnTo: '/here' });
    const cookie = setCookies(start.res)[0]?.split(';')[0] ?? '';
    const callback = nodePair({ 'x-forwarded-proto': 'https', cookie });
    attachStateResponse(callback.req, callback.res);
    expect(await store.verify(callback.req, state)).toEqual({ valid: true, appState: { returnTo: '/here' } });
    // Without the proxy's word the __Host- cookie is not the one looked for.
    const plain = nodePair({ cookie });
    attachStateResponse(plain.req, plain.res);
    expect(await store.verify(plain.req, state)).toEqual({ valid: false, reason: 'unknown' });
  });
});

describe('createStateStore', () => {
  it('refuses anything but true or { signed }', () => {
    expect(() => createStateStore(false as unknown as true)).toThrow(TypeError);
    expect(() => createStateStore({} as unknown as true)).toThrow(TypeError);
  });

  it('makes session state that lives in req.session', async () => {
    const store = createStateStore(true);
    const req = { headers: {}, session: {} as Record<string, unknown> } as unknown as PersonaRequest;
    const state = await store.store(req, {});
    expect(await store.verify(req, state)).toEqual({ valid: true, appState: {} });
    expect(await store.verify(req, state)).toMatchObject({ valid: false });
  });
});
