import { Strategy as PassportStrategyBase } from 'passport-strategy';
import { callbackParams, readCallbackInput, type CallbackInput } from './callback-input.js';
import { PersonaOAuthError, isPersonaOAuthError, STATUS_OF, type PersonaOAuthErrorCode } from './errors.js';
import { createCodeExchanger, type CodeExchanger, type CodeExchangerOptions } from './exchange.js';
import { isSafeReturnTo } from './return-to.js';
import { storeFor } from './state/create.js';
import type { SessionStateStoreOptions } from './state/session.js';
import type { SignedStateStoreOptions } from './state/signed.js';
import type { PersonaRequest } from './request.js';
import type { AppState, StateStore } from './state/types.js';
import type { PersonaTokenSet } from './token.js';

/**
 * Options of {@link PersonaStrategy}: the exchange's ({@link CodeExchangerOptions}: `apiKey`,
 * `baseURL`, `personaVersion`, `keyInflection`, `timeoutMs`, `maxResponseBytes`, `retries`,
 * `dispatcher`) and the callback route's. With `passReqToCallback: true`, see
 * {@link PersonaStrategyOptionsWithRequest}.
 */
export interface PersonaStrategyOptions extends CodeExchangerOptions {
  /** Where to send a browser that arrives without a code (the data owner's share page). */
  authorizationURL?: string | undefined;
  /** This route's absolute URL, sent as `redirect_uri` when redirecting to `authorizationURL`. */
  callbackURL?: string | undefined;
  /**
   * CSRF protection: `true` (or `{ session: { ttlSeconds, maxFlows, key } }`) for session-backed
   * state, `{ signed: { secrets } }` for stateless signed state, or your own {@link StateStore}.
   * Default: off, and then `returnTo` cannot be used.
   */
  state?:
    | boolean
    | { session: SessionStateStoreOptions }
    | { signed: SignedStateStoreOptions }
    | StateStore
    | undefined;
  /** Strategy name (default `persona`). */
  name?: string | undefined;
  /** `verify(tokens, done)` gets no request; see {@link PersonaStrategyOptionsWithRequest}. */
  passReqToCallback?: false | undefined;
}

/** {@link PersonaStrategyOptions} with `passReqToCallback: true`: `verify(req, tokens, done)`. */
export interface PersonaStrategyOptionsWithRequest extends Omit<PersonaStrategyOptions, 'passReqToCallback'> {
  /** Pass the request as the first argument of `verify`. */
  passReqToCallback: true;
}

/** Options for one `passport.authenticate('persona', options)` call. */
export interface PersonaAuthenticateOptions {
  /** Same-origin path to come back to after sign-in; stored with the state (needs `state`). */
  returnTo?: string;
  [key: string]: unknown;
}

/** What a successful authentication puts on `req.authInfo`. */
export interface PersonaAuthInfo {
  /** Persona's `Request-Id` of the exchange, when it sent one. */
  requestId?: string;
  /** The `returnTo` stored when the flow started, if any. */
  returnTo?: string;
  [key: string]: unknown;
}

/** The challenge a failed callback hands to Passport (`failureMessage`, custom callbacks). */
export interface PersonaChallenge {
  /** The library's own fixed text: never anything the callback's URL carried. */
  message: string;
  code: PersonaOAuthErrorCode | 'verify_rejected';
  requestId?: string;
  /**
   * On `access_denied` and `authorization_error`: the callback's `error_description`, reduced to
   * printable ASCII and at most 200 characters. **Untrusted**: anyone can put any text in a
   * link, so escape it wherever it is shown, and never treat it as the library's message.
   */
  description?: string;
}

/** Node-style callback of a `verify` function. A falsy user fails the request with 401. */
type PersonaVerifyCallback<TUser> = (err: unknown, user?: TUser | false | null, info?: Record<string, unknown>) => void;

/** The result a promise-returning `verify` may resolve to. */
type PersonaVerifyResult<TUser> = TUser | false | null | undefined;

/**
 * Turns a token set into your user: call `done(null, user)` (Node-style: `done(err)` errors the
 * request; `info` joins `req.authInfo`) or return a promise of the user. A falsy user fails the
 * request (401); an error or a rejection errors it.
 */
