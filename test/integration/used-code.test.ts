import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { readCode, tokenRequests } from '../helpers/emulator.js';
import { stateFrom, useRecipientApps } from '../helpers/recipient-app.js';

// A leaked authorization code (history, a proxy log, a screen share) must not sign anyone else
// in: each exchange sends its own Idempotency-Key, so Persona refuses a used code instead of
// replaying the answer it stored for the first exchange.

const SECRET = `${'s'.repeat(16)}signing-secret-for-used-codes`;
const apps = useRecipientApps();
const appWith = apps.appWith;

describe.each([
  ['session state', { state: true }],
  ['signed state', { state: { signed: { secrets: [SECRET] } } }],
] as const)('a used code with a fresh state (%s)', (_name, options) => {
  it('signs the victim in once; the attacker, with a state of their own, gets 401 invalid_grant', async () => {
    const app = appWith(options);
    const victim = request.agent(app);
    const attacker = request.agent(app);
    const code = readCode(apps.emulator);

    const victimState = stateFrom((await victim.get('/start')).headers.location);
    const signedIn = await victim.get('/callback').query({ code, state: victimState });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body.user.accessToken).toMatch(/^persona_access_token_/);

    const attackerState = stateFrom((await attacker.get('/start')).headers.location);
    const replay = await attacker.get('/callback').query({ code, state: attackerState });
    expect(replay.status).toBe(401);
    expect(replay.body.info.code).toBe('invalid_grant');
    expect(replay.text).not.toContain(signedIn.body.user.accessToken);

    const sent = tokenRequests(apps.emulator);
    expect(sent.map((r) => r.status)).toEqual([201, 409]);
    expect(sent[0]?.headers['idempotency-key']).not.toBe(sent[1]?.headers['idempotency-key']);
  });
});

describe.each([
  ['session state', { state: true }],
  ['signed state', { state: { signed: { secrets: [SECRET] } } }],
] as const)('a stolen code presented while the victim’s exchange is in flight (%s)', (_name, options) => {
  // The thief saw the code (a proxy log, a shoulder) and sends it with a state of their own
  // while Persona still holds the victim's request: it must not join the victim's exchange.
  it.each([
    ['Persona is slow', () => apps.emulator.setFault('token', { kind: 'latency', ms: 200 }, { times: 1 })],
    [
      'Persona rate-limits the first attempt',
      () =>
        apps.emulator.setFault(
          'token',
          { kind: 'status', status: 429, headers: { 'ratelimit-reset': '1' } },
          { times: 1 },
        ),
    ],
  ])('%s: the thief never gets the victim’s token set', async (_case, disturb) => {
    const app = appWith(options);
    const victim = request.agent(app);
    const thief = request.agent(app);
    const code = readCode(apps.emulator);
    const victimState = stateFrom((await victim.get('/start')).headers.location);
    const thiefState = stateFrom((await thief.get('/start')).headers.location);
    disturb();
    const victimAnswer = victim
      .get('/callback')
      .query({ code, state: victimState })
      .then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const thiefAnswer = await thief.get('/callback').query({ code, state: thiefState });
    const signedIn = await victimAnswer;
    // The code belongs to the victim's flow while its exchange is in flight: the thief is
    // refused at once, without a request to Persona, and never sees the victim's token.
    expect(signedIn.status).toBe(200);
    expect(thiefAnswer.status).toBe(401);
    expect(thiefAnswer.body.info.code).toBe('invalid_grant');
    expect(thiefAnswer.text).not.toContain(signedIn.body.user.accessToken);
    // Persona saw the victim's exchange only (its retry after a 429 with the same key).
    const keys = new Set(tokenRequests(apps.emulator).map((r) => r.headers['idempotency-key']));
    expect(keys.size).toBe(1);
  });

  it('a double click in the victim’s browser signs in both requests on one Persona request', async () => {
    const app = appWith(options);
    const victim = request.agent(app);
    const code = readCode(apps.emulator);
    const state = stateFrom((await victim.get('/start')).headers.location);
    apps.emulator.setFault('token', { kind: 'latency', ms: 150 }, { times: 1 });
    const answers = await Promise.all([
      victim.get('/callback').query({ code, state }),
      victim.get('/callback').query({ code, state }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(answers[0]?.body.user.accessToken).toBe(answers[1]?.body.user.accessToken);
    expect(tokenRequests(apps.emulator)).toHaveLength(1);
  });
});

describe('two instances sharing nothing race one code', () => {
  it('one signs in, the other fails cleanly with 401 invalid_grant', async () => {
    const one = appWith({});
    const two = appWith({});
    const code = readCode(apps.emulator);
    // Both requests are in flight at once: the first to reach Persona is held back a little.
    apps.emulator.setFault('token', { kind: 'latency', ms: 150 }, { times: 1 });
    const answers = await Promise.all([
      request(one).get('/callback').query({ code }),
      request(two).get('/callback').query({ code }),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401]);
    expect(answers.find((a) => a.status === 401)?.body.info.code).toBe('invalid_grant');
    expect(tokenRequests(apps.emulator)).toHaveLength(2);
  });
});

describe('Idempotency-Key', () => {
  it('is random (a UUID v4, 122 random bits), new for every exchange, and never derived from the code', async () => {
    const app = appWith({});
    const code = readCode(apps.emulator);
    await request(app).get('/callback').query({ code });
    await request(app).get('/callback').query({ code });
    const other = appWith({});
    await request(other).get('/callback').query({ code });
    const keys = tokenRequests(apps.emulator).map((r) => String(r.headers['idempotency-key']));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) {
      // A version 4 UUID from crypto.randomUUID(): 122 random bits.
      expect(key).toMatch(/^pwp3-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(key).not.toContain(code.slice(0, 8));
    }
  });
});
