import { inspect } from 'node:util';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createCodeExchanger, PersonaOAuthError, type CodeExchanger } from '../../src/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { json, useAnsweringServer } from '../helpers/answering-server.js';
import { collectReports } from '../helpers/diagnostics.js';

// Persona may echo parts of what it was sent. Any run of 12 or more consecutive characters of
// the API key, the code or the access token is redacted wherever an error or a log line
// carries text: message, Persona's errors[], Request-Id, the cause, JSON, inspect, DEBUG.

const API_KEY = 'persona_production_Zq8Kx4Wm2Lp7Rt5Yv3Nb6Hc9Jd1Fg0S';
const CODE = 'authz_7Hq2Wx9Lm4Kp8Rt3Vz6Nb1Cy5Jd0Fg';
const TOKEN = 'tok_Vn5Rk2Qw8Lz3Xc7Mb4Jh9Gd6Fs1Pa0Ty';

const persona = useAnsweringServer();
let current: TestApp | undefined;
let exchanger: CodeExchanger | undefined;
afterEach(async () => {
  await current?.strategy.close();
  await exchanger?.close();
  current = undefined;
  exchanger = undefined;
});

/** The same exchange without Passport, as `createCodeExchanger` gives it. */
function directExchange(): CodeExchanger {
  exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: persona.url, retries: 0 });
  return exchanger;
}

/** Fails when `text` holds any 12-character run of `secret`. */
function expectNoEcho(text: string, secret: string): void {
  for (let i = 0; i + 12 <= secret.length; i += 1) {
    expect(text, `echo of ${secret.slice(i, i + 12)}`).not.toContain(secret.slice(i, i + 12));
  }
}

/** Every place the failure's text can surface: the exchange's error and log, and an app's answer. */
async function everythingSaid(): Promise<string> {
  current = createTestApp({ apiKey: API_KEY, baseURL: persona.url, retries: 0 });
  let error: unknown;
  const { reports } = await collectReports(async () => {
    persona.logLines.length = 0;
    try {
      await directExchange().exchange(CODE);
    } catch (caught) {
      error = caught;
    }
  });
  expect(error).toBeInstanceOf(PersonaOAuthError);
  const failure = error as PersonaOAuthError;
  const cause = failure.cause as { message?: string; stack?: string; cause?: unknown } | undefined;
  const answered = await request(current.app).get('/callback').query({ code: CODE });
  return [
    failure.message,
    String(failure.stack),
    JSON.stringify(failure),
    JSON.stringify(failure.personaErrors),
    String(failure.requestId),
    inspect(failure, { depth: null }),
    String(cause?.message),
    String(cause?.stack),
    inspect(cause, { depth: null, showHidden: true }),
    inspect(reports, { depth: null }),
    ...persona.logLines,
    answered.text,
  ].join('\n');
}

describe('echoes of a secret are redacted', () => {
  it.each([
    [
      'the API key minus its last character, in details',
      json(400, { errors: [{ title: 'Bad', details: `key ${API_KEY.slice(0, -1)} unknown` }] }),
    ],
    [
      'the first 20 characters of the API key, in a pointer',
      json(400, { errors: [{ title: 'Bad', source: { pointer: `/auth/${API_KEY.slice(0, 20)}` } }] }),
    ],
    ['the middle of the API key, in the title', json(422, { errors: [{ title: `no ${API_KEY.slice(5, 30)}!` }] })],
    [
      'the code minus its first character, in details',
      json(404, { errors: [{ title: 'Not found', details: `code=${CODE.slice(1)}` }] }),
    ],
    [
      'the code inside a malformed scope (the cause)',
      json(201, {
        'access-token': TOKEN,
        'expires-in': 60,
        'token-type': 'bearer',
        scope: `inquiry.read:inq_1 bad-${CODE}`,
      }),
    ],
    [
      'the access token inside a malformed scope (the cause)',
      json(201, { 'access-token': TOKEN, 'expires-in': 60, 'token-type': 'bearer', scope: `x${TOKEN.slice(2)}` }),
    ],
    [
      'the API key in the Request-Id header',
      json(500, { errors: [{ title: 'Oops' }] }, { 'request-id': `req_${API_KEY.slice(3, 40)}` }),
    ],
  ])('%s', async (_name, echo) => {
    persona.answer = echo;
    const said = await everythingSaid();
    expect(said).toContain('[REDACTED]');
    for (const secret of [API_KEY, CODE, TOKEN]) expectNoEcho(said, secret);
  });

  it('leaves text with no such echo alone', async () => {
    persona.answer = json(400, {
      errors: [{ title: 'Code invalid', details: `prefix ${API_KEY.slice(0, 11)} only`, source: { pointer: '/code' } }],
    });
    const error = await directExchange()
      .exchange(CODE)
      .then(
        () => undefined,
        (e: unknown) => e as PersonaOAuthError,
      );
    expect(error?.personaErrors).toEqual([
      { title: 'Code invalid', details: `prefix ${API_KEY.slice(0, 11)} only`, pointer: '/code' },
    ]);
  });
});
