import { describe, expect, it } from 'vitest';
import { INQUIRY } from '../../../src/testing/inquiry-type.js';
import { matchRoute, NO_ROUTE, pathnameOf } from '../../../src/testing/routes.js';
import { VERIFICATION } from '../../../src/testing/verification-type.js';

describe('matchRoute', () => {
  it('names the two OAuth endpoints, POST only', () => {
    expect(matchRoute('/api/v1/oauth/authorize')).toEqual({ endpoint: 'authorize', methods: ['POST'] });
    expect(matchRoute('/api/v1/oauth/token')).toEqual({ endpoint: 'token', methods: ['POST'] });
  });

  it('reads the type and id of a retrieval path, the id percent-decoded', () => {
    expect(matchRoute('/api/v1/inquiries/inq_abc')).toEqual({
      endpoint: 'inquiry',
      methods: ['GET'],
      objectType: INQUIRY,
      objectId: 'inq_abc',
    });
    expect(matchRoute('/api/v1/verifications/ver_abc')).toMatchObject({
      endpoint: 'verification',
      objectType: VERIFICATION,
    });
    expect(matchRoute('/api/v1/inquiries/inq%5Fabc').objectId).toBe('inq_abc');
  });

  it('keeps a malformed escape as it is, an id that matches nothing', () => {
    expect(matchRoute('/api/v1/inquiries/%E0%A4%A').objectId).toBe('%E0%A4%A');
  });

  it('names nothing for other paths, trailing slashes and nested ids included', () => {
    for (const path of [
      '/',
      '/api/v1/oauth/token/',
      '/api/v1/inquiries/',
      '/api/v1/inquiries/a/b',
      '/API/v1/oauth/token',
      '/api/v1/reports/rep_1',
      '/api/v1/oauth/other',
    ]) {
      expect(matchRoute(path)).toBe(NO_ROUTE);
    }
  });
});

describe('pathnameOf', () => {
  it('drops the query string and resolves dot segments', () => {
    expect(pathnameOf('/api/v1/oauth/token?code=x')).toBe('/api/v1/oauth/token');
    expect(pathnameOf('/api/v1/x/../oauth/token')).toBe('/api/v1/oauth/token');
  });

  it('is undefined for a target that is not a URL', () => {
    expect(pathnameOf('http://[bad')).toBeUndefined();
  });
});
