// The example of docs/emulator.md ("Testing your own app"), run as it is written there except
// for the import paths (the package's own sources here instead of its published name).
import express from 'express';
import passport from 'passport';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { PersonaStrategy } from '../../src/index.js';
import { startPersonaEmulator, type PersonaEmulator } from '../../src/testing/index.js';

let persona: PersonaEmulator;
let strategy: PersonaStrategy;
let app: express.Express;

beforeAll(async () => {
  persona = await startPersonaEmulator();
  strategy = new PersonaStrategy({ apiKey: persona.recipient.apiKey, baseURL: persona.url });
  passport.use(strategy);
  app = express();
  app.get('/auth/persona/callback', passport.authenticate('persona', { session: false }), (req, res) => {
    res.json(req.user);
  });
});
beforeEach(() => persona.clearFaults());
afterAll(async () => {
  await strategy.close();
  await persona.close();
});

/** What the data owner does on its side: share one inquiry with us. */
function shareInquiry(): { code: string; inquiryId: string } {
  const inquiryId = persona.owner.inquiries[0]!.id;
  const { code } = persona.createAuthorization({ scope: `inquiry.read:${inquiryId}` });
  return { code, inquiryId };
}

it('signs the user in with the shared code and can read the inquiry', async () => {
  const { code, inquiryId } = shareInquiry();
  const res = await request(app).get('/auth/persona/callback').query({ code });
  expect(res.status).toBe(200);
  expect(res.body.scopes).toEqual([expect.objectContaining({ permission: 'inquiry.read', objectId: inquiryId })]);

  // What reached Persona's token endpoint.
  const sent = persona.requests.filter((r) => r.endpoint === 'token');
  expect(sent.at(-1)?.headers.authorization).toBe(`Bearer ${persona.recipient.apiKey}`);

  // The token works against the emulated API, for that inquiry only.
  const inquiry = await fetch(`${persona.url}/api/v1/inquiries/${inquiryId}`, {
    headers: { authorization: `Bearer ${res.body.accessToken}` },
  });
  expect(inquiry.status).toBe(200);
});

it('refuses a code that expired before the user came back', async () => {
  const { code } = shareInquiry();
  persona.clock.advance(11 * 60 * 1000);
  const res = await request(app).get('/auth/persona/callback').query({ code });
  expect(res.status).toBe(401);
});

it('answers 502 when Persona fails', async () => {
  persona.setFault('token', { kind: 'status', status: 503 });
  const res = await request(app).get('/auth/persona/callback').query({ code: shareInquiry().code });
  expect(res.status).toBe(502);
});
