import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact } from '../../src/errors.js';

// Echoes of a secret never survive redact(), as they are (12 or more consecutive characters) or
// transformed (another case, separators or invisible characters slipped in, hex, percent-encoding,
// base64, split between the fields of one error); text without one comes back as it was.

const NUM_RUNS = 500;
const ECHO = 12;
// Secrets are drawn from the characters API keys, codes and tokens are made of; the text around
// them from all of printable ASCII, so it can touch an echo with any neighbour.
const secretChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-');
const textChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const secret = fc.string({ unit: secretChar, minLength: ECHO, maxLength: 80 });
const text = fc.string({ unit: textChar, maxLength: 60 });

/** Any run of ECHO characters of `secret` still in `out`, or undefined. */
function survivingEcho(out: string, secret: string): string | undefined {
  for (let i = 0; i + ECHO <= secret.length; i += 1) {
    if (out.includes(secret.slice(i, i + ECHO))) return secret.slice(i, i + ECHO);
  }
  return undefined;
}

const fold = (t: string): string => t.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Whether `text`, letters in lower case and nothing but letters and digits, holds 12 in a row of a form of `secret`. */
function foldedEcho(text: string, secret: string): boolean {
  const bytes = Buffer.from(secret);
  const forms = [secret, bytes.toString('hex'), ...[0, 1, 2].map((n) => bytes.subarray(n).toString('base64'))].map(
    fold,
  );
  const folded = fold(text);
  for (let i = 0; i + ECHO <= folded.length; i += 1) {
    if (forms.some((f) => f.includes(folded.slice(i, i + ECHO)))) return true;
  }
  return false;
}

/** A secret and a run of at least ECHO of its characters. */
const secretAndEcho = secret.chain((s) =>
  fc
    .integer({ min: 0, max: s.length - ECHO })
    .chain((start) =>
      fc.integer({ min: start + ECHO, max: s.length }).map((end) => ({ secret: s, echo: s.slice(start, end) })),
    ),
);

describe('redact (property)', () => {
  it('removes every echo of ≥ 12 characters, whatever surrounds it', () => {
    fc.assert(
      fc.property(secretAndEcho, text, text, secret, ({ secret: s, echo }, before, after, other) => {
        const out = redact(`${before}${echo}${after}`, [other, s]);
        expect(survivingEcho(out, s)).toBeUndefined();
        expect(out).toContain('[REDACTED]');
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('removes several echoes of several secrets at once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(secretAndEcho, text), { minLength: 1, maxLength: 4 }), (parts) => {
        const secrets = parts.map(([{ secret: s }]) => s);
        const out = redact(parts.map(([{ echo }, filler]) => `${echo}${filler}`).join(''), secrets);
        for (const s of secrets) expect(survivingEcho(out, s)).toBeUndefined();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('leaves text alone when it holds no run of 12 letters and digits of any form of a secret', () => {
    // Pieces of the secret shorter than 12, joined by characters the secret never holds: the
    // text is as close to the secret as it can be without echoing it (pieces that, read without
    // their glue, make a run of 12 of the secret are an echo, and are left out here).
    fc.assert(
      fc.property(
        secret.chain((s) =>
          fc.tuple(
            fc.constant(s),
            fc.array(
              fc
                .integer({ min: 0, max: s.length - 1 })
                .chain((start) =>
                  fc
                    .integer({ min: start + 1, max: Math.min(s.length, start + ECHO - 1) })
                    .map((end) => s.slice(start, end)),
                ),
              { maxLength: 6 },
            ),
          ),
        ),
        fc.constantFrom(' ', '!', '.', '/', '=', '[', '"'),
        ([s, pieces], glue) => {
          const input = pieces.join(glue);
          fc.pre(!foldedEcho(input, s));
          expect(redact(input, [s])).toBe(input);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('removes echoes transformed: case, separators, invisible characters, hex, percent-encoding, base64', () => {
    const transforms: Record<string, (echo: string) => string> = {
      upper: (e) => e.toUpperCase(),
      lower: (e) => e.toLowerCase(),
      spaced: (e) => [...e].join(' '),
      zeroWidth: (e) => [...e].join('\u200b'),
      hex: (e) => Buffer.from(e).toString('hex'),
      hexUpper: (e) => Buffer.from(e).toString('hex').toUpperCase(),
      percent: (e) => [...Buffer.from(e)].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''),
      base64: (e) => Buffer.from(e).toString('base64'),
      base64url: (e) => Buffer.from(e).toString('base64url'),
    };
    fc.assert(
      fc.property(
        secretAndEcho.filter(({ echo }) => echo.replace(/[^A-Za-z0-9]/g, '').length >= ECHO + 2),
        fc.constantFrom(...Object.keys(transforms)),
        text,
        ({ secret: s, echo }, name, around) => {
          const transformed = (transforms[name] as (e: string) => string)(echo);
          const out = redact(`${around}${transformed}${around}`, [s]);
          expect(out).toContain('[REDACTED]');
          expect(out).not.toContain(transformed);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
