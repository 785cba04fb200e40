import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createStateStore, type PersonaRequest } from '../../src/index.js';

// The request shapes signed state meets beyond the four frameworks it names: a `raw` or `ctx`
// field that is something else, a response with only half of Node's header methods, a
// hand-made request without headers, and Koa saying plain HTTP.

const SECRETS = ['a signed-state secret for the request shapes'];
const store = createStateStore({ signed: { secrets: SECRETS } });
const NO_RESPONSE =
  "passport-withpersona: signed state cannot find the response to set its nonce cookie on; on Fastify add app.addHook('onRequest', attachStateResponse), on node:http call attachStateResponse(req, res)";

function expressLike(fields: Record<string, unknown> = {}) {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  const req = { headers: {}, res, ...fields } as unknown as PersonaRequest;
  return { req, setCookies: () => [res.getHeader('set-cookie') ?? []].flat().map(String) };
}

describe('signed state: fields that only look like a framework', () => {
  it.each([
    ['a string', 'the raw body as text'],
    ['null', null],
    ['a number', 42],
  ])('a `raw` field holding %s is not a wrapped request: the request itself is read', async (_name, raw) => {
    const first = expressLike({ raw });
    const state = await store.store(first.req, {});
    const cookie = first.setCookies()[0]?.split(';')[0] ?? '';
    const second = expressLike({ raw, headers: { cookie } });
    expect(await store.verify(second.req, state)).toEqual({ valid: true, appState: {} });
  });

  it.each([
    ['null', null],
    ['an object without append', { secure: true }],
    ['an object without secure', { append: () => undefined }],
  ])('a `ctx` field holding %s is not Koa: the response is used', async (_name, ctx) => {
    const { req, setCookies } = expressLike({ ctx });
    await store.store(req, {});
    expect(setCookies()).toEqual([expect.stringMatching(/^pwp_state_[\w-]{16}=[^;]+; Path=\/; .*Lax$/)]);
  });

  it('a Koa context that says plain HTTP: neither Secure nor __Host-', async () => {
    const appended: string[] = [];
    const ctx = { secure: false, append: (_field: string, value: string) => void appended.push(value) };
    await store.store({ headers: {}, ctx } as unknown as PersonaRequest, {});
    expect(appended).toEqual([expect.stringMatching(/^pwp_state_[\w-]{16}=[^;]+; .*Lax$/)]);
  });

  it('a response with getHeader but no setHeader is no response: the error says what to do', async () => {
    const req = { headers: {}, res: { getHeader: () => undefined } } as unknown as PersonaRequest;
    await expect(store.store(req, {})).rejects.toThrow(new Error(NO_RESPONSE));
    await expect(store.verify(req, `${'A'.repeat(16)}.b.c.d`)).rejects.toThrow(new Error(NO_RESPONSE));
  });

  it('a hand-made request without headers starts a flow: no cookie read, not Secure', async () => {
    const res = new ServerResponse(new IncomingMessage(new Socket()));
    await store.store({ res } as unknown as PersonaRequest, {});
    expect(String(res.getHeader('set-cookie'))).toMatch(/^pwp_state_[\w-]{16}=[^;]+; .*Lax$/);
  });
});
