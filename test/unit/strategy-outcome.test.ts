// The callback route's decisions, without Passport: what callbackOutcome() says Passport should
// do (success / fail / error / redirect) for each kind of request.
import { describe, expect, it } from 'vitest';
import {
  PersonaOAuthError,
  type PersonaTokenSet,
  type PersonaVerify,
  type PersonaVerifyWithRequest,
  type StateStore,
} from '../../src/index.js';
import { callbackOutcome } from '../../src/strategy.js';
import { callbackRequest, flowsAnswering } from '../helpers/callback-flow.js';

const TOKENS: PersonaTokenSet = {
  accessToken: 'persona_access_token_outcome',
  tokenType: 'bearer',
  expiresIn: 3600,
  expiresAt: 1_900_000_000_000,
  scope: 'inquiry.read:inq_1',
  scopes: [{ permission: 'inquiry.read', resource: 'inquiry', action: 'read', objectId: 'inq_1' }],
  requestId: 'req_exchange',
};

const requestWith = callbackRequest;
/** A flow whose exchanger records the codes it is given and answers with the token set. */
const flowWith = flowsAnswering(async () => ({ ...TOKENS }));

/** A state store that accepts exactly `good` (once), remembering `returnTo`. */
function storeAccepting(good: string, returnTo?: string): StateStore & { stored: unknown[] } {
  const stored: unknown[] = [];
  let used = false;
  return {
    stored,
    store: async (_req, appState) => {
      stored.push(appState);
      return 'state-issued';
    },
    verify: async (_req, state) => {
      if (state !== good || used) return { valid: false, reason: 'unknown' };
      used = true;
      return { valid: true, appState: returnTo === undefined ? {} : { returnTo } };
    },
  };
}

describe('callbackOutcome: the callback input', () => {
  it('fails a repeated code with 400 invalid_request and calls nobody', async () => {
    const flow = flowWith();
    const outcome = await callbackOutcome(flow, requestWith({ code: ['a', 'b'] }), {});
    expect(outcome).toEqual({
      kind: 'fail',
      status: 400,
      challenge: { code: 'invalid_request', message: 'The code parameter was given more than once' },
    });
    expect(flow.exchanged).toEqual([]);
  });

  it('fails a request without a code with 400 when there is no authorizationURL', async () => {
    const outcome = await callbackOutcome(flowWith(), requestWith({}), {});
    expect(outcome).toMatchObject({ kind: 'fail', status: 400, challenge: { code: 'invalid_request' } });
  });

  it('redirects a request without a code to authorizationURL with state and redirect_uri', async () => {
    const stateStore = storeAccepting('x');
    const flow = flowWith({
      authorizationURL: new URL('https://owner.example.test/share?org=b'),
      callbackURL: 'https://b.example.test/callback',
      stateStore,
    });
    const outcome = await callbackOutcome(flow, requestWith({}), { returnTo: '/inquiries/inq_1' });
    expect(outcome).toEqual({
      kind: 'redirect',
      url: 'https://owner.example.test/share?org=b&state=state-issued&redirect_uri=https%3A%2F%2Fb.example.test%2Fcallback',
    });
    expect(stateStore.stored).toEqual([{ returnTo: '/inquiries/inq_1' }]);
  });

  it('fails an unsafe returnTo with 400 before storing any state', async () => {
    const stateStore = storeAccepting('x');
    const flow = flowWith({ authorizationURL: new URL('https://owner.example.test/share'), stateStore });
    const outcome = await callbackOutcome(flow, requestWith({}), { returnTo: '//evil.example' });
    expect(outcome).toMatchObject({ kind: 'fail', status: 400, challenge: { code: 'invalid_request' } });
    expect(stateStore.stored).toEqual([]);
  });
});

describe('callbackOutcome: state and the owner’s answer', () => {
  it('fails a missing state with 403 invalid_state before exchanging the code', async () => {
    const flow = flowWith({ stateStore: storeAccepting('good') });
    const outcome = await callbackOutcome(flow, requestWith({ code: 'c1' }), {});
    expect(outcome).toEqual({
      kind: 'fail',
      status: 403,
      challenge: { code: 'invalid_state', message: 'Invalid authorization state (missing); start again' },
    });
    expect(flow.exchanged).toEqual([]);
  });

  it('checks the state before the error parameter', async () => {
    const flow = flowWith({ stateStore: storeAccepting('good') });
    const outcome = await callbackOutcome(flow, requestWith({ error: 'access_denied', state: 'forged' }), {});
    expect(outcome).toMatchObject({ kind: 'fail', status: 403, challenge: { code: 'invalid_state' } });
  });

  it('fails access_denied with 403 and keeps the description apart from the fixed message', async () => {
    const query = { error: 'access_denied', error_description: 'Not <b>today</b>' };
    const outcome = await callbackOutcome(flowWith(), requestWith(query), {});
    expect(outcome).toEqual({
      kind: 'fail',
      status: 403,
      challenge: {
        code: 'access_denied',
        message: 'The data owner declined to share',
        description: 'Not <b>today</b>',
      },
    });
  });

  it('fails any other error with 400 authorization_error', async () => {
    const outcome = await callbackOutcome(flowWith(), requestWith({ error: 'server_error' }), {});
    expect(outcome).toEqual({
      kind: 'fail',
      status: 400,
      challenge: { code: 'authorization_error', message: "The data owner's side reported an error" },
    });
  });

  it('turns a state store that rejects into an error outcome', async () => {
    const broken = new Error('store down');
    const stateStore: StateStore = { store: async () => 's', verify: () => Promise.reject(broken) };
    const outcome = await callbackOutcome(flowWith({ stateStore }), requestWith({ code: 'c', state: 's' }), {});
    expect(outcome).toEqual({ kind: 'error', error: broken });
  });
});

