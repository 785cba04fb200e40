// The data owner's side (Org A). In real life this is another organisation's web app; here it is
// simulated with the emulator's owner API key. It only ever talks to Persona over HTTP, exactly
// as Org A would: Create Authorization (POST /api/v1/oauth/authorize) with its own key, through
// the package's createAuthorization; the share request's checks and the way back are the
// package's checkShareRequest and shareRedirectURL.
import express from 'express';
import { checkShareRequest, createAuthorization, isPersonaOAuthError, shareRedirectURL } from 'passport-withpersona';
import { csrfToken, noStore, validCsrf } from './security.mjs';
import { problemPage, sendPage as page, sharePage } from './views.mjs';

// What the share form offers, each kind with the permission that reads it.
const SHAREABLE = [
  { field: 'inquiry', permission: 'inquiry.read', list: (owner) => owner.inquiries() },
  { field: 'verification', permission: 'verification.read', list: (owner) => owner.verifications?.() ?? [] },
];

/**
 * The share form's picks as scope entries, or the problem to show: nothing picked, or an id
 * that is not the owner's (of that kind).
 */
function readChoice(body, owner, site) {
  const scopes = [];
  const selected = [];
  let unknown = 0;
  for (const kind of SHAREABLE) {
    const known = new Set(kind.list(owner).map((object) => object.id));
    const picked = [...new Set([body[kind.field] ?? []].flat().filter((id) => typeof id === 'string'))];
    for (const id of picked) {
      if (!known.has(id)) unknown += 1;
      else {
        selected.push(id);
        scopes.push(`${kind.permission}:${id}`);
      }
    }
  }
  if (selected.length === 0 && unknown === 0) {
    return { scopes, selected, problem: 'Pick at least one inquiry or verification to share, or decline.' };
  }
  if (unknown > 0) {
    const which = unknown === 1 ? 'One of the chosen items is' : 'Some chosen items are';
    return { scopes, selected, problem: `${which} not ${site.ownerName}'s.` };
  }
  return { scopes, selected };
}

/**
 * The owner's routes: GET /owner/share (the form) and POST /owner/share (create the
 * authorization, or decline). The browser is only ever sent back to `callbackURL`, the
 * recipient's registered callback: any other redirect_uri is refused, so the page cannot be
 * used as an open redirect or to send a code to someone else.
 */
export function ownerRouter({ owner, site, callbackURL, dispatcher, log }) {
  const router = express.Router();
  const problem = (res, status, fields) => page(res, status, problemPage({ site, side: 'owner', ...fields }));

  /**
   * Checks redirect_uri and state: gives both back when they are right; otherwise answers the
   * problem page and gives nothing.
   * @param {import('express').Response} res
   * @param {unknown} redirectUri
   * @param {unknown} state
   * @returns {import('passport-withpersona').ShareRequest | undefined}
   */
  function checkRequest(res, redirectUri, state) {
    const checked = checkShareRequest({ redirect_uri: redirectUri, state }, [callbackURL]);
    if (checked.error === 'invalid_redirect_uri') {
      problem(res, 400, {
        title: 'Unknown return address',
        message: `This share request asks to send the result to an address that is not ${site.recipientName}'s registered callback. Nothing was shared and you were not redirected.`,
        hint: 'Start again from the recipient’s page.',
        code: 'invalid_redirect_uri',
      });
      return undefined;
    }
    if (checked.error !== undefined) {
      problem(res, 400, {
        title: 'Incomplete share request',
        message: `This share request has no valid state, so ${site.recipientName} could not check where it came from. Nothing was shared.`,
        code: 'invalid_request',
      });
      return undefined;
    }
    return { redirectUri: checked.redirectUri, state: checked.state };
  }

  /**
   * @param {import('express').Request} req
   * @param {import('express').Response} res
   * @param {number} status
   * @param {{ state: string, redirectUri: string, error?: string, selected?: readonly string[] }} form
   */
  const renderForm = (req, res, status, { state, redirectUri, error, selected }) =>
    page(
      res,
      status,
      sharePage({
        site,
        inquiries: owner.inquiries(),
        verifications: owner.verifications?.() ?? [],
        state,
        redirectUri,
        csrfToken: csrfToken(req),
        error,
        selected,
      }),
    );

  router.get('/owner/share', noStore, (req, res) => {
    const checked = checkRequest(res, req.query.redirect_uri, req.query.state);
    if (checked) renderForm(req, res, 200, checked);
  });

  router.post(
    '/owner/share',
    noStore,
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 200 }),
    async (req, res) => {
      const body = req.body ?? {};
      const checked = checkRequest(res, body.redirect_uri, body.state);
      if (!checked) return;
      const { redirectUri, state } = checked;
      if (!validCsrf(req)) {
        return problem(res, 403, {
          title: 'This form has expired',
          message: 'The share form was not sent from this browser session (or the session ended). Nothing was shared.',
          hint: 'Start again from the recipient’s page.',
          code: 'invalid_csrf',
        });
      }

      const decision = body.decision;
      if (decision === 'decline') return res.redirect(303, shareRedirectURL(checked, { error: 'access_denied' }));
      if (decision !== 'share') {
        return problem(res, 400, {
          title: 'Unknown choice',
          message: 'Choose “Share selected inquiries” or “Decline”.',
        });
      }

      const { scopes, selected, problem: choiceProblem } = readChoice(body, owner, site);
      if (choiceProblem) return renderForm(req, res, 422, { state, redirectUri, selected, error: choiceProblem });

      let code;
      try {
        ({ code } = await createAuthorization({
          apiKey: owner.apiKey,
          baseURL: owner.baseURL,
          clientId: owner.recipientOrgId,
          scope: scopes.join(' '),
          dispatcher,
        }));
      } catch (error) {
        if (!isPersonaOAuthError(error)) throw error;
        log('owner: Create Authorization failed', error);
        return problem(res, 502, {
          title: 'Persona did not create the authorization',
          message: `${site.ownerName} could not create the authorization (${error.code}). Nothing was shared.`,
          hint: 'Try again in a moment.',
          code: error.code,
          requestId: error.requestId,
        });
      }
      res.redirect(303, shareRedirectURL(checked, { code }));
    },
  );

  return router;
}
