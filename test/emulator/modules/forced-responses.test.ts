import { describe, expect, it } from 'vitest';
import { forcedResponse, redirectResponse } from '../../../src/testing/faults.js';

describe('forcedResponse', () => {
  it('answers a Persona error document titled with the reason phrase for 4xx and 5xx', () => {
    const res = forcedResponse({ kind: 'status', status: 503 });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      errors: [{ title: 'Service Unavailable', details: 'Injected by the emulator' }],
    });
  });

  it('answers {} for other statuses, an object body as JSON and a string body as is', () => {
    expect(forcedResponse({ kind: 'status', status: 201 }).body).toBe('{}');
    expect(forcedResponse({ kind: 'status', status: 201, body: { a: 1 } }).body).toBe('{"a":1}');
    expect(forcedResponse({ kind: 'status', status: 200, body: 'not json' }).body).toBe('not json');
  });

  it('lays the fault headers, names in lower case, over its own', () => {
    const res = forcedResponse({
      kind: 'status',
      status: 429,
      headers: { 'RateLimit-Reset': '7', 'Content-Type': 'text/plain' },
    });
    expect(res.headers).toEqual({ 'ratelimit-reset': '7', 'content-type': 'text/plain' });
  });
});

describe('redirectResponse', () => {
  it('sends 302 to the same URL by default, or the given status and location', () => {
    expect(redirectResponse({ kind: 'redirect' }, 'http://127.0.0.1:1/x')).toMatchObject({
      status: 302,
      headers: { location: 'http://127.0.0.1:1/x' },
    });
    expect(redirectResponse({ kind: 'redirect', status: 308, location: '/y' }, 'ignored')).toMatchObject({
      status: 308,
      headers: { location: '/y' },
    });
  });
});
