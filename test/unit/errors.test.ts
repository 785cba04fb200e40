import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { STATUS_OF } from '../../src/errors.js';
import { PersonaOAuthError, ScopeError, isPersonaOAuthError, type PersonaOAuthErrorCode } from '../../src/index.js';
import { redact } from '../../src/errors.js';

const API_KEY = 'persona_production_key_8c1f2d3e4a5b6c7d';
const CODE = 'authcode_Zx9+/=&secret';
const TOKEN = 'persona_access_token_d8b7f084-385f-4ff0-930e-1580ccefa16d';

/** The README's Errors table: each row's code and the status it documents. */
function documentedStatuses(): Map<string, number> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Errors\n'), readme.indexOf('\n## State'));
  const rows = new Map<string, number>();
  for (const match of section.matchAll(/^\|[^|]*\| `(\w+)`[^|]*\|[^|]*\| (\d{3})\b/gm)) {
    rows.set(match[1] as string, Number(match[2]));
  }
  return rows;
}

describe('the code → status table', () => {
  const SCOPE_CODES = ['unauthenticated', 'token_expired', 'insufficient_scope'] as const;

  it('gives each code the status the README’s Errors table documents, and the table documents each code', () => {
    const documented = documentedStatuses();
    const errorCodes = Object.keys(STATUS_OF).filter((code) => !(SCOPE_CODES as readonly string[]).includes(code));
    expect([...documented.keys()].sort()).toEqual(errorCodes.sort());
    for (const [code, status] of documented) expect(STATUS_OF[code as keyof typeof STATUS_OF]).toBe(status);
  });

  it('is where every PersonaOAuthError and ScopeError takes its status from', () => {
    for (const code of Object.keys(STATUS_OF)) {
      if ((SCOPE_CODES as readonly string[]).includes(code) || code === 'verify_rejected') continue;
      expect(new PersonaOAuthError(code as PersonaOAuthErrorCode, 'x').status).toBe(STATUS_OF[code as 'network']);
    }
    for (const code of SCOPE_CODES)
      expect(new ScopeError(code, 'inquiry.read', undefined).status).toBe(STATUS_OF[code]);
  });

  it('gives statusCode the same number as status, and expose true exactly for a 4xx', () => {
    for (const code of Object.keys(STATUS_OF)) {
      if ((SCOPE_CODES as readonly string[]).includes(code) || code === 'verify_rejected') continue;
      const error = new PersonaOAuthError(code as PersonaOAuthErrorCode, 'x');
      expect([error.statusCode, error.expose]).toEqual([error.status, error.status < 500]);
    }
    for (const code of SCOPE_CODES) {
      const error = new ScopeError(code, 'inquiry.read', undefined);
      expect([error.statusCode, error.expose]).toEqual([error.status, true]);
    }
  });
});