export type PersonaVerify<TUser> = (
  tokens: PersonaTokenSet,
  done: (err: unknown, user?: TUser | false | null, info?: Record<string, unknown>) => void,
) => void | PromiseLike<TUser | false | null | undefined>;

/** {@link PersonaVerify} with the request first (`passReqToCallback: true`). */
export type PersonaVerifyWithRequest<TUser> = (
  req: PersonaRequest,
  tokens: PersonaTokenSet,
  done: (err: unknown, user?: TUser | false | null, info?: Record<string, unknown>) => void,
) => void | PromiseLike<TUser | false | null | undefined>;

// The parts of passport-strategy's base class this file uses; declared here so the published
// types do not depend on @types/passport-strategy.
interface StrategyActions {
  /** The name Passport knows the strategy by. */
  name?: string;
  /** Passport action: authentication succeeded with `user`; `info` becomes `req.authInfo`. */
  success(user: unknown, info?: unknown): void;
  /** Passport action: authentication failed with a challenge and an HTTP status. */
  fail(challenge?: unknown, status?: number): void;
  /** Passport action: send the browser to `url`. */
  redirect(url: string, status?: number): void;
  /** Passport action: an internal error, passed to `next(err)`. */
  error(err: unknown): void;
}
const StrategyBase = PassportStrategyBase as unknown as new () => StrategyActions;

/** What one callback request comes to: the Passport action to take, decided without Passport. */
export type Outcome =
  | { kind: 'success'; user: unknown; info: PersonaAuthInfo }
  | { kind: 'fail'; challenge: PersonaChallenge; status: number }
  | { kind: 'error'; error: unknown }
  | { kind: 'redirect'; url: string };

/** What the callback route works with: the strategy's configuration, held privately by it. */
export interface CallbackFlow<TUser> {
  exchanger: Pick<CodeExchanger, 'exchange'>;
  stateStore: StateStore | undefined;
  authorizationURL: URL | undefined;
  callbackURL: string | undefined;
  verify: PersonaVerify<TUser> | PersonaVerifyWithRequest<TUser> | undefined;
  passReqToCallback: boolean;
  /** The exchanges in flight in this process, by code (see {@link flowExchange}). */
  inFlight: Map<string, FlowExchange>;
}

/** One flow's exchange in flight: its state (when checked), and the application state it carries. */
interface FlowExchange {
  tokens: Promise<PersonaTokenSet>;
  appState: AppState;
  /** The state the store verified for this flow; undefined without a state store. */
  state: string | undefined;
}

/** What checking a callback's state allows: its own exchange, joining its flow's, or nothing. */
type StateCheck = { appState: AppState; racing?: false } | { racing: true } | { outcome: Outcome };

function failure(error: PersonaOAuthError): Extract<Outcome, { kind: 'fail' }> {
  const challenge: PersonaChallenge = { message: error.message, code: error.code };
  if (error.requestId !== undefined) challenge.requestId = error.requestId;
  return { kind: 'fail', challenge, status: error.status };
}

function missingCode(): Outcome {
  return failure(new PersonaOAuthError('invalid_request', 'The code parameter is missing'));
}

async function start<TUser>(
  flow: CallbackFlow<TUser>,
  req: PersonaRequest,
  options: PersonaAuthenticateOptions,
): Promise<Outcome> {
  if (!flow.authorizationURL) return missingCode();
  const appState: AppState = {};
  if (options.returnTo !== undefined && !flow.stateStore) {
    // Nowhere to keep it: a mistake in the app, not something to drop without a word.
    return { kind: 'error', error: new TypeError('passport-withpersona: returnTo needs the state option') };
  }
  if (options.returnTo !== undefined) {
    if (!isSafeReturnTo(options.returnTo)) {
      return failure(new PersonaOAuthError('invalid_request', 'returnTo must be a same-origin relative path'));
    }
    appState.returnTo = options.returnTo;
  }
  const target = new URL(flow.authorizationURL);
  if (flow.stateStore) target.searchParams.set('state', await flow.stateStore.store(req, appState));
  if (flow.callbackURL) target.searchParams.set('redirect_uri', flow.callbackURL);
  return { kind: 'redirect', url: target.toString() };
}

