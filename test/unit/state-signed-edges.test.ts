import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { PersonaRequest } from '../../src/index.js';
import { SignedStateStore, type SignedStateStoreOptions } from '../../src/state/signed.js';

// The edges of the signed state store: the words of each refused option, how a Cookie header
// that no browser writes is read, and the parts of a state or a nonce cookie that must match
// from their first character to their last.

const SECRET = `${'e'.repeat(16)}signed-edges-secret-0123456789`;

function requestWith(cookie?: string | string[]): PersonaRequest {
  const res = new ServerResponse(new IncomingMessage(new Socket()));
  return { headers: cookie === undefined ? {} : { cookie }, res } as unknown as PersonaRequest;
}

function setCookiesOf(req: PersonaRequest): string[] {
  const raw = req.res?.getHeader('set-cookie');
  return raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
}

/** Starts one flow: its state, and the nonce cookie's name and value. */
async function started(store: SignedStateStore, returnTo?: string) {
  const req = requestWith();
  const state = await store.store(req, returnTo === undefined ? {} : { returnTo });
  const [line = ''] = setCookiesOf(req);
  const pair = line.split(';')[0] ?? '';
  const eq = pair.indexOf('=');
  return { state, name: pair.slice(0, eq), value: pair.slice(eq + 1) };
}

function make(options: Partial<SignedStateStoreOptions> = {}): SignedStateStore {
  return new SignedStateStore({ secrets: [SECRET], ...options });
}

describe('SignedStateStore: what each refused option says', () => {
  it.each([
    ['no options at all', undefined, /^passport-withpersona: signed state needs at least one secret$/],
    ['no secret', { secrets: [] }, /^passport-withpersona: signed state needs at least one secret$/],
    [
      'a short secret',
      { secrets: ['x'.repeat(31)] },
      /^passport-withpersona: each signed-state secret must be a string of at least 32 characters$/,
    ],
    [
      'a cookie name with a separator',
      { secrets: [SECRET], cookieName: 'a=b' },
      /^passport-withpersona: cookieName may hold only letters, digits, _ and -$/,
    ],
    [
      'a path given as a list',
      { secrets: [SECRET], path: ['/'] },
      /^passport-withpersona: path must start with \/ and hold no ; or spaces$/,
    ],
    [
      'a path given as a number',
      { secrets: [SECRET], path: 7 },
      /^passport-withpersona: path must start with \/ and hold no ; or spaces$/,
    ],
  ])('%s', (_name, options, message) => {
    expect(() => new SignedStateStore(options as never)).toThrow(TypeError);
    expect(() => new SignedStateStore(options as never)).toThrow(message);
  });
});

describe('SignedStateStore: a Cookie header no browser writes', () => {
  it('reads a header given as a list of lines', async () => {
    const store = make();
    const { state, name, value } = await started(store, '/list');
    const result = await store.verify(requestWith(['theme=dark', `${name}=${value}`]), state);
    expect(result).toEqual({ valid: true, appState: { returnTo: '/list' } });
  });

  it('trims the spaces around a name, its = and its value', async () => {
    const store = make();
    const { state, name, value } = await started(store);
    const result = await store.verify(requestWith(`a=1 ;  ${name} = ${value}  ; b=2`), state);
    expect(result).toEqual({ valid: true, appState: {} });
  });

  it('skips a part without =, even one that starts with the flow cookie name', async () => {
    const store = make();
    const { state, name } = await started(store);
    // Only a cookie named exactly like the flow's counts; this one has no value at all.
    const req = requestWith(`${name}x; other=1`);
    expect(await store.verify(req, state)).toEqual({ valid: false, reason: 'unknown' });
    expect(setCookiesOf(req)).toEqual([]);
  });

  it('reads a one-character cookie name like any other', async () => {
    const store = make({ cookieName: 'p' });
    const { state, name, value } = await started(store);
    expect(name.startsWith('p_')).toBe(true);
    const result = await store.verify(requestWith(`a=1; ${name}=${value}`), state);
    expect(result.valid).toBe(true);
  });
});

describe('SignedStateStore: parts that must match whole', () => {
  it.each([
    ['junk before the issue time', 'Z'],
    ['a dot before the issue time', '.'],
  ])('a nonce cookie with %s is forged', async (_name, junk) => {
    const store = make();
    const { state, name, value } = await started(store);
    const req = requestWith(`${name}=${junk}${value}`);
    expect(await store.verify(req, state)).toEqual({ valid: false, reason: 'forged' });
    // Its cookie is cleared all the same.
    expect(setCookiesOf(req)).toHaveLength(1);
  });

  it.each([
    ['ends in a character outside base 36', (expires: string) => `${expires}Z`],
    ['starts with a character outside base 36', (expires: string) => `Z${expires}`],
  ])('an expiry that %s is forged before any cookie is looked for', async (_name, change) => {
    const store = make();
    const { state } = await started(store);
    const [flowId, expires = '', returnTo, signature] = state.split('.');
    // No cookie: a well-formed state would be 'unknown' here.
    const req = requestWith();
    expect(await store.verify(req, `${flowId}.${change(expires)}.${returnTo}.${signature}`)).toEqual({
      valid: false,
      reason: 'forged',
    });
    expect(setCookiesOf(req)).toEqual([]);
  });

  it('a returnTo part that does not decode is forged, whatever text its signature covers', async () => {
    const store = make();
    // The store signs what it is given (the strategy checks returnTo first); a part that fails
    // to decode must not be read as any text, such as the word "undefined".
    const { state, name, value } = await started(store, 'undefined');
    const [flowId, expires, encoded, signature] = state.split('.');
    expect(Buffer.from(encoded ?? '', 'base64url').toString()).toBe('undefined');
    const req = requestWith(`${name}=${value}`);
    expect(await store.verify(req, `${flowId}.${expires}.${encoded}!.${signature}`)).toEqual({
      valid: false,
      reason: 'forged',
    });
  });
});
