import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redact } from '../../src/index.js';

// Echoes of 12 or more consecutive characters of a secret never survive redact(); text without
// such an echo comes back as it was.

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

  it('leaves text alone when it holds no run of 12 characters of any secret', () => {
    // Pieces of the secret shorter than 12, joined by characters the secret never holds: the
    // text is as close to the secret as it can be without echoing it.
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
          expect(redact(input, [s])).toBe(input);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