/**
 * The flow's application state when the callback's `state` checks out; `racing` when the store
 * saw this request's own browser present it already (a double click); the failure otherwise.
 */
async function checkState(
  store: StateStore | undefined,
  req: PersonaRequest,
  state: string | undefined,
): Promise<StateCheck> {
  if (!store) return { appState: {} };
  const verification =
    state === undefined ? ({ valid: false, reason: 'missing' } as const) : await store.verify(req, state);
  if (verification.valid) return { appState: verification.appState };
  if (verification.reason === 'in-use') return { racing: true };
  return { outcome: invalidState(verification.reason) };
}

function invalidState(reason: string): Outcome {
  return failure(new PersonaOAuthError('invalid_state', `Invalid authorization state (${reason}); start again`));
}

function copyTokens(tokens: PersonaTokenSet): PersonaTokenSet {
  return { ...tokens, scopes: tokens.scopes.map((s) => ({ ...s })) };
}

/**
 * The exchange of `code` for the flow of the callback's checked `state`. While a code is being
 * exchanged in this process, it belongs to that flow: a callback of the same flow (the same
 * state, which the store confirmed as this browser's: a double click) shares the exchange, with
 * its own copy of the token set; any other callback presenting the code is refused at once, as
 * Persona refuses a used code, so a thief cannot redeem it while the victim's request waits (a
 * 429's backoff included). Undefined for a racing copy whose flow has nothing in flight any more.
 */
function flowExchange<TUser>(
  flow: CallbackFlow<TUser>,
  code: string,
  state: string | undefined,
  checked: Exclude<StateCheck, { outcome: Outcome }>,
): FlowExchange | PersonaOAuthError | undefined {
  const flowState = flow.stateStore ? state : undefined;
  const pending = flow.inFlight.get(code);
  if (pending) {
    if (flowState === undefined || pending.state !== flowState) return CODE_IN_USE();
    return { ...pending, tokens: pending.tokens.then(copyTokens) };
  }
  if (checked.racing) return undefined;
  const started: FlowExchange = { tokens: flow.exchanger.exchange(code), appState: checked.appState, state: flowState };
  flow.inFlight.set(code, started);
  const forget = () => {
    if (flow.inFlight.get(code) === started) flow.inFlight.delete(code);
  };
  started.tokens.then(forget, forget);
  return started;
}

const CODE_IN_USE = () =>
  new PersonaOAuthError('invalid_grant', 'The authorization code is already being exchanged for another sign-in');

function declined(input: Extract<CallbackInput, { kind: 'error' }>): Outcome {
  // Fixed messages: `failureMessage: true` copies the message into req.session.messages, which
  // apps render, and the callback's text is anyone's.
  const outcome = failure(
    input.error === 'access_denied'
      ? new PersonaOAuthError('access_denied', 'The data owner declined to share')
      : new PersonaOAuthError('authorization_error', "The data owner's side reported an error"),
  );
  if (input.description !== undefined) outcome.challenge.description = input.description;
  return outcome;
}

/** The token set; a refused code or bad input as a failure; anything else thrown. */
async function settle(tokens: Promise<PersonaTokenSet>): Promise<{ tokens: PersonaTokenSet } | { outcome: Outcome }> {
  try {
    return { tokens: await tokens };
  } catch (error) {
    // A refusal the person can do something about (a 4xx: start again, get a new link) is
    // Passport's fail; the rest is an error for the app's error handler.
    if (isPersonaOAuthError(error) && error.status < 500) return { outcome: failure(error) };
    throw error;
  }
}

