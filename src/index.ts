/**
 * `passport-withpersona`: a Passport strategy for Persona OAuth, with scope helpers, the error
 * type, and the types of CSRF state stores. Every export is listed in the README's "API at a
 * glance" (test/exports.test.ts keeps the two equal).
 *
 * @module passport-withpersona
 */
export {
  PersonaStrategy,
  type PersonaStrategyOptions,
  type PersonaStrategyOptionsWithRequest,
  type PersonaChallenge,
  type PersonaVerify,
  type PersonaVerifyWithRequest,
} from './strategy.js';
export type { PersonaTokenSet } from './token.js';
export {
  hasScope,
  checkScope,
  ScopeError,
  type CheckScopeOptions,
  type PersonaScope,
  type ScopeHolder,
} from './scopes.js';
export {
  PersonaOAuthError,
  isPersonaOAuthError,
  type PersonaOAuthErrorCode,
  type PersonaErrorDetail,
} from './errors.js';
export {
  createCodeExchanger,
  DEFAULT_BASE_URL,
  type CodeExchanger,
  type CodeExchangerOptions,
  type ExchangeOptions,
} from './exchange.js';
export {
  createAuthorization,
  checkShareRequest,
  shareRedirectURL,
  type CreateAuthorizationOptions,
  type PersonaAuthorization,
  type ShareRequest,
} from './owner.js';
export {
  createSharedObjectReader,
  type SharedObjectReader,
  type SharedObjectReaderOptions,
  type SharedReadTokens,
  type ReadSharedOptions,
  type SharedObject,
  type PersonaDocument,
  type PersonaResource,
} from './reads.js';
export {
  requireScope,
  personaErrorHandler,
  type RequireScopeOptions,
  type PersonaErrorHandlerOptions,
} from './middleware.js';
export {
  EXCHANGE_CHANNEL,
  CALL_CHANNEL,
  type ExchangeReport,
  type PersonaCallReport,
} from './diagnostics.js';
export type { PersonaRequest } from './request.js';
export {
  attachStateResponse,
  createStateStore,
  type RequestLike,
  type ResponseLike,
  type SessionStateStoreOptions,
  type SignedStateStoreOptions,
  type AppState,
  type StateStore,
  type StateVerification,
} from './state/index.js';
// Types only: the Passport augmentations (`returnTo` on authenticate's options, `req.authInfo`).
export type {} from './passport-types.js';
