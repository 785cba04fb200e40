import { isSafeReturnTo } from '../return-to.js';
import type { PersonaRequest } from '../request.js';

/** Application state that rides along with a flow and comes back on success (`req.authInfo`). */
export interface AppState {
  /** Same-origin relative path to return to after sign-in (see `isSafeReturnTo`). */
  returnTo?: string;
}

/**
 * The outcome of checking a callback's `state`.
 *
 * `in-use` means the state belongs to this request's own browser (it was found in its session,
 * or its cookie) but another callback of the same browser already consumed it: a double click.
 * The strategy then lets the request share that callback's exchange while it is in flight (the
 * same state and the same code), and fails it with 403 otherwise. A store that cannot tell
 * answers `unknown`: a double click then fails its second request.
 */
export type StateVerification =
  | { valid: true; appState: AppState }
  | { valid: false; reason: 'missing' | 'unknown' | 'expired' | 'forged' | 'in-use' };

/**
 * Where CSRF `state` values live between the start of a flow and its callback.
 *
 * `store` creates a new state for a flow, remembering `appState`; `verify` checks a callback's
 * state and consumes it (a second `verify` of the same state must be invalid). Implement this
 * to keep state elsewhere (a database, a cache); both methods may reject, which fails the
 * request with an error (HTTP 500), not a 403.
 */
export interface StateStore {
  /**
   * Creates the state for a new flow started by `req`, remembering `appState`, and resolves to
   * the opaque value sent as the `state` parameter. A rejection errors the request (500).
   */
  store(req: PersonaRequest, appState: AppState): Promise<string>;
  /**
   * Checks the `state` a callback brought back and consumes it: resolves to the flow's
   * `appState` when valid, to the reason otherwise. A rejection errors the request (500).
   */
  verify(req: PersonaRequest, state: string): Promise<StateVerification>;
}

/** Refuses (throws a `TypeError`) an `appState.returnTo` that is not a same-origin relative path. */
export function checkReturnTo(appState: AppState): void {
  if (appState.returnTo !== undefined && !isSafeReturnTo(appState.returnTo)) {
    throw new TypeError('passport-withpersona: returnTo must be a same-origin relative path');
  }
}