async function callback<TUser>(
  flow: CallbackFlow<TUser>,
  req: PersonaRequest,
  options: PersonaAuthenticateOptions,
): Promise<Outcome> {
  const input = readCallbackInput(callbackParams(req));
  if (input.kind === 'invalid') return failure(new PersonaOAuthError('invalid_request', input.message));
  if (input.kind === 'start' && input.state === undefined) return start(flow, req, options);
  // The state first, before the `error` parameter and before any call to Persona.
  const checked = await checkState(flow.stateStore, req, input.state);
  if ('outcome' in checked) return checked.outcome;
  if (input.kind === 'error') return declined(input);
  if (input.kind !== 'code') return missingCode();
  const exchange = flowExchange(flow, input.code, input.state, checked);
  if (!exchange) return invalidState('in-use');
  if (exchange instanceof PersonaOAuthError) return failure(exchange);
  const { appState } = exchange;
  const exchanged = await settle(exchange.tokens);
  if ('outcome' in exchanged) return exchanged.outcome;
  const { tokens } = exchanged;
  const info: PersonaAuthInfo = {};
  if (tokens.requestId !== undefined) info.requestId = tokens.requestId;
  if (appState.returnTo !== undefined) info.returnTo = appState.returnTo;
  return verifyOutcome(flow, req, tokens, info);
}

/**
 * What Passport should do with one request to the callback route: read the callback, check the
 * state, exchange the code, call `verify`. Never rejects: anything thrown becomes an `error`
 * outcome.
 */
export async function callbackOutcome<TUser>(
  flow: CallbackFlow<TUser>,
  req: PersonaRequest,
  options: PersonaAuthenticateOptions,
): Promise<Outcome> {
  try {
    return await callback(flow, req, options);
  } catch (error) {
    return { kind: 'error', error };
  }
}

/** Runs `verify` (callback or promise form) and turns what it gives into an outcome. */
function verifyOutcome<TUser>(
  flow: CallbackFlow<TUser>,
  req: PersonaRequest,
  tokens: PersonaTokenSet,
  info: PersonaAuthInfo,
): Promise<Outcome> {
  const verify = flow.verify;
  if (!verify) return Promise.resolve({ kind: 'success', user: tokens, info });
  // Only the first call of `done` counts: a promise settles once.
  return new Promise<Outcome>((resolve) => {
    const done: PersonaVerifyCallback<TUser> = (err, user, extra) => {
      if (err) return resolve({ kind: 'error', error: err });
      if (user) return resolve({ kind: 'success', user, info: { ...info, ...extra } });
      const message = typeof extra?.message === 'string' ? extra.message : 'The account was not accepted';
      resolve({
        kind: 'fail',
        challenge: { ...extra, message, code: 'verify_rejected' },
        status: STATUS_OF.verify_rejected,
      });
    };
    let returned: unknown;
    try {
      returned = flow.passReqToCallback
        ? (verify as PersonaVerifyWithRequest<TUser>)(req, tokens, done)
        : (verify as PersonaVerify<TUser>)(tokens, done);
    } catch (error) {
      // A falsy throw is still a failure, not "no user".
      return done(error || new Error('verify threw'));
    }
    if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
      (returned as PromiseLike<PersonaVerifyResult<TUser>>).then(
        (user) => done(null, user),
        (error: unknown) => done(error || new Error('verify rejected')),
      );
    }
  });
}

/** Hands an outcome to the Passport actions of the request's strategy clone. */
function act(actions: StrategyActions, outcome: Outcome): void {
  if (outcome.kind === 'success') actions.success(outcome.user, outcome.info);
  else if (outcome.kind === 'fail') actions.fail(outcome.challenge, outcome.status);
  else if (outcome.kind === 'redirect') actions.redirect(outcome.url);
  else actions.error(outcome.error);
}

function resolveStateStore(option: PersonaStrategyOptions['state']): StateStore | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof option === 'object' && option !== null && 'store' in option) {
    if (typeof option.store === 'function' && typeof option.verify === 'function') return option;
  } else if (option === true || (typeof option === 'object' && option !== null)) {
    return storeFor(option);
  }
  throw new TypeError(
    'passport-withpersona: state must be true, { session: { … } }, { signed: { secrets } }, or a StateStore',
  );
}

