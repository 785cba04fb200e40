// The objects the recipient reads with its access token: inquiries and verifications. One route
// handler for both, since they differ only in their type and their page. Every read goes through
// the package's shared-object reader, which refuses an expired token or an object outside the
// scope before calling Persona.
import { isPersonaOAuthError } from 'passport-withpersona';
import { inquiryPage, sendPage as send, verificationPage } from './views.mjs';

/** Inquiries: `GET /api/v1/inquiries/:id`, JSON:API type `inquiry`. */
export const INQUIRIES = {
  type: 'inquiry',
  noun: 'inquiry',
  page: (site, data, requestId) => inquiryPage({ site, inquiry: data, requestId }),
};

/** Verifications: `GET /api/v1/verifications/:id`, JSON:API type `verification/<type>`. */
export const VERIFICATIONS = {
  type: 'verification',
  noun: 'verification',
  page: (site, data, requestId) => verificationPage({ site, verification: data, requestId }),
};

/**
 * The route handler for one kind of shared object (after `requireScope` let the request through):
 * its page, or a page saying why not (reconnect, not shared, Persona busy or down).
 * `reader` is the app's `createSharedObjectReader()`.
 */
export function showSharedObject(kind, { site, problem, reconnect, notShared, reader, log }) {
  return async (req, res) => {
    const id = req.params.id;
    let shared;
    try {
      shared = await reader.read(req.user, kind.type, id);
    } catch (error) {
      if (!isPersonaOAuthError(error)) throw error;
      log(`${kind.noun}: ${error.code}`, error);
      if (error.code === 'token_expired') return reconnect(req, res);
      if (error.code === 'insufficient_scope') return notShared(req, res, id, kind.noun);
      const page = { code: error.code, requestId: error.requestId, startAgain: false };
      if (error.code === 'rate_limited') {
        if (error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
        return problem(req, res, 503, {
          ...page,
          title: 'Persona is busy',
          message: 'Persona is rate limiting requests right now.',
          hint: 'Wait a minute, then try again.',
        });
      }
      const said = error.personaStatus === undefined ? 'unreachable' : `HTTP ${error.personaStatus}`;
      return problem(req, res, 502, {
        ...page,
        title: 'Persona is unavailable',
        message: `Persona could not give this ${kind.noun} (${said}).`,
        hint: 'Try again in a moment.',
      });
    }
    return send(res, 200, kind.page(site, shared.document.data, shared.requestId));
  };
}
