import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CodeExchanger, createCodeExchanger, PersonaOAuthError } from '../../src/index.js';
import { startTokenServer, type TokenServer } from '../helpers/token-server.js';

// A 2xx body that is not a usable token set, over real HTTP: each is refused as
// invalid_response with a message that says which field is wrong (never what it held).

const API_KEY = 'persona_production_body-shapes-api-key-0123456789';
const GOOD = {
  'access-token': 'persona_access_token_99999999-8888-4777-8666-555555555555',
  'expires-in': 3599,
  scope: 'inquiry.read:inq_A',
  'token-type': 'bearer',
};

let body = '';
let server: TokenServer;
let exchanger: CodeExchanger;

beforeAll(async () => {
  server = await startTokenServer((_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(body);
  });
  exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: server.url, retries: 0 });
});

afterAll(async () => {
  await exchanger.close();
  await server.close();
});

let sequence = 0;
async function refusedWith(sent: string): Promise<string> {
  body = sent;
  sequence += 1;
  const error = await exchanger.exchange(`code_body_shapes_${sequence}`).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PersonaOAuthError);
  expect((error as PersonaOAuthError).code).toBe('invalid_response');
  expect((error as PersonaOAuthError).personaStatus).toBe(201);
  return (error as PersonaOAuthError).message;
}

const PREFIX = "Persona's token response is invalid: ";

describe('a 2xx body that is not a JSON object', () => {
  it.each(['null', '[]', `[${JSON.stringify(GOOD)}]`, '"persona_access_token_x"', '42', 'true'])('%s', async (sent) => {
    expect(await refusedWith(sent)).toBe(`${PREFIX}expected a JSON object`);
  });
});

describe('a 2xx body with a wrong field: the message names the field', () => {
  it.each([
    ['an empty access token', { 'access-token': '' }, 'access token missing or not a non-empty string'],
    ['a null access token', { 'access-token': null }, 'access token missing or not a non-empty string'],
    ['a numeric access token', { 'access-token': 12345 }, 'access token missing or not a non-empty string'],
    [
      'an access token with a space',
      { 'access-token': 'persona access' },
      'access token contains characters not allowed in a bearer token',
    ],
    ['a token type "mac"', { 'token-type': 'mac' }, 'token type not "bearer"'],
    ['a numeric token type', { 'token-type': 1 }, 'token type not "bearer"'],
    ['expires-in as a string', { 'expires-in': '3599' }, 'expires-in not an integer from 0 to 2147483647'],
    ['a negative expires-in', { 'expires-in': -1 }, 'expires-in not an integer from 0 to 2147483647'],
    ['a numeric scope', { scope: 42 }, 'scope is not a string'],
    ['a scope list', { scope: ['inquiry.read:inq_A'] }, 'scope is not a string'],
    ['a malformed scope', { scope: 'inquiry:inq_A' }, 'scope is malformed'],
  ])('%s', async (_name, override, why) => {
    expect(await refusedWith(JSON.stringify({ ...GOOD, ...override }))).toBe(`${PREFIX}${why}`);
  });
});
