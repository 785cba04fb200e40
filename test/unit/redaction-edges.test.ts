import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PersonaOAuthError, Redactor, redact, redactError } from '../../src/errors.js';
import { isPersonaOAuthError } from '../../src/index.js';

// The edges of redaction the wider tests do not pin: where one secret's forms end and the next
// begin, the shortest secret that gets echo forms, an echo ending the text, what becomes of each
// kind of cause, and how an error prints.

const KEY = 'persona_production_Qm4Tz8Wc2Xv6Bn0Lk5Hj';
const CODE = 'authz_Rp3Ys7Dg1Fh9Jk2Lq6';
const hex = (text: string) => Buffer.from(text, 'utf8').toString('hex');
const fold = (text: string) => text.toLowerCase().replace(/[^a-z0-9]/g, '');

describe('where echo forms begin and end', () => {
  it('never matches a run made of the end of one secret’s forms and the start of the next’s', () => {
    // A secret's forms, folded: itself, its hex, then its base64 from the first, second and third byte.
    const lastForm = fold(Buffer.from(KEY).subarray(2).toString('base64'));
    const text = `seen ${lastForm.slice(-6)}${fold(CODE).slice(0, 6)} here`;
    expect(redact(text, [KEY, CODE])).toBe(text);
    expect(new Redactor([KEY]).with([CODE]).text(text)).toBe(text);
    // Nor, as they stand, the end of one secret and the start of another, short or long.
    const asTheyStand = `seen ${KEY.slice(-6)}${CODE.slice(0, 6)} here`;
    expect(redact(asTheyStand, [KEY, CODE])).toBe(asTheyStand);
    expect(redact(`x 1234\n${KEY.slice(0, 11)}`, ['abcd1234', KEY])).toBe(`x 1234\n${KEY.slice(0, 11)}`);
  });

  it('never matches a run made of the end of a secret and the start of its hex', () => {
    const text = `seen ${fold(KEY).slice(-6)}${hex(KEY).slice(0, 6)} here`;
    expect(redact(text, [KEY])).toBe(text);
  });

  it('keeps the first secrets’ forms in a redactor made with more', () => {
    const redactor = new Redactor([KEY]).with([CODE]);
    expect(redactor.text(`key ${KEY.toUpperCase()} code ${hex(CODE)}`)).toBe('key [REDACTED] code [REDACTED]');
    expect(redactor.text(`short ${'abcd'} and ${KEY}`)).toBe(`short abcd and [REDACTED]`);
    expect(new Redactor(['abcd']).with([KEY]).text('abcd then qqqq')).toBe('[REDACTED] then qqqq');
  });

  it('redacts a run as it stands, separators included, from the first secrets of a redactor made with more', () => {
    // Folded, the run starts at its first letter; as it stands, at the separator before it.
    expect(new Redactor([KEY]).with([CODE]).text('see _production_Qm4Tz8 done')).toBe('see [REDACTED] done');
  });

  it('matches a run split between fields, but a run as it stands only within one field', () => {
    expect(new Redactor([KEY]).texts(['see _produ', 'ction_Qm4Tz8 x'])).toEqual(['see _[REDACTED]', '[REDACTED] x']);
  });

  it('gives echo forms to a secret of exactly 12 letters and digits, and none to a shorter one', () => {
    expect(redact('id=ABCDEF123456', ['abcdef123456'])).toBe('id=[REDACTED]');
    // An 8-character secret is redacted where it stands whole, not in hex or another case.
    const short = 'abcd1234';
    expect(redact(`x ${hex(short)} ${short.toUpperCase()}`, [short])).toBe(`x ${hex(short)} ${short.toUpperCase()}`);
    expect(redact(`x ${short}`, [short])).toBe('x [REDACTED]');
  });

  it('covers an echo that ends the text, to its last character', () => {
    expect(redact(`echo: ${CODE.slice(-12).toUpperCase()}`, [CODE])).toBe('echo: [REDACTED]');
    expect(redact(KEY.slice(0, 13).toUpperCase(), [KEY])).toBe('[REDACTED]');
  });
});

describe('what redactError makes of each kind of cause', () => {
  const withCause = (cause: unknown) => redactError(new PersonaOAuthError('network', 'failed', { cause }), [KEY, CODE]);

  it('keeps a null cause null', () => {
    expect(withCause(null).cause).toBeNull();
  });

  it('turns a cause that is not an Error into its redacted text', () => {
    expect(withCause(`refused ${CODE}`).cause).toBe('refused [REDACTED]');
  });

  it('redacts a PersonaOAuthError cause field by field, keeping its class', () => {
    const inner = new PersonaOAuthError('invalid_grant', 'refused', {
      requestId: `req_${CODE}`,
      personaErrors: [{ title: 'bad', details: KEY }],
    });
    const cause = withCause(inner).cause as PersonaOAuthError;
    expect(cause).not.toBe(inner);
    expect(isPersonaOAuthError(cause)).toBe(true);
    expect(cause.requestId).toBe('req_[REDACTED]');
    expect(cause.personaErrors).toEqual([{ title: 'bad', details: '[REDACTED]' }]);
  });

  it('keeps a foreign error that echoes nothing as it is, with or without a stack', () => {
    const clean = Object.assign(new RangeError('no route'), { code: 'EHOSTUNREACH' });
    expect(withCause(clean).cause).toBe(clean);
    const stackless = new Error('no stack');
    stackless.stack = undefined;
    expect(withCause(stackless).cause).toBe(stackless);
  });

  it('replaces a foreign error whose stack alone echoes a secret by a summary', () => {
    const dirty = Object.assign(new TypeError('clean message'), { code: 'ERR_X' });
    dirty.stack = `TypeError: clean message\n    at send (${KEY})`;
    const summary = withCause(dirty).cause as Error & { code?: unknown };
    expect(summary).not.toBe(dirty);
    expect(summary.name).toBe('TypeError');
    expect(summary.message).toBe('clean message');
    expect(summary.code).toBe('ERR_X');
    expect(inspect(summary)).not.toContain(KEY);
  });

  it('keeps a summary’s code only when it is text', () => {
    const numbered = Object.assign(new Error(`bad ${KEY}`), { code: 42 });
    const summary = withCause(numbered).cause as Error & { code?: unknown };
    expect(summary.message).toBe('bad [REDACTED]');
    expect('code' in summary).toBe(false);
  });
});

describe('how a PersonaOAuthError prints', () => {
  it('is the stack, then its fields, and nothing after them without a cause', () => {
    const error = new PersonaOAuthError('timeout', 'late');
    const text = inspect(error);
    expect(text.startsWith(`${error.stack}\n{`)).toBe(true);
    expect(text.endsWith('}')).toBe(true);
  });

  it('starts with its name and message when it has no stack', () => {
    const error = new PersonaOAuthError('timeout', 'late');
    error.stack = undefined;
    expect(inspect(error).split('\n')[0]).toBe('PersonaOAuthError: late');
  });

  it('names a cause without a code by its name alone', () => {
    const text = inspect(new PersonaOAuthError('network', 'x', { cause: new RangeError('r') }));
    expect(text.endsWith('\n  cause: RangeError')).toBe(true);
  });
});

describe('the brand', () => {
  it('recognises an error of the other build of the package by its Symbol.for brand', () => {
    // What an error made by the CommonJS build looks like to the ESM build's class.
    const other = Object.defineProperty(new Error('x'), Symbol.for('passport-withpersona.PersonaOAuthError'), {
      value: true,
    });
    expect(other instanceof PersonaOAuthError).toBe(true);
    expect(isPersonaOAuthError(other)).toBe(true);
  });
});
