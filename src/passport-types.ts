/**
 * Type augmentations for the two Passport shapes this strategy extends. They apply as soon as
 * a file of the app imports `passport-withpersona` (the package's declarations reference this
 * file); nothing to opt into. Without `@types/passport` installed they are inert.
 */
declare module 'passport' {
  interface AuthenticateOptions {
    /**
     * `PersonaStrategy`: a same-origin path stored with the state when a flow starts (needs the
     * `state` option) and handed back in `req.authInfo.returnTo` after sign-in.
     */
    returnTo?: string | undefined;
  }
}

declare global {
  namespace Express {
    /** What `PersonaStrategy` puts on `req.authInfo` after a sign-in. */
    interface AuthInfo {
      /** Persona's `Request-Id` of the token exchange, when it sent one. */
      requestId?: string | undefined;
      /** The `returnTo` given to `passport.authenticate` when the flow started, if any. */
      returnTo?: string | undefined;
    }
  }
}

export {};