describe('PersonaOAuthError', () => {
  it('carries every field it was built with', () => {
    const cause = new Error('boom');
    const error = new PersonaOAuthError('rate_limited', 'Slow down', {
      personaStatus: 429,
      requestId: 'req_1',
      personaErrors: [{ title: 'Rate limit', details: 'too many', pointer: '/x' }],
      retryAfter: 12,
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(PersonaOAuthError);
    expect(error.name).toBe('PersonaOAuthError');
    expect(error.code).toBe('rate_limited');
    expect(error.message).toBe('Slow down');
    expect(error.status).toBe(503);
    expect(error.personaStatus).toBe(429);
    expect(error.requestId).toBe('req_1');
    expect(error.personaErrors).toEqual([{ title: 'Rate limit', details: 'too many', pointer: '/x' }]);
    expect(error.retryAfter).toBe(12);
    expect(error.cause).toBe(cause);
    expect(error.stack?.split('\n')[0]).toBe('PersonaOAuthError: Slow down');
    expect(String(error)).toBe('PersonaOAuthError: Slow down');
  });

  it('defaults the optional fields', () => {
    const error = new PersonaOAuthError('timeout', 'late');
    expect(error.personaStatus).toBeUndefined();
    expect(error.requestId).toBeUndefined();
    expect(error.personaErrors).toEqual([]);
    expect(error.retryAfter).toBeUndefined();
    expect(error.cause).toBeUndefined();
  });

  it('copies personaErrors so later changes to the input do not leak in', () => {
    const input = [{ title: 'a' }];
    const error = new PersonaOAuthError('invalid_grant', 'x', { personaErrors: input });
    input[0]!.title = 'changed';
    input.push({ title: 'b' });
    expect(error.personaErrors).toEqual([{ title: 'a' }]);
  });

  it('redacts access-token shapes from its message and stack', () => {
    const error = new PersonaOAuthError('invalid_response', `got ${TOKEN} back`);
    expect(error.message).toBe('got [REDACTED] back');
    expect(error.stack).not.toContain(TOKEN);
  });

  it('toJSON gives the documented safe shape without the cause', () => {
    const error = new PersonaOAuthError('network', 'down', { cause: new Error(`key ${API_KEY}`) });
    expect(error.toJSON()).toEqual({
      name: 'PersonaOAuthError',
      code: 'network',
      message: 'down',
      status: 502,
      statusCode: 502,
      expose: false,
      personaStatus: undefined,
      requestId: undefined,
      personaErrors: [],
      retryAfter: undefined,
    });
  });

  it('keeps a secret in the cause out of JSON.stringify and util.inspect', () => {
    const cause = new Error(`connect failed with Authorization: Bearer ${API_KEY} for code ${CODE}, token ${TOKEN}`);
    (cause as Error & { code: string }).code = 'ECONNRESET';
    const error = new PersonaOAuthError('network', 'Could not reach Persona', { cause });

    const json = JSON.stringify(error);
    expect(JSON.parse(json)).toMatchObject({ code: 'network', status: 502, message: 'Could not reach Persona' });
    for (const secret of [API_KEY, CODE, TOKEN, 'connect failed']) {
      expect(json).not.toContain(secret);
    }

    for (const text of [
      inspect(error),
      inspect(error, { depth: Infinity, showHidden: true }),
      inspect({ wrapper: { error } }, { depth: Infinity }),
      inspect([error]),
    ]) {
      for (const secret of [API_KEY, CODE, TOKEN, 'connect failed']) {
        expect(text).not.toContain(secret);
      }
      expect(text).toContain('PersonaOAuthError: Could not reach Persona');
      expect(text).toContain('"code": "network"');
      expect(text).toContain('cause: Error (ECONNRESET)');
    }
  });

  it('names a cause that is not an Error without printing it', () => {
    const error = new PersonaOAuthError('network', 'x', { cause: { secret: API_KEY } });
    const text = inspect(error);
    expect(text).not.toContain(API_KEY);
    expect(text).toContain('cause: Error');
    const typed = new PersonaOAuthError('network', 'x', { cause: new TypeError(API_KEY) });
    expect(inspect(typed)).toContain('cause: TypeError');
    expect(inspect(typed)).not.toContain(API_KEY);
  });

  it('prints no cause line when there is none', () => {
    expect(inspect(new PersonaOAuthError('timeout', 'late'))).not.toContain('cause:');
  });

  it('keeps the cause non-enumerable', () => {
    const error = new PersonaOAuthError('network', 'x', { cause: new Error('c') });
    expect(Object.keys(error)).not.toContain('cause');
  });
});

describe('redact', () => {
  it('replaces every occurrence of each given secret', () => {
    expect(redact(`a ${API_KEY} b ${API_KEY} c ${CODE}`, [API_KEY, CODE])).toBe(
      'a [REDACTED] b [REDACTED] c [REDACTED]',
    );
  });

  it('replaces access-token shapes even when not given', () => {
    expect(redact(`token=${TOKEN}; other=persona_access_token_X_y-Z`)).toBe('token=[REDACTED]; other=[REDACTED]');
  });

  it('replaces several access tokens and leaves surrounding text alone', () => {
    expect(redact(`${TOKEN},${TOKEN}.`)).toBe('[REDACTED],[REDACTED].');
  });

  it('leaves text without secrets unchanged', () => {
    expect(redact('Persona refused the code (HTTP 422)', [API_KEY])).toBe('Persona refused the code (HTTP 422)');
    expect(redact('persona_access_token_', [])).toBe('persona_access_token_');
  });

  it('ignores undefined, empty and very short secrets', () => {
    expect(redact('a b c abc', [undefined, '', 'a', 'abc'])).toBe('a b c abc');
    expect(redact('abcd abcd', ['abcd'])).toBe('[REDACTED] [REDACTED]');
  });

  it('redacts a longer secret whole when a shorter one is a prefix of it, in either order', () => {
    expect(redact('key=abcdefgh', ['abcdefgh', 'abcd'])).toBe('key=[REDACTED]');
  });

  // Bug: secrets are replaced in the order given, so when a shorter secret that is part of a
  // longer one comes first, the rest of the longer secret survives: 'abcdefgh' becomes
  // '[REDACTED]efgh'. Replacing longer secrets first would keep every piece out.
  it('redacts a longer secret whole when a shorter one that is part of it comes first', () => {
    const text = redact('key=abcdefgh', ['abcd', 'abcdefgh']);
    expect(text).not.toContain('efgh');
    expect(text).toBe('key=[REDACTED]');
  });

  it('redacts any run of 12 or more characters of a secret: minus one character, a prefix, the middle', () => {
    const key = 'persona_production_Zq8Kx4Wm2Lp7Rt5Yv3Nb6Hc9Jd1Fg0S';
    expect(redact(`key ${key.slice(0, -1)}.`, [key])).toBe('key [REDACTED].');
    expect(redact(`/auth/${key.slice(0, 20)}`, [key])).toBe('/auth/[REDACTED]');
    expect(redact(`(${key.slice(10, 22)})`, [key])).toBe('([REDACTED])');
    expect(redact(`(${key.slice(10, 21)})`, [key])).toBe(`(${key.slice(10, 21)})`);
  });

  it('makes one [REDACTED] of overlapping or adjacent echoes of several secrets', () => {
    const a = 'aaaaBBBBccccDDDD';
    const b = 'eeeeFFFFggggHHHH';
    expect(redact(`x ${a}${b} y`, [a, b])).toBe('x [REDACTED] y');
  });

  it('treats secrets literally, not as patterns', () => {
    expect(redact('x.*+?y and xyz', ['x.*+?y'])).toBe('[REDACTED] and xyz');
  });
});

describe('isPersonaOAuthError', () => {
  it('recognises instances', () => {
    expect(isPersonaOAuthError(new PersonaOAuthError('forbidden', 'x'))).toBe(true);
  });

  it('rejects a look-alike (the name, code and status of one, without its brand)', () => {
    const lookAlike = Object.assign(new Error('x'), { name: 'PersonaOAuthError', code: 'forbidden', status: 500 });
    expect(isPersonaOAuthError(lookAlike)).toBe(false);
    expect(lookAlike instanceof PersonaOAuthError).toBe(false);
  });

  it('keeps the plain check for subclasses', () => {
    class Narrower extends PersonaOAuthError {}
    expect(new PersonaOAuthError('forbidden', 'x') instanceof Narrower).toBe(false);
    expect(new Narrower('forbidden', 'x') instanceof Narrower).toBe(true);
    expect(isPersonaOAuthError(new Narrower('forbidden', 'x'))).toBe(true);
  });

  it.each([
    ['a plain Error', new Error('x')],
    [
      'an Error named PersonaOAuthError without code/status',
      Object.assign(new Error('x'), { name: 'PersonaOAuthError' }),
    ],
    [
      'a plain object with the right fields',
      { name: 'PersonaOAuthError', code: 'forbidden', status: 500, message: 'x' },
    ],
    ['null', null],
    ['undefined', undefined],
    ['a string', 'PersonaOAuthError'],
  ])('rejects %s', (_name, value) => {
    expect(isPersonaOAuthError(value)).toBe(false);
  });
});
