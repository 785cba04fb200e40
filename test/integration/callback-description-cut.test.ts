import express from 'express';
import { Passport } from 'passport';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';

// Where a callback's error_description is cut, over HTTP: at 200 characters of printable ASCII,
// with the spaces the cut or the reduction leaves at either end trimmed; a description over 2048
// characters refuses the whole callback.

const strategy = new PersonaStrategy({
  apiKey: 'persona_description_cut_key_0123456789',
  baseURL: 'http://127.0.0.1:9',
});
const passport = new Passport();
passport.use(strategy as never);
const app = express();
app.get('/callback', (req, res, next) => {
  passport.authenticate('persona', (_err: unknown, _user: unknown, info: unknown, status: unknown) => {
    res.status(typeof status === 'number' ? status : 500).json(info);
  })(req, res, next);
});

afterAll(async () => {
  await strategy.close();
});

async function described(errorDescription: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(app)
    .get('/callback')
    .query({ error: 'access_denied', error_description: errorDescription });
  return { status: res.status, body: res.body as Record<string, unknown> };
}

describe('error_description: cut at 200 characters', () => {
  it('keeps exactly 200 characters whole', async () => {
    const text = `${'a'.repeat(199)}b`;
    expect((await described(text)).body.description).toBe(text);
  });

  it('cuts 201 characters to the first 200', async () => {
    expect((await described(`${'a'.repeat(200)}b`)).body.description).toBe('a'.repeat(200));
  });

  it('trims the space the cut leaves at the end', async () => {
    expect((await described(`${'a'.repeat(199)} bbb`)).body.description).toBe('a'.repeat(199));
  });

  it('cuts after the reduction: a leading run of other characters is trimmed first', async () => {
    const text = `\u00e9\u00e9 ${'c'.repeat(250)}`;
    expect((await described(text)).body.description).toBe('c'.repeat(200));
  });

  it('leaves no description when only spaces remain', async () => {
    const { status, body } = await described(' \u00e9 \t ');
    expect(status).toBe(403);
    expect(body).toEqual({ code: 'access_denied', message: 'The data owner declined to share' });
  });

  it('accepts a 2048-character description, and refuses the callback for 2049', async () => {
    expect((await described('d'.repeat(2048))).body.description).toBe('d'.repeat(200));
    const refused = await described('d'.repeat(2049));
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('invalid_request');
    expect(refused.body.message).toBe('The error_description parameter is longer than 2048 characters');
  });
});
