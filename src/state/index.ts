export { attachStateResponse, type RequestLike, type ResponseLike } from './cookies.js';
export { createStateStore } from './create.js';
export type { SessionStateStoreOptions } from './session.js';
export type { SignedStateStoreOptions } from './signed.js';
export type { AppState, StateStore, StateVerification } from './types.js';
