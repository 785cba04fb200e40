import { describe, expect, it } from 'vitest';
import { jsonResponse, parseParams } from '../../../src/testing/http.js';
import { IdempotencyStore, requestFingerprint } from '../../../src/testing/idempotency.js';

describe('requestFingerprint', () => {
  it('is the same for the same parameters as a form or JSON, in any inflection and order', () => {
    const form = parseParams('grant_type=authorization_code&code=abc', 'application/x-www-form-urlencoded');
    const json = parseParams('{"code":"abc","grantType":"authorization_code"}', 'application/json');
    expect(requestFingerprint('POST', 'token', form, '')).toBe(requestFingerprint('POST', 'token', json, ''));
  });

  it('differs by parameter value, endpoint and method', () => {
    const a = parseParams('code=a', undefined);
    const b = parseParams('code=b', undefined);
    const base = requestFingerprint('POST', 'token', a, '');
    expect(requestFingerprint('POST', 'token', b, '')).not.toBe(base);
    expect(requestFingerprint('POST', 'authorize', a, '')).not.toBe(base);
    expect(requestFingerprint('GET', 'token', a, '')).not.toBe(base);
  });

  it('compares an unparseable body by its raw text', () => {
    const broken = parseParams('{', 'application/json');
    expect(requestFingerprint('POST', 'token', broken, '{')).not.toBe(
      requestFingerprint('POST', 'token', broken, '{{'),
    );
  });
});

describe('IdempotencyStore', () => {
  it('replays a copy of the stored answer for the same credential, key and fingerprint', () => {
    const store = new IdempotencyStore(1000);
    const answer = jsonResponse(201, { a: 1 }, { 'x-first': 'yes' });
    store.store('key_1', 'idem', 'fp', answer, 0);
    const found = store.lookup('key_1', 'idem', 'fp', 999);
    expect(found).toEqual({ kind: 'replay', response: answer });
    if (found.kind !== 'replay') throw new Error('no replay');
    found.response.headers['x-changed'] = 'yes';
    answer.headers['x-later'] = 'yes';
    expect(store.lookup('key_1', 'idem', 'fp', 999)).toEqual({
      kind: 'replay',
      response: jsonResponse(201, { a: 1 }, { 'x-first': 'yes' }),
    });
  });

  it('refuses other parameters under the same key, and keeps keys apart per credential', () => {
    const store = new IdempotencyStore(1000);
    store.store('key_1', 'idem', 'fp', jsonResponse(201, {}), 0);
    expect(store.lookup('key_1', 'idem', 'other', 1)).toEqual({ kind: 'conflict' });
    expect(store.lookup('key_2', 'idem', 'fp', 1)).toEqual({ kind: 'miss' });
  });

  it('forgets an answer at the end of its lifetime, on lookup or on sweep', () => {
    const store = new IdempotencyStore(1000);
    store.store('key_1', 'a', 'fp', jsonResponse(201, {}), 0);
    store.store('key_1', 'b', 'fp', jsonResponse(201, {}), 0);
    expect(store.lookup('key_1', 'a', 'fp', 1000)).toEqual({ kind: 'miss' });
    store.sweep(1000);
    expect(store.lookup('key_1', 'b', 'fp', 0)).toEqual({ kind: 'miss' });
  });
});
