import { describe, expect, it } from 'vitest';
import { createCodeExchanger, type CodeExchangerOptions } from '../../src/index.js';

// Every option the calls to Persona share is checked before anything is sent, and refused with a
// TypeError whose message says which option is wrong and how (never quoting the API key).

const KEY = 'persona_sandbox_settings_messages_key';
const refusal = (options: unknown) => {
  try {
    createCodeExchanger(options as CodeExchangerOptions).close();
  } catch (error) {
    return error;
  }
  return undefined;
};
const message = (text: string) => new TypeError(`passport-withpersona: ${text}`);

describe('the options every call to Persona takes', () => {
  it.each([undefined, null, 'persona_sandbox_key'])('refuses %j for options', (options) => {
    expect(refusal(options)).toEqual(message('options are required ({ apiKey })'));
  });

  it.each([
    ['missing', undefined],
    ['a number', 42],
    ['empty', ''],
    ['blank', ' \t '],
  ])('refuses an apiKey that is %s', (_name, apiKey) => {
    expect(refusal({ apiKey })).toEqual(message('apiKey is required (the recipient organization’s Persona API key)'));
  });

  it.each([' key', 'key\r\nX-Injected: 1', 'kéy'])(
    'refuses an apiKey with characters a header cannot carry: %j',
    (apiKey) => {
      const error = refusal({ apiKey });
      expect(error).toEqual(message('apiKey holds characters that cannot be sent in a header'));
    },
  );

  it.each([
    ['not a URL', 'not a url', 'baseURL is not a valid absolute URL'],
    ['credentials', 'https://user:pass@api.withpersona.com', 'baseURL must not contain credentials'],
    [
      'plain http off loopback',
      'http://persona.example.com:8080/x',
      'baseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1), got http://persona.example.com:8080',
    ],
    ['another scheme', 'ftp://api.withpersona.com', 'baseURL must be an https URL'],
  ])('refuses a baseURL with %s', (_name, baseURL, text) => {
    expect(refusal({ apiKey: KEY, baseURL })).toEqual(message(text));
  });

  it.each(['http://localhost:9', 'http://LOCALHOST:9', 'http://[::1]:9', 'http://127.0.0.1:9', 'http://127.255.0.9:9'])(
    'takes plain http on loopback: %s',
    (baseURL) => {
      expect(refusal({ apiKey: KEY, baseURL })).toBeUndefined();
    },
  );

  it('refuses a keyInflection it does not know, and a personaVersion a header cannot carry', () => {
    expect(refusal({ apiKey: KEY, keyInflection: 'Snake' })).toEqual(
      message('keyInflection must be kebab, snake or camel'),
    );
    expect(refusal({ apiKey: KEY, personaVersion: '2023-01-05 ' })).toEqual(
      message('personaVersion must be a version date such as 2023-01-05'),
    );
    expect(refusal({ apiKey: KEY, personaVersion: '2023-01-05' })).toBeUndefined();
  });
});
