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
  type PersonaAuthenticateOptions,
  type PersonaAuthInfo,
  type PersonaChallenge,
  type PersonaVerify,
  type PersonaVerifyWithRequest,
  type PersonaVerifyCallback,
  type PersonaVerifyResult,
} from './strategy.js';
export type { PersonaTokenSet } from './token.js';
export {
  parseScopes,
  formatScopes,
  hasScope,
  type PersonaScope,
  type PersonaScopeLike,
  type ScopeHolder,
} from './scopes.js';
export {
  PersonaOAuthError,
  isPersonaOAuthError,
  redact,
  type PersonaOAuthErrorCode,
  type PersonaErrorDetail,
  type PersonaOAuthErrorInit,
} from './errors.js';
export {
  createCodeExchanger,
  DEFAULT_BASE_URL,
  type CodeExchanger,
  type CodeExchangerOptions,
  type ExchangeOptions,
  type KeyInflection,
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
export { isSafeReturnTo } from './return-to.js';
export {
  requireScope,
  ScopeError,
  personaErrorHandler,
  type RequireScopeOptions,
  type ScopedRequest,
  type ExpiringScopeHolder,
  type Middleware,
  type PersonaErrorHandlerOptions,
} from './middleware.js';
export {
  EXCHANGE_CHANNEL,
  CALL_CHANNEL,
  type ExchangeReport,
  type PersonaCallReport,
} from './diagnostics.js';
export type { PersonaRequest } from './request.js';
export type { SignedStateStoreOptions, AppState, StateStore, StateVerification } from './state/index.js';
export { VERSION } from './version.js';
// Types only: the Passport augmentations (`returnTo` on authenticate's options, `req.authInfo`).
export type {} from './passport-types.js';
