export { SessionStateStore, type SessionStateStoreOptions } from './session.js';
export { SignedStateStore, type SignedStateStoreOptions } from './signed.js';
export type { AppState, StateStore, StateVerification } from './types.js';
