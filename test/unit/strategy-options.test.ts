import { inspect } from 'node:util';
import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveClientSettings } from '../../src/settings.js';
import {
  createCodeExchanger,
  DEFAULT_BASE_URL,
  PersonaStrategy,
  type CodeExchangerOptions,
  type PersonaStrategyOptions,
} from '../../src/index.js';

const API_KEY = 'persona_sandbox_key_0123456789';
const strategies: PersonaStrategy[] = [];

type Options = PersonaStrategyOptions;

function settings(options: Partial<CodeExchangerOptions>) {
  const resolved = resolveClientSettings({ apiKey: API_KEY, ...options });
  return { ...resolved, tokenURL: new URL('api/v1/oauth/token', resolved.baseURL) };
}

function make(options: Partial<Options>): PersonaStrategy {
  const strategy = new PersonaStrategy({ apiKey: API_KEY, ...options });
  strategies.push(strategy);
  return strategy;
}

afterEach(async () => {
  await Promise.all(strategies.splice(0).map((s) => s.close()));
});

describe('PersonaStrategy constructor', () => {
  it('defaults the name to persona and the base URL to Persona production', () => {
    const strategy = make({});
    expect(strategy.name).toBe('persona');
    expect(DEFAULT_BASE_URL).toBe('https://api.withpersona.com');
    const defaults = settings({});
    expect(defaults.tokenURL.href).toBe('https://api.withpersona.com/api/v1/oauth/token');
    expect(defaults.timeoutMs).toBe(10_000);
    expect(defaults.maxResponseBytes).toBe(65_536);
    expect(defaults.retries).toBe(2);
    expect(defaults.userAgent).toMatch(/^passport-withpersona\/\d+\.\d+\.\d+ \(node v\d+/);
  });

  it('takes a custom name', () => {
    expect(make({ name: 'persona-sandbox' }).name).toBe('persona-sandbox');
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['a number', 12345],
    ['holding a newline', 'key\nX-Injected: 1'],
    ['holding a space', 'key with space'],
    ['non-ASCII', 'clé'],
  ])('throws a TypeError when apiKey is %s', (_name, apiKey) => {
    expect(() => new PersonaStrategy({ apiKey } as unknown as Options)).toThrow(TypeError);
    expect(() => createCodeExchanger({ apiKey } as unknown as CodeExchangerOptions)).toThrow(TypeError);
  });

  it('throws a TypeError without options', () => {
    expect(() => new PersonaStrategy(undefined as unknown as Options)).toThrow(TypeError);
  });

  it('does not put the API key in the constructor error', () => {
    try {
      new PersonaStrategy({ apiKey: 'secret key value' });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret key value');
    }
  });

  it.each([
    'https://api.withpersona.com',
    'https://api.example.test:8443/prefix',
    'https://10.0.0.5',
    'http://127.0.0.1:9',
    'http://127.0.0.2:1',
    'http://127.255.255.254',
    'http://localhost',
    'http://localhost:3000',
    'http://LOCALHOST:3000',
    'http://[::1]',
    'http://[::1]:8080/base',
  ])('accepts baseURL %s', (baseURL) => {
    expect(() => make({ baseURL })).not.toThrow();
  });

  it('accepts a URL object as baseURL', () => {
    expect(settings({ baseURL: new URL('http://127.0.0.1:4010') }).tokenURL.href).toBe(
      'http://127.0.0.1:4010/api/v1/oauth/token',
    );
  });

  it.each([
    ['plain http to a public host', 'http://example.com'],
    ['plain http to a private address', 'http://10.0.0.5'],
    ['plain http to 0.0.0.0', 'http://0.0.0.0'],
    ['plain http to a localhost look-alike', 'http://localhost.evil.example'],
    ['plain http to a 127 look-alike host', 'http://127.0.0.1.nip.io'],
    ['credentials in an https URL', 'https://user:pass@api.withpersona.com'],
    ['a user name only', 'https://user@api.withpersona.com'],
    ['credentials in a loopback URL', 'http://u:p@127.0.0.1:9'],
    ['another scheme', 'ftp://api.withpersona.com'],
    ['a relative URL', '/api'],
    ['not a URL', 'not a url'],
    ['empty', ''],
  ])('throws a TypeError for %s', (_name, baseURL) => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY, baseURL })).toThrow(TypeError);
    expect(() => createCodeExchanger({ apiKey: API_KEY, baseURL })).toThrow(TypeError);
  });

  it('builds the token URL under a path prefix, dropping query and fragment', () => {
    expect(settings({ baseURL: 'https://gw.example.test/persona?x=1#y' }).tokenURL.href).toBe(
      'https://gw.example.test/persona/api/v1/oauth/token',
    );
    expect(settings({ baseURL: 'https://gw.example.test/persona/' }).tokenURL.href).toBe(
      'https://gw.example.test/persona/api/v1/oauth/token',
    );
  });

  it.each(['kebab', 'snake', 'camel'] as const)('accepts keyInflection %s', (keyInflection) => {
    expect(settings({ keyInflection }).keyInflection).toBe(keyInflection);
  });

  it.each(['Kebab', 'pascal', '', 'kebab-case'])('throws a TypeError for keyInflection %j', (keyInflection) => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY, keyInflection: keyInflection as 'kebab' })).toThrow(TypeError);
  });

  it.each(['', '2023-01-05\r\nX: y', 'a b', 'x'.repeat(65)])(
    'throws a TypeError for personaVersion %j',
    (personaVersion) => {
      expect(() => new PersonaStrategy({ apiKey: API_KEY, personaVersion })).toThrow(TypeError);
    },
  );

  it.each([
    ['timeoutMs', 0],
    ['timeoutMs', -1],
    ['timeoutMs', 1.5],
    ['timeoutMs', Number.NaN],
    ['timeoutMs', Number.POSITIVE_INFINITY],
    ['maxResponseBytes', 0],
    ['maxResponseBytes', 10.5],
    ['retries', -1],
    ['retries', 0.5],
  ])('throws a TypeError for %s %s', (name, value) => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY, [name]: value })).toThrow(TypeError);
  });

  it('accepts retries 0 and a 1 ms timeout', () => {
    expect(settings({ retries: 0, timeoutMs: 1 })).toMatchObject({ retries: 0, timeoutMs: 1 });
    expect(() => make({ retries: 0, timeoutMs: 1 })).not.toThrow();
  });

  it('throws a TypeError for a relative authorizationURL', () => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY, authorizationURL: '/share' })).toThrow(TypeError);
  });

  it('throws a TypeError for a non-function verify and for passReqToCallback without verify', () => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY }, 'nope' as never)).toThrow(TypeError);
    expect(() => new PersonaStrategy({ apiKey: API_KEY, passReqToCallback: true } as never)).toThrow(TypeError);
  });

  it.each([
    ['a string', 'yes'],
    ['an object that is not a store', { foo: 1 }],
    ['signed with a short secret', { signed: { secrets: ['short'] } }],
  ])('throws a TypeError for state %s', (_name, state) => {
    expect(() => new PersonaStrategy({ apiKey: API_KEY, state } as never)).toThrow(TypeError);
  });

  it('keeps the API key out of the strategy’s enumerable surface', async () => {
    const agent = new MockAgent();
    const strategy = make({ dispatcher: agent });
    const exchanger = createCodeExchanger({ apiKey: API_KEY, dispatcher: agent });
    expect(Object.keys(strategy)).toEqual(['name']);
    for (const view of [strategy, exchanger, Object.create(strategy)]) {
      expect(inspect(view, { showHidden: true, depth: 5 })).not.toContain(API_KEY);
      expect(JSON.stringify(view) ?? '').not.toContain(API_KEY);
    }
    for (const value of Object.values(strategy)) {
      expect(JSON.stringify(value) ?? '').not.toContain(API_KEY);
    }
    await agent.close();
  });
});