// An absolute http(s) URL: where a browser is sent, or what is sent as redirect_uri.
function resolveURL(name: string, value: string | undefined): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`passport-withpersona: ${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`passport-withpersona: ${name} must be an http or https URL`);
  }
  return url;
}

/**
 * Passport strategy that accepts Persona OAuth authorization codes.
 *
 * On the callback route it reads `code` from the query string (or a form body), exchanges it at
 * Persona's `POST /api/v1/oauth/token` with your API key, and signs the user in with the
 * resulting {@link PersonaTokenSet} (or whatever `verify` makes of it). Bad input, a refused code
 * or a declined share fail the request (400/401/403); a Persona or network failure errors it with
 * a {@link PersonaOAuthError} whose `status` says what to answer. A request with no code is sent
 * to `authorizationURL` when set.
 *
 * @throws {TypeError} from the constructor when `apiKey` is missing, `baseURL` is unsafe, or
 * another option is invalid (see {@link createCodeExchanger}).
 */
export class PersonaStrategy<TUser = PersonaTokenSet> extends StrategyBase {
  override name: string;
  // #private: Passport keeps the strategy reachable from every request (req._passport.instance),
  // and the exchanger's pool holds each token request in flight (the API key in its headers, the
  // code in its body), so none of it may be reachable by util.inspect.
  readonly #flow: CallbackFlow<TUser>;
  readonly #exchanger: CodeExchanger;

  constructor(options: PersonaStrategyOptions, verify?: PersonaVerify<TUser>);
  constructor(options: PersonaStrategyOptionsWithRequest, verify: PersonaVerifyWithRequest<TUser>);
  constructor(
    options: PersonaStrategyOptions | PersonaStrategyOptionsWithRequest,
    verify?: PersonaVerify<TUser> | PersonaVerifyWithRequest<TUser>,
  ) {
    super();
    if (!options || typeof options !== 'object') {
      throw new TypeError('passport-withpersona: options are required ({ apiKey })');
    }
    if (verify !== undefined && typeof verify !== 'function') {
      throw new TypeError('passport-withpersona: verify must be a function');
    }
    if (options.passReqToCallback && !verify) {
      throw new TypeError('passport-withpersona: passReqToCallback needs a verify function');
    }
    const authorizationURL = resolveURL('authorizationURL', options.authorizationURL);
    const callbackURL = resolveURL('callbackURL', options.callbackURL)?.href;
    const stateStore = resolveStateStore(options.state);
    this.name = options.name ?? 'persona';
    // Last: it opens a pool, which nothing would close if a later check threw.
    this.#exchanger = createCodeExchanger(options);
    this.#flow = {
      exchanger: this.#exchanger,
      stateStore,
      authorizationURL,
      callbackURL,
      verify,
      passReqToCallback: options.passReqToCallback === true,
      inFlight: new Map(),
    };
  }

  // Passport runs each request on `Object.create(strategy)`, where reading a #private field
  // throws: the request path first finds the instance the clone was made from.
  static #instanceOf<T>(from: PersonaStrategy<T>): PersonaStrategy<T> {
    let candidate: object | null = from;
    while (candidate !== null && !(#flow in candidate)) candidate = Object.getPrototypeOf(candidate);
    if (candidate === null) throw new TypeError('passport-withpersona: not a PersonaStrategy');
    return candidate as unknown as PersonaStrategy<T>;
  }

  /**
   * Closes the connection pool this strategy created (not a `dispatcher` you passed in).
   * Call it on shutdown so no keep-alive socket holds the process open; calling it again is harmless.
   */
  close(): Promise<void> {
    return PersonaStrategy.#instanceOf(this).#exchanger.close();
  }

  /**
   * Passport entry point: runs once per request on a fresh `Object.create(strategy)`. The
   * Passport actions (`success`, `fail`, …) live on that clone; the configuration on the
   * instance it was made from. Its options are `passport.authenticate`'s, with `returnTo`.
   *
   * @internal Passport calls it; an app never does.
   */
  authenticate(req: PersonaRequest, options?: PersonaAuthenticateOptions): void {
    callbackOutcome(PersonaStrategy.#instanceOf(this).#flow, req, options ?? {})
      .then((outcome) => act(this, outcome))
      .catch((error: unknown) => this.error(error));
  }
}
