// The edges of the callback route's decisions and of the strategy's options that the wider tests
// leave open: which keys a challenge and authInfo carry, a callback with a state but no code, a
// racing copy whose flow has nothing in flight, the double click's own copy of the scopes, a
// verify that answers later, every option's message, and a strategy method called on an object
// that is not one.
import { describe, expect, it } from 'vitest';
import { PersonaStrategy, type PersonaTokenSet, type PersonaVerify, type StateStore } from '../../src/index.js';
import { callbackOutcome } from '../../src/strategy.js';
import { callbackRequest, flowsAnswering } from '../helpers/callback-flow.js';

const API_KEY = 'persona_sandbox_strategy_edges_key';
const TOKENS: PersonaTokenSet = {
  accessToken: 'persona_access_token_edges',
  tokenType: 'bearer',
  expiresIn: 3600,
  expiresAt: 1_900_000_000_000,
  scope: 'inquiry.read:inq_1',
  scopes: [{ permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_1' }],
};

const request = callbackRequest;
const flowWith = flowsAnswering(async () => ({ ...TOKENS, scopes: TOKENS.scopes.map((s) => ({ ...s })) }));

/** A store that answers every verification with `answer`. */
const storeAnswering = (answer: Awaited<ReturnType<StateStore['verify']>>): StateStore => ({
  store: async () => 'state-issued',
  verify: async () => answer,
});

describe('what an outcome carries', () => {
  it('a challenge without a Request-Id or a description has neither key', async () => {
    const missing = await callbackOutcome(flowWith(), request({}), {});
    expect(missing).toEqual({
      kind: 'fail',
      status: 400,
      challenge: { message: 'The code parameter is missing', code: 'invalid_request' },
    });
    expect(Object.keys((missing as { challenge: object }).challenge)).toEqual(['message', 'code']);
    const declined = await callbackOutcome(flowWith(), request({ error: 'access_denied' }), {});
    expect(Object.keys((declined as { challenge: object }).challenge)).toEqual(['message', 'code']);
  });

  it('authInfo without a Request-Id or a returnTo has neither key', async () => {
    const outcome = await callbackOutcome(flowWith(), request({ code: 'code_1' }), {});
    expect(outcome.kind).toBe('success');
    expect((outcome as { info: object }).info).toEqual({});
    expect(Object.keys((outcome as { info: object }).info)).toEqual([]);
  });

  it('a redirect without callbackURL carries no redirect_uri', async () => {
    const flow = flowWith({ authorizationURL: new URL('https://owner.example.test/share?x=1') });
    expect(await callbackOutcome(flow, request({}), {})).toEqual({
      kind: 'redirect',
      url: 'https://owner.example.test/share?x=1',
    });
  });
});

describe('the callback input', () => {
  it('fails a state without a code as a missing code, exchanging nothing, even with authorizationURL', async () => {
    const flow = flowWith({
      authorizationURL: new URL('https://owner.example.test/share'),
      stateStore: storeAnswering({ valid: true, appState: {} }),
    });
    expect(await callbackOutcome(flow, request({ state: 'state-issued' }), {})).toMatchObject({
      kind: 'fail',
      status: 400,
      challenge: { code: 'invalid_request', message: 'The code parameter is missing' },
    });
    expect(flow.exchanged).toEqual([]);
  });

  it('fails a racing copy whose flow has nothing in flight with invalid_state (in-use), exchanging nothing', async () => {
    const flow = flowWith({ stateStore: storeAnswering({ valid: false, reason: 'in-use' }) });
    expect(await callbackOutcome(flow, request({ code: 'code_1', state: 'state-issued' }), {})).toEqual({
      kind: 'fail',
      status: 403,
      challenge: { code: 'invalid_state', message: 'Invalid authorization state (in-use); start again' },
    });
    expect(flow.exchanged).toEqual([]);
  });

  it('refuses a code in flight to a callback of another flow, saying so, without a second exchange', async () => {
    let answered: (tokens: PersonaTokenSet) => void = () => {};
    const flow = flowWith({
      stateStore: storeAnswering({ valid: true, appState: {} }),
      exchanger: { exchange: () => new Promise<PersonaTokenSet>((resolve) => (answered = resolve)) },
    });
    const first = callbackOutcome(flow, request({ code: 'code_1', state: 'state-one' }), {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await callbackOutcome(flow, request({ code: 'code_1', state: 'state-two' }), {})).toEqual({
      kind: 'fail',
      status: 401,
      challenge: {
        code: 'invalid_grant',
        message: 'The authorization code is already being exchanged for another sign-in',
      },
    });
    answered({ ...TOKENS });
    expect((await first).kind).toBe('success');
  });

  it('gives a double click its own copy of the token set and of each scope', async () => {
    let answered: (tokens: PersonaTokenSet) => void = () => {};
    let verifications = 0;
    const store: StateStore = {
      store: async () => 'state-issued',
      verify: async () => (verifications++ === 0 ? { valid: true, appState: {} } : { valid: false, reason: 'in-use' }),
    };
    const flow = flowWith({
      stateStore: store,
      exchanger: { exchange: () => new Promise<PersonaTokenSet>((resolve) => (answered = resolve)) },
    });
    const req = request({ code: 'code_1', state: 'state-issued' });
    const first = callbackOutcome(flow, req, {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    const second = callbackOutcome(flow, req, {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    answered({ ...TOKENS, scopes: TOKENS.scopes.map((s) => ({ ...s })) });
    const [one, two] = (await Promise.all([first, second])) as { kind: string; user: PersonaTokenSet }[];
    expect(one?.kind).toBe('success');
    expect(two?.kind).toBe('success');
    expect(two?.user).toEqual(one?.user);
    expect(two?.user).not.toBe(one?.user);
    expect(two?.user.scopes[0]).toEqual(TOKENS.scopes[0]);
    expect(two?.user.scopes[0]).not.toBe(one?.user.scopes[0]);
  });
});

describe('a verify that answers later', () => {
  it.each([
    ['returns nothing', undefined],
    ['returns a value that is not a promise', { not: 'a promise' }],
  ])('calls done on a later turn and %s: the user it gives signs in', async (_name, returned) => {
    const flow = flowWith({
      verify: ((_tokens, done) => {
        setTimeout(() => done(null, { id: 'later' }), 5);
        return returned as never;
      }) satisfies PersonaVerify<unknown>,
    });
    expect(await callbackOutcome(flow, request({ code: 'code_1' }), {})).toMatchObject({
      kind: 'success',
      user: { id: 'later' },
    });
  });
});

describe('the strategy’s options: each refusal says what is wrong', () => {
  const make = (options: unknown, verify?: unknown) => () => {
    new PersonaStrategy(options as never, verify as never).close();
  };
  const refused = (text: string) => new TypeError(`passport-withpersona: ${text}`);

  it.each([undefined, null, 'options'])('refuses %j for options', (options) => {
    expect(make(options)).toThrow(refused('options are required ({ apiKey })'));
  });

  it('refuses a verify that is not a function, and passReqToCallback without verify', () => {
    expect(make({ apiKey: API_KEY }, 'verify')).toThrow(refused('verify must be a function'));
    expect(make({ apiKey: API_KEY, passReqToCallback: true })).toThrow(
      refused('passReqToCallback needs a verify function'),
    );
  });

  it.each([
    ['a relative authorizationURL', { authorizationURL: '/share' }, 'authorizationURL must be an absolute URL'],
    [
      'an ftp authorizationURL',
      { authorizationURL: 'ftp://owner.example.test/' },
      'authorizationURL must be an http or https URL',
    ],
    ['a javascript: callbackURL', { callbackURL: 'javascript:alert(1)' }, 'callbackURL must be an http or https URL'],
  ])('refuses %s', (_name, options, text) => {
    expect(make({ apiKey: API_KEY, ...options })).toThrow(refused(text));
  });

  it.each([
    ['http', 'http://owner.example.test/share'],
    ['https', 'https://owner.example.test/share'],
  ])('takes an %s authorizationURL and callbackURL', (_name, url) => {
    expect(make({ apiKey: API_KEY, authorizationURL: url, callbackURL: url })).not.toThrow();
  });

  const STATE = 'state must be true, { session: { … } }, { signed: { secrets } }, or a StateStore';
  it.each([
    ['null', null],
    ['a string', 'yes'],
    ['a number', 1],
    ['a store without verify', { store: async (): Promise<string> => 's' }],
    ['a store whose verify is not a function', { store: async (): Promise<string> => 's', verify: true }],
    ['a store whose store is not a function', { store: 's', verify: async (): Promise<object> => ({ valid: false }) }],
  ] as [string, unknown][])('refuses %s for state', (_name, state) => {
    expect(make({ apiKey: API_KEY, state })).toThrow(refused(STATE));
  });

  it.each([
    ['false', false],
    ['a StateStore', storeAnswering({ valid: false, reason: 'unknown' })],
  ])('takes %s for state', (_name, state) => {
    expect(make({ apiKey: API_KEY, state })).not.toThrow();
  });

  it('errors a returnTo without state when the flow starts, with a message saying so', async () => {
    const flow = flowWith({ authorizationURL: new URL('https://owner.example.test/share') });
    const outcome = await callbackOutcome(flow, request({}), { returnTo: '/account' });
    expect(outcome).toEqual({
      kind: 'error',
      error: new TypeError('passport-withpersona: returnTo needs the state option'),
    });
  });

  it('fails an unsafe returnTo with a message saying why', async () => {
    const flow = flowWith({
      authorizationURL: new URL('https://owner.example.test/share'),
      stateStore: storeAnswering({ valid: false, reason: 'unknown' }),
    });
    expect(await callbackOutcome(flow, request({}), { returnTo: '//evil.example' })).toMatchObject({
      kind: 'fail',
      challenge: { code: 'invalid_request', message: 'returnTo must be a same-origin relative path' },
    });
  });
});

describe('the strategy’s methods on what is not one', () => {
  it('refuses authenticate and close called on an object that is not a PersonaStrategy', () => {
    const notOne = refusedOn({});
    expect(() => PersonaStrategy.prototype.authenticate.call(notOne, request({}))).toThrow(
      new TypeError('passport-withpersona: not a PersonaStrategy'),
    );
    expect(() => PersonaStrategy.prototype.close.call(notOne)).toThrow(
      new TypeError('passport-withpersona: not a PersonaStrategy'),
    );
  });

  it('hands an exception of a Passport action to error()', async () => {
    const strategy = new PersonaStrategy({ apiKey: API_KEY });
    const boom = new Error('fail() threw');
    const handed = await new Promise<unknown>((resolve) => {
      const clone = Object.assign(Object.create(strategy), {
        fail: () => {
          throw boom;
        },
        error: resolve,
      });
      clone.authenticate(request({}));
    });
    await strategy.close();
    expect(handed).toBe(boom);
  });
});

function refusedOn(value: object): object {
  return Object.create(value);
}
