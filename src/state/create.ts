import { attachStateResponse } from './cookies.js';
import { SessionStateStore } from './session.js';
import { SignedStateStore, type SignedStateStoreOptions } from './signed.js';
import type { StateStore } from './types.js';

/**
 * The state store the strategy's `state` option makes, for apps that call
 * `createCodeExchanger` without Passport: `true` for session-backed state (`req.session`, any
 * session library), `{ signed: { secrets } }` for stateless signed state. Call
 * `store(req, appState)` at the start of a flow (it resolves to the `state` parameter) and
 * `verify(req, state)` on the callback, before exchanging the code; a valid state is consumed.
 * Check `appState.returnTo` with `isSafeReturnTo` before storing it: the strategy does, the
 * store does not. On Fastify and `node:http`, signed state needs {@link attachStateResponse}.
 *
 * @throws {TypeError} for any other value, or invalid signed-state options (see
 * {@link SignedStateStoreOptions}).
 */
export function createStateStore(option: true | { signed: SignedStateStoreOptions }): StateStore {
  if (option === true) return new SessionStateStore();
  if (typeof option === 'object' && option !== null && 'signed' in option) return new SignedStateStore(option.signed);
  throw new TypeError('passport-withpersona: createStateStore takes true or { signed: { secrets } }');
}
