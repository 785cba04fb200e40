import { describe, expect, it } from 'vitest';
import { idempotencyKeyFor } from '../../src/exchange.js';

const API_KEY = 'persona_sandbox_key_0123456789abcdef';
const CODE = 'code_b1d4b2b8-5f0e-4c5b-9d2a-7e6f5a4b3c2d';

describe('idempotencyKeyFor', () => {
  it('is deterministic for one API key and code', () => {
    expect(idempotencyKeyFor(API_KEY, CODE)).toBe(idempotencyKeyFor(API_KEY, CODE));
  });

  it('differs when the code differs', () => {
    expect(idempotencyKeyFor(API_KEY, CODE)).not.toBe(idempotencyKeyFor(API_KEY, `${CODE}x`));
    expect(idempotencyKeyFor(API_KEY, 'a')).not.toBe(idempotencyKeyFor(API_KEY, 'b'));
  });

  it('differs when the API key differs', () => {
    expect(idempotencyKeyFor(API_KEY, CODE)).not.toBe(idempotencyKeyFor(`${API_KEY}x`, CODE));
  });

  it('does not just concatenate the inputs', () => {
    // ('ab', 'c') and ('a', 'bc') must not collide.
    expect(idempotencyKeyFor('ab', 'c')).not.toBe(idempotencyKeyFor('a', 'bc'));
  });

  it('contains neither the API key nor the code, nor a large piece of either', () => {
    const key = idempotencyKeyFor(API_KEY, CODE);
    for (const secret of [API_KEY, CODE]) {
      expect(key).not.toContain(secret);
      for (let i = 0; i + 8 <= secret.length; i++) {
        expect(key).not.toContain(secret.slice(i, i + 8));
      }
    }
  });

  it('is a short header-safe token', () => {
    const samples = [
      idempotencyKeyFor(API_KEY, CODE),
      idempotencyKeyFor(API_KEY, 'a+b/c=d&e f\u00e9'),
      idempotencyKeyFor('k', ''),
    ];
    for (const key of samples) {
      expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect(key.length).toBeLessThanOrEqual(255);
    }
  });

  it('gives distinct keys over many codes', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 1000; i++) keys.add(idempotencyKeyFor(API_KEY, `code_${i}`));
    expect(keys.size).toBe(1000);
  });
});
