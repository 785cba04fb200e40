import { Strategy as PassportStrategyBase } from 'passport-strategy';
import type { Agent, Dispatcher } from 'undici';
import { callbackParams, readCallbackInput } from './callback-input.js';
import { PersonaOAuthError, isPersonaOAuthError, type PersonaOAuthErrorCode } from './errors.js';
import { CodeExchanger, createOwnedAgent, type KeyInflection } from './exchange.js';
import { integerOption } from './options.js';
import { isSafeReturnTo } from './return-to.js';
import { SessionStateStore } from './state/session.js';
import { SignedStateStore, type SignedStateStoreOptions } from './state/signed.js';
import type { AppState, PersonaRequest, StateStore } from './state/types.js';
import type { PersonaTokenSet } from './token.js';
import { VERSION } from './version.js';

/** Persona's production API. */
export const DEFAULT_BASE_URL = 'https://api.withpersona.com';
const TOKEN_PATH = 'api/v1/oauth/token';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
const DEFAULT_RETRIES = 2;

/** Options of {@link PersonaStrategy}. */
export interface PersonaStrategyOptions {
  /** The recipient organisation's Persona API key (required). Sent only to `baseURL`. */
  apiKey: string;
  /** Persona's API base URL (default `https://api.withpersona.com`); `http:` only on loopback. */
  baseURL?: string | URL;
  /** Sent as `Persona-Version` (e.g. `2023-01-05`). Default: the API key's configured version. */
  personaVersion?: string;
  /** Sent as `Key-Inflection`. The response is read in any inflection either way. */
  keyInflection?: KeyInflection;
  /** One deadline for the whole exchange, retries included, in ms (default 10000). */
  timeoutMs?: number;
  /** Largest token response accepted, in bytes (default 65536). */
  maxResponseBytes?: number;
  /** Retries after a connection failure or a 429, each with the same Idempotency-Key (default 2). */
  retries?: number;
  /** An undici Dispatcher (proxy, custom pool, MockAgent). Default: one keep-alive Agent per strategy. */
  dispatcher?: Dispatcher;
  /** Where to send a browser that arrives without a code (the data owner's share page). */
  authorizationURL?: string;
  /** This route's absolute URL, sent as `redirect_uri` when redirecting to `authorizationURL`. */
  callbackURL?: string;
  /**
   * CSRF protection: `true` for session-backed state, `{ signed: { secrets } }` for stateless
   * signed state, or your own {@link StateStore}. Default: off.
   */
  state?: boolean | { signed: SignedStateStoreOptions } | StateStore;
  /** Strategy name (default `persona`). */
  name?: string;
  /** Pass the request as the first argument of `verify`. */
  passReqToCallback?: boolean;
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
export type PersonaVerifyCallback<TUser> = (
  err: unknown,
  user?: TUser | false | null,
  info?: Record<string, unknown>,
) => void;

/** The result a promise-returning `verify` may resolve to. */
export type PersonaVerifyResult<TUser> = TUser | false | null | undefined;

/**
 * Turns a token set into your user: call `done(null, user)` or return a promise of the user.
 * A falsy user fails the request (401); an error or a rejection errors it.
 */
export type PersonaVerify<TUser> = (
  tokens: PersonaTokenSet,
  done: PersonaVerifyCallback<TUser>,
) => void | PromiseLike<PersonaVerifyResult<TUser>>;

/** {@link PersonaVerify} with the request first (`passReqToCallback: true`). */
export type PersonaVerifyWithRequest<TUser> = (
  req: PersonaRequest,
  tokens: PersonaTokenSet,
  done: PersonaVerifyCallback<TUser>,
) => void | PromiseLike<PersonaVerifyResult<TUser>>;

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

const FAIL_CODES: ReadonlySet<string> = new Set([
  'invalid_request',
  'invalid_state',
  'access_denied',
  'authorization_error',
  'invalid_grant',
]);

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

function resolveBaseURL(value: string | URL | undefined): URL {
  let url: URL;
  try {
    url = new URL(value ?? DEFAULT_BASE_URL);
  } catch {
    throw new TypeError('passport-withpersona: baseURL is not a valid absolute URL');
  }
  if (url.username || url.password) {
    throw new TypeError('passport-withpersona: baseURL must not contain credentials');
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new TypeError(
      `passport-withpersona: baseURL must use https (http is allowed only for loopback hosts such as 127.0.0.1), got http://${url.host}`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('passport-withpersona: baseURL must be an https URL');
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  url.search = '';
  url.hash = '';
  return url;
}

function resolveStateStore(option: PersonaStrategyOptions['state']): StateStore | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return new SessionStateStore();
  if (typeof option === 'object' && option !== null) {
    if ('signed' in option) return new SignedStateStore(option.signed);
    if (typeof option.store === 'function' && typeof option.verify === 'function') return option;
  }
  throw new TypeError('passport-withpersona: state must be true, { signed: { secrets } }, or a StateStore');
}

function missingCode(): PersonaOAuthError {
  return new PersonaOAuthError('invalid_request', 'The code parameter is missing', { status: 400 });
}

function challengeOf(error: PersonaOAuthError): PersonaChallenge {
  const challenge: PersonaChallenge = { message: error.message, code: error.code };
  if (error.requestId !== undefined) challenge.requestId = error.requestId;
  return challenge;
}

function failWith(actions: StrategyActions, error: PersonaOAuthError): void {
  actions.fail(challengeOf(error), error.status);
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
 * @throws {TypeError} from the constructor when `apiKey` is missing or `baseURL` is unsafe.
 */
export class PersonaStrategy<TUser = PersonaTokenSet> extends StrategyBase {
  override name: string;
  // Everything below is #private: Passport keeps the strategy reachable from every request
  // (req._passport.instance), and the pool holds each token request in flight (the API key in
  // its headers, the code in its body), so none of it may be reachable by util.inspect.
  readonly #exchanger: CodeExchanger;
  readonly #verifyUser: PersonaVerify<TUser> | PersonaVerifyWithRequest<TUser> | undefined;
  readonly #passReqToCallback: boolean;
  readonly #stateStore: StateStore | undefined;
  readonly #authorizationURL: URL | undefined;
  readonly #callbackURL: string | undefined;
  readonly #ownedAgent: Agent | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: PersonaStrategyOptions & { passReqToCallback?: false }, verify?: PersonaVerify<TUser>);
  constructor(options: PersonaStrategyOptions & { passReqToCallback: true }, verify: PersonaVerifyWithRequest<TUser>);
  constructor(options: PersonaStrategyOptions, verify?: PersonaVerify<TUser> | PersonaVerifyWithRequest<TUser>) {
    super();
    if (!options || typeof options !== 'object') {
      throw new TypeError('passport-withpersona: options are required ({ apiKey })');
    }
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      throw new TypeError('passport-withpersona: apiKey is required (the recipient organization’s Persona API key)');
    }
    if (!/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new TypeError('passport-withpersona: apiKey holds characters that cannot be sent in a header');
    }
    if (verify !== undefined && typeof verify !== 'function') {
      throw new TypeError('passport-withpersona: verify must be a function');
    }
    if (options.passReqToCallback && !verify) {
      throw new TypeError('passport-withpersona: passReqToCallback needs a verify function');
    }
    if (options.keyInflection !== undefined && !['kebab', 'snake', 'camel'].includes(options.keyInflection)) {
      throw new TypeError('passport-withpersona: keyInflection must be kebab, snake or camel');
    }
    if (options.personaVersion !== undefined && !/^[\x21-\x7e]{1,64}$/.test(options.personaVersion)) {
      throw new TypeError('passport-withpersona: personaVersion must be a version date such as 2023-01-05');
    }
    const baseURL = resolveBaseURL(options.baseURL);
    const timeoutMs = integerOption('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS);
    const maxResponseBytes = integerOption('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES);
    const retries = integerOption('retries', options.retries, DEFAULT_RETRIES, 0);

    if (options.authorizationURL !== undefined) {
      try {
        this.#authorizationURL = new URL(options.authorizationURL);
      } catch {
        throw new TypeError('passport-withpersona: authorizationURL must be an absolute URL');
      }
    }
    this.#callbackURL = options.callbackURL;
    this.name = options.name ?? 'persona';
    this.#verifyUser = verify;
    this.#passReqToCallback = options.passReqToCallback === true;
    this.#stateStore = resolveStateStore(options.state);

    let dispatcher = options.dispatcher;
    if (!dispatcher) {
      this.#ownedAgent = createOwnedAgent(timeoutMs);
      dispatcher = this.#ownedAgent;
    }
    this.#exchanger = new CodeExchanger({
      tokenURL: new URL(TOKEN_PATH, baseURL),
      apiKey: options.apiKey,
      personaVersion: options.personaVersion,
      keyInflection: options.keyInflection,
      timeoutMs,
      maxResponseBytes,
      retries,
      dispatcher,
      userAgent: `passport-withpersona/${VERSION} (node ${process.version})`,
    });
  }

  // Passport runs each request on `Object.create(strategy)`, where reading a #private field
  // throws: the request path first finds the instance the clone was made from.
  static #instanceOf<T>(from: PersonaStrategy<T>): PersonaStrategy<T> {
    let candidate: object | null = from;
    while (candidate !== null && !(#exchanger in candidate)) candidate = Object.getPrototypeOf(candidate);
    if (candidate === null) throw new TypeError('passport-withpersona: not a PersonaStrategy');
    return candidate as unknown as PersonaStrategy<T>;
  }

  /**
   * The token exchange, shared by every request (connection pool, in-flight map): an accessor,
   * so neither `util.inspect` nor `JSON.stringify` of the strategy walks into it.
   */
  get exchanger(): CodeExchanger {
    return PersonaStrategy.#instanceOf(this).#exchanger;
  }

  /**
   * Closes the connection pool this strategy created (not a `dispatcher` you passed in).
   * Call it on shutdown so no keep-alive socket holds the process open; calling it again is harmless.
   */
  close(): Promise<void> {
    const self = PersonaStrategy.#instanceOf(this);
    if (!self.#ownedAgent) return Promise.resolve();
    self.#closing ??= self.#ownedAgent.close();
    return self.#closing;
  }

  /**
   * Passport entry point: runs once per request on a fresh `Object.create(strategy)`. The
   * Passport actions (`success`, `fail`, …) live on that clone; the configuration on the
   * instance it was made from.
   */
  authenticate(req: PersonaRequest, options?: PersonaAuthenticateOptions): void {
    PersonaStrategy.#instanceOf(this)
      .#handle(this, req, options ?? {})
      .catch((error: unknown) => this.error(error));
  }

  async #handle(actions: StrategyActions, req: PersonaRequest, options: PersonaAuthenticateOptions): Promise<void> {
    const input = readCallbackInput(callbackParams(req));
    if (input.kind === 'invalid') {
      return failWith(actions, new PersonaOAuthError('invalid_request', input.message, { status: 400 }));
    }

    if (input.kind === 'start' && input.state === undefined) return this.#start(actions, req, options);

    let appState: AppState = {};
    if (this.#stateStore) {
      const verification =
        input.state === undefined
          ? ({ valid: false, reason: 'missing' } as const)
          : await this.#stateStore.verify(req, input.state);
      if (!verification.valid) {
        return failWith(
          actions,
          new PersonaOAuthError('invalid_state', `Invalid authorization state (${verification.reason}); start again`, {
            status: 403,
          }),
        );
      }
      appState = verification.appState;
    }

    if (input.kind === 'error') {
      // Fixed messages: `failureMessage: true` copies the message into req.session.messages,
      // which apps render, and the callback's text is anyone's.
      const denied = input.error === 'access_denied';
      const error = denied
        ? new PersonaOAuthError('access_denied', 'The data owner declined to share', { status: 403 })
        : new PersonaOAuthError('authorization_error', "The data owner's side reported an error", { status: 400 });
      const challenge = challengeOf(error);
      if (input.description !== undefined) challenge.description = input.description;
      return actions.fail(challenge, error.status);
    }
    if (input.kind !== 'code') {
      return failWith(actions, missingCode());
    }

    let tokens: PersonaTokenSet;
    try {
      tokens = await this.#exchanger.exchange(input.code);
    } catch (error) {
      if (isPersonaOAuthError(error) && FAIL_CODES.has(error.code)) return failWith(actions, error);
      throw error;
    }

    const info: PersonaAuthInfo = {};
    if (tokens.requestId !== undefined) info.requestId = tokens.requestId;
    if (appState.returnTo !== undefined) info.returnTo = appState.returnTo;
    return this.#finish(actions, req, tokens, info);
  }

  async #start(actions: StrategyActions, req: PersonaRequest, options: PersonaAuthenticateOptions): Promise<void> {
    if (!this.#authorizationURL) {
      return failWith(actions, missingCode());
    }
    const appState: AppState = {};
    if (options.returnTo !== undefined) {
      if (!isSafeReturnTo(options.returnTo)) {
        return failWith(
          actions,
          new PersonaOAuthError('invalid_request', 'returnTo must be a same-origin relative path', { status: 400 }),
        );
      }
      appState.returnTo = options.returnTo;
    }
    const target = new URL(this.#authorizationURL);
    if (this.#stateStore) target.searchParams.set('state', await this.#stateStore.store(req, appState));
    if (this.#callbackURL) target.searchParams.set('redirect_uri', this.#callbackURL);
    actions.redirect(target.toString());
  }

  #finish(
    actions: StrategyActions,
    req: PersonaRequest,
    tokens: PersonaTokenSet,
    info: PersonaAuthInfo,
  ): Promise<void> {
    const verify = this.#verifyUser;
    if (!verify) {
      actions.success(tokens, info);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done: PersonaVerifyCallback<TUser> = (err, user, extra) => {
        if (settled) return;
        settled = true;
        if (err) {
          reject(err);
          return;
        }
        if (!user) {
          const message = typeof extra?.message === 'string' ? extra.message : 'The account was not accepted';
          actions.fail({ ...extra, message, code: 'verify_rejected' }, 401);
        } else {
          actions.success(user, { ...info, ...extra });
        }
        resolve();
      };
      let returned: unknown;
      try {
        returned = this.#passReqToCallback
          ? (verify as PersonaVerifyWithRequest<TUser>)(req, tokens, done)
          : (verify as PersonaVerify<TUser>)(tokens, done);
      } catch (error) {
        // A falsy throw is still a failure, not "no user".
        done(error || new Error('verify threw'));
        return;
      }
      if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
        (returned as PromiseLike<PersonaVerifyResult<TUser>>).then(
          (user) => done(null, user),
          (error: unknown) => done(error || new Error('verify rejected')),
        );
      }
    });
  }
}
