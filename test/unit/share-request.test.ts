import { describe, expect, it } from 'vitest';
import { checkShareRequest, shareRedirectURL } from '../../src/index.js';

// The owner's share page's side of this package's convention between the two organisations:
// which share requests it accepts, and the URL that sends the browser back.

describe('checkShareRequest and shareRedirectURL', () => {
  it('builds the way back to the recipient: only to a registered callback, with its state, and the code or the refusal', () => {
    const callback = 'https://recipient.example/auth/persona/callback';
    const accepted = checkShareRequest({ redirect_uri: callback, state: 's-1' }, [callback]);
    expect(accepted).toEqual({ redirectUri: callback, state: 's-1' });
    if ('error' in accepted) throw new Error('refused');
    expect(shareRedirectURL(accepted, { code: 'c+1/2' })).toBe(`${callback}?state=s-1&code=c%2B1%2F2`);
    expect(shareRedirectURL(accepted, { error: 'access_denied' })).toBe(`${callback}?state=s-1&error=access_denied`);
    expect(checkShareRequest({ redirect_uri: 'https://evil.example/cb', state: 's' }, callback)).toEqual({
      error: 'invalid_redirect_uri',
    });
    expect(checkShareRequest({ redirect_uri: `${callback}/`, state: 's' }, callback)).toEqual({
      error: 'invalid_redirect_uri',
    });
    expect(checkShareRequest({ redirect_uri: callback }, callback)).toEqual({ error: 'invalid_state' });
    expect(checkShareRequest({ redirect_uri: callback, state: 'a b' }, callback)).toEqual({ error: 'invalid_state' });
    expect(checkShareRequest({ redirect_uri: callback, state: 'x'.repeat(513) }, callback)).toEqual({
      error: 'invalid_state',
    });
    expect(() => shareRedirectURL(accepted, { code: 'a\r\nb' })).toThrow(TypeError);
  });
});
