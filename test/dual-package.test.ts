// An app that both `import`s and `require`s the package loads two copies of it (dist/esm and
// dist/cjs). Errors from one copy must still be recognised by the other: personaErrorHandler,
// `instanceof ScopeError` and isPersonaOAuthError. Needs dist/ (`npm test` builds it first).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { distFile } from './helpers/build.js';

type Package = typeof import('../src/index.js');
const esm = (await import(/* @vite-ignore */ pathToFileURL(distFile('esm/index.js')).href)) as Package;
const cjs = createRequire(import.meta.url)(distFile('cjs/index.js')) as Package;

function appThrowing(error: unknown, handlerFrom: Package): express.Express {
  const app = express();
  app.get('/', () => {
    throw error;
  });
  app.use(handlerFrom.personaErrorHandler());
  return app;
}

describe('the ESM and CommonJS copies in one process', () => {
  it('are two copies', () => {
    expect(esm.ScopeError).not.toBe(cjs.ScopeError);
    expect(esm.PersonaOAuthError).not.toBe(cjs.PersonaOAuthError);
  });

  it.each([
    ['ESM', esm, cjs],
    ['CommonJS', cjs, esm],
  ])('a ScopeError from the %s copy is a ScopeError to the other', async (_name, from, to) => {
    const error = new from.ScopeError('insufficient_scope', 'inquiry.read', 'inq_1');
    expect(error instanceof to.ScopeError).toBe(true);
    const res = await request(appThrowing(error, to)).get('/');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'insufficient_scope' });
  });

  it.each([
    ['ESM', esm, cjs],
    ['CommonJS', cjs, esm],
  ])('a PersonaOAuthError from the %s copy is recognised by the other', async (_name, from, to) => {
    const error = new from.PersonaOAuthError('rate_limited', 'busy', { retryAfter: 7 });
    expect(to.isPersonaOAuthError(error)).toBe(true);
    expect(error instanceof to.PersonaOAuthError).toBe(true);
    const res = await request(appThrowing(error, to)).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
  });

  it('look-alikes and subclasses are told apart', () => {
    const fake = Object.assign(new Error('x'), { name: 'ScopeError', code: 'insufficient_scope', status: 403 });
    expect(fake instanceof esm.ScopeError).toBe(false);
    const lookAlike = Object.assign(new Error('x'), { name: 'PersonaOAuthError', code: 'forbidden', status: 500 });
    expect(lookAlike instanceof cjs.PersonaOAuthError).toBe(false);
    expect(cjs.isPersonaOAuthError(lookAlike)).toBe(false);
    class Narrower extends esm.ScopeError {}
    expect(new esm.ScopeError('unauthenticated', 'a.b', undefined) instanceof Narrower).toBe(false);
    expect(new Narrower('unauthenticated', 'a.b', undefined) instanceof Narrower).toBe(true);
    expect(new Narrower('unauthenticated', 'a.b', undefined) instanceof cjs.ScopeError).toBe(true);
  });
});
