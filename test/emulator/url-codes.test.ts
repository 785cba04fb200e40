import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';
import { readCode } from './helpers.js';
import { strategyApp, type StrategyApp } from './strategy-app.js';

let persona: PersonaEmulator;
let app: StrategyApp;

beforeAll(async () => {
  persona = await startPersonaEmulator();
  app = strategyApp(persona);
});
afterAll(async () => {
  await app.close();
  await persona.close();
});

describe('emulator codes in URLs, through the strategy', () => {
  it('signs in with a code pasted into the callback URL without encoding', async () => {
    const code = readCode(persona);
    const res = await app.callbackRaw(`/callback?code=${code}`);
    expect(res.status).toBe(200);
    expect(res.body.user.accessToken).toMatch(/^persona_access_token_/);
  });

  it('fails with invalid_grant when a + arrived as a space (the emulator says why in personaErrors)', async () => {
    // A code from another source with a + in it, pasted unencoded: the query parser reads the + as a space.
    const res = await app.callbackRaw('/callback?code=AbCdEf+GhIjKl');
    expect(res.status).toBe(401);
    expect(res.body.info).toMatchObject({ code: 'invalid_grant' });
    const sent = persona.requests.filter((r) => r.endpoint === 'token').at(-1);
    expect(new URLSearchParams(sent?.body).get('code')).toBe('AbCdEf GhIjKl');
  });
});