describe('callbackOutcome: the exchange', () => {
  it('succeeds with the token set, Persona’s request id and the stored returnTo', async () => {
    const flow = flowWith({ stateStore: storeAccepting('good', '/inquiries') });
    const outcome = await callbackOutcome(flow, requestWith({ code: 'c1', state: 'good' }), {});
    expect(outcome).toEqual({
      kind: 'success',
      user: TOKENS,
      info: { requestId: 'req_exchange', returnTo: '/inquiries' },
    });
    expect(flow.exchanged).toEqual(['c1']);
  });

  it('reads whatever a custom store keeps with the state as application state, never as an outcome', async () => {
    const appState = { returnTo: '/inquiries', kind: 'fail' };
    const stateStore: StateStore = { store: async () => 's', verify: async () => ({ valid: true, appState }) };
    const outcome = await callbackOutcome(flowWith({ stateStore }), requestWith({ code: 'c1', state: 's' }), {});
    expect(outcome).toMatchObject({ kind: 'success', info: { returnTo: '/inquiries' } });
  });

  it('fails a refused code with its status and request id', async () => {
    const refused = new PersonaOAuthError('invalid_grant', 'Persona refused the authorization code', {
      requestId: 'req_refused',
    });
    const outcome = await callbackOutcome(
      flowWith({}, () => Promise.reject(refused)),
      requestWith({ code: 'c1' }),
      {},
    );
    expect(outcome).toEqual({
      kind: 'fail',
      status: 401,
      challenge: { code: 'invalid_grant', message: refused.message, requestId: 'req_refused' },
    });
  });

  it.each(['network', 'timeout', 'invalid_api_key', 'rate_limited'] as const)(
    'errors with the exchange’s %s error itself',
    async (code) => {
      const error = new PersonaOAuthError(code, 'Persona is not answering');
      const outcome = await callbackOutcome(
        flowWith({}, () => Promise.reject(error)),
        requestWith({ code: 'c' }),
        {},
      );
      expect(outcome).toEqual({ kind: 'error', error });
    },
  );
});

describe('callbackOutcome: verify', () => {
  const run = (verify: PersonaVerify<unknown>) => callbackOutcome(flowWith({ verify }), requestWith({ code: 'c' }), {});
  const runWithRequest = (verify: PersonaVerifyWithRequest<unknown>) =>
    callbackOutcome(flowWith({ verify, passReqToCallback: true }), requestWith({ code: 'c' }), {});

  it('succeeds with the user verify gives, its info merged into authInfo', async () => {
    const outcome = await run((tokens, done) => done(null, { id: tokens.scopes[0]?.objectId }, { via: 'callback' }));
    expect(outcome).toEqual({
      kind: 'success',
      user: { id: 'inq_1' },
      info: { requestId: 'req_exchange', via: 'callback' },
    });
  });

  it('succeeds with the value a promise-returning verify resolves to', async () => {
    expect(await run(async () => ({ id: 'u1' }))).toMatchObject({ kind: 'success', user: { id: 'u1' } });
  });

  it('gives verify the request first with passReqToCallback', async () => {
    const outcome = await runWithRequest((req, tokens, done) => done(null, { url: req.url, token: tokens.tokenType }));
    expect(outcome).toMatchObject({ kind: 'success', user: { url: '/callback', token: 'bearer' } });
  });

  it.each([
    [
      'done(null, false, info)',
      ((_t, done) => done(null, false, { message: 'No partner' })) as PersonaVerify<unknown>,
      'No partner',
    ],
    ['a promise of null', (async () => null) as PersonaVerify<unknown>, 'The account was not accepted'],
  ])('fails %s with 401 verify_rejected', async (_name, verify, message) => {
    expect(await run(verify)).toEqual({ kind: 'fail', status: 401, challenge: { code: 'verify_rejected', message } });
  });

  it('errors with what verify passed to done, threw or rejected with', async () => {
    const boom = new Error('db down');
    expect(await run((_t, done) => done(boom))).toEqual({ kind: 'error', error: boom });
    expect(
      await run(() => {
        throw boom;
      }),
    ).toEqual({ kind: 'error', error: boom });
    expect(await run(() => Promise.reject(boom))).toEqual({ kind: 'error', error: boom });
  });

  it('treats a falsy throw as an error, not as "no user"', async () => {
    const outcome = await run(() => {
      throw undefined;
    });
    expect(outcome).toMatchObject({ kind: 'error', error: { message: 'verify threw' } });
  });

  it('takes only the first call of done', async () => {
    const outcome = await run((_t, done) => {
      done(null, { id: 'first' });
      done(null, false);
    });
    expect(outcome).toMatchObject({ kind: 'success', user: { id: 'first' } });
  });
});
