import { describe, expect, it } from 'vitest';
import { checkShareRequest, shareRedirectURL } from '../../src/index.js';

// The edges of the owner's share page helpers: a query that is not there, one registered
// callback given as a string (matched whole, never as a substring), the 512-character state,
// and an outcome that is both, neither or not text.

const CALLBACK = 'https://recipient.example/auth/persona/callback';
const NOT_AN_OUTCOME = 'passport-withpersona: shareRedirectURL needs a code or an error, printable ASCII';

describe('checkShareRequest', () => {
  it('refuses a query that is not there', () => {
    expect(checkShareRequest(undefined as never, CALLBACK)).toEqual({ error: 'invalid_redirect_uri' });
    expect(checkShareRequest(null as never, [CALLBACK])).toEqual({ error: 'invalid_redirect_uri' });
  });

  it.each([
    ['a prefix of it', 'https://recipient.example/auth'],
    ['a piece of it', 'recipient.example'],
    ['the empty string', ''],
  ])('matches one callback given as a string whole: %s is refused', (_name, redirectUri) => {
    expect(checkShareRequest({ redirect_uri: redirectUri, state: 's' }, CALLBACK)).toEqual({
      error: 'invalid_redirect_uri',
    });
  });

  it('refuses a redirect_uri given as a list, even of the callback', () => {
    expect(checkShareRequest({ redirect_uri: [CALLBACK], state: 's' }, [CALLBACK])).toEqual({
      error: 'invalid_redirect_uri',
    });
  });

  it('takes a state of 512 characters, and refuses 513', () => {
    const state = 's'.repeat(512);
    expect(checkShareRequest({ redirect_uri: CALLBACK, state }, CALLBACK)).toEqual({ redirectUri: CALLBACK, state });
    expect(checkShareRequest({ redirect_uri: CALLBACK, state: `${state}s` }, CALLBACK)).toEqual({
      error: 'invalid_state',
    });
  });
});

describe('shareRedirectURL', () => {
  const request = { redirectUri: CALLBACK, state: 's-1' };

  it.each([
    ['both a code and an error', { code: 'c_1', error: 'access_denied' }],
    ['a code that is a number', { code: 12345 }],
    ['an error that is a number', { error: 403 }],
    ['an empty code', { code: '' }],
    ['neither', {}],
  ])('refuses %s', (_name, outcome) => {
    expect(() => shareRedirectURL(request, outcome as never)).toThrow(new TypeError(NOT_AN_OUTCOME));
  });
});
