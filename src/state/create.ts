import { attachStateResponse } from './cookies.js';
import { SessionStateStore, type SessionStateStoreOptions } from './session.js';
import { SignedStateStore, type SignedStateStoreOptions } from './signed.js';
import { checkReturnTo, type StateStore } from './types.js';

/**
 * The state store the strategy's `state` option makes, for apps that call
 * `createCodeExchanger` without Passport: `true` (or `{ session: { ttlSeconds, maxFlows, key } }`)
 * for session-backed state (`req.session`, any session library), `{ signed: { secrets } }` for
 * stateless signed state. Call `store(req, appState)` at the start of a flow (it resolves to the
 * `state` parameter; it rejects with a `TypeError` an `appState.returnTo` that is not a
 * same-origin relative path) and `verify(req, state)` on the callback, before exchanging the
 * code; a valid state is consumed. On Fastify and `node:http`, signed state needs
 * {@link attachStateResponse}.
 *
 * @throws {TypeError} for any other value, or invalid signed-state options (see
 * {@link SignedStateStoreOptions}).
 */
export function createStateStore(
  option: true | { session: SessionStateStoreOptions } | { signed: SignedStateStoreOptions },
): StateStore {
  const inner = storeFor(option);
  return {
    store: async (req, appState) => {
      checkReturnTo(appState);
      return inner.store(req, appState);
    },
    verify: (req, state) => inner.verify(req, state),
  };
}

/** The store behind an option of `state` (the strategy checks `returnTo` itself, first). */
export function storeFor(option: unknown): StateStore {
  if (option === true) return new SessionStateStore();
  if (typeof option === 'object' && option !== null && 'signed' in option) {
    return new SignedStateStore((option as { signed: SignedStateStoreOptions }).signed);
  }
  if (typeof option === 'object' && option !== null && 'session' in option) {
    return new SessionStateStore((option as { session: SessionStateStoreOptions }).session);
  }
  throw new TypeError(
    'passport-withpersona: createStateStore takes true, { session: { … } } or { signed: { secrets } }',
  );
}
