import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { PersonaOAuthError, personaErrorHandler, ScopeError } from '../../src/index.js';

function appThrowing(error: unknown, render?: Parameters<typeof personaErrorHandler>[0]): express.Express {
  const app = express();
  app.get('/', () => {
    throw error;
  });
  app.use(personaErrorHandler(render));
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(599).send(`fallthrough: ${(err as Error).message}`);
  });
  return app;
}

describe('personaErrorHandler over real HTTP', () => {
  it('answers a PersonaOAuthError with its status, Retry-After and a JSON body', async () => {
    const error = new PersonaOAuthError('rate_limited', 'Persona rate limit exceeded', {
      retryAfter: 42,
      requestId: 'req_abc',
    });
    const res = await request(appThrowing(error)).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('42');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'rate_limited', message: 'Persona rate limit exceeded', requestId: 'req_abc' });
  });

  it('answers a ScopeError with its status and no Retry-After', async () => {
    const res = await request(appThrowing(new ScopeError('insufficient_scope', 'inquiry.read', 'inq_1'))).get('/');
    expect(res.status).toBe(403);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      message: 'The Persona access token does not grant inquiry.read on inq_1',
    });
  });

  it('passes any other error on, and lets render draw the page', async () => {
    const other = await request(appThrowing(new Error('boom'))).get('/');
    expect(other.status).toBe(599);
    expect(other.text).toBe('fallthrough: boom');
    const rendered = await request(
      appThrowing(new PersonaOAuthError('timeout', 'slow'), {
        render: (err, _req, res) => res.end(`page for ${err.code}`),
      }),
    ).get('/');
    expect(rendered.status).toBe(504);
    expect(rendered.text).toBe('page for timeout');
  });
});
