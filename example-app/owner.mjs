// The data owner's side (Org A). In real life this is another organisation's web app; here it is
// simulated with the emulator's owner API key. It only ever talks to Persona over HTTP, exactly
// as Org A would: Create Authorization (POST /api/v1/oauth/authorize) with its own key.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { request } from 'undici';
import { csrfToken, noStore, validCsrf } from './security.mjs';
import { problemPage, sendPage as page, sharePage } from './views.mjs';

const MAX_STATE_LENGTH = 512;
const PERSONA_TIMEOUT_MS = 10_000;

/** A failed Create Authorization call, with what Persona said. */
export class CreateAuthorizationError extends Error {
  /**
   * @param {string} message
   * @param {{ status?: number, requestId?: string, cause?: unknown }} [persona] what Persona answered
   */
  constructor(message, { status, requestId, cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = 'CreateAuthorizationError';
    this.personaStatus = status;
    this.requestId = requestId;
  }
}

/**
 * Calls Persona's Create Authorization as Org A: its API key, the recipient's organisation id as
 * `client-id`, and `scopes` (`inquiry.read:<id>`, `verification.read:<id>`…) as `scope`.
 * Resolves to the code.
 */
export async function createAuthorization({ baseURL, apiKey, clientId, scopes, dispatcher }) {
  const url = `${String(baseURL).replace(/\/+$/, '')}/api/v1/oauth/authorize`;
  const scope = scopes.join(' ');
  let response;
  try {
    response = await request(url, {
      method: 'POST',
      dispatcher,
      headers: {
        authorization: `Bearer ${apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        'key-inflection': 'kebab',
        'idempotency-key': randomUUID(),
      },
      body: new URLSearchParams({ 'client-id': clientId, 'response-type': 'code', scope }).toString(),
      headersTimeout: PERSONA_TIMEOUT_MS,
      bodyTimeout: PERSONA_TIMEOUT_MS,
      signal: AbortSignal.timeout(PERSONA_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new CreateAuthorizationError('Persona could not be reached', { cause });
  }
  const requestId = typeof response.headers['request-id'] === 'string' ? response.headers['request-id'] : undefined;
  let text = '';
  try {
    text = await response.body.text();
  } catch (cause) {
    throw new CreateAuthorizationError('Persona’s answer was cut off', {
      status: response.statusCode,
      requestId,
      cause,
    });
  }
  if (response.statusCode < 200 || response.statusCode > 299) {
    let detail = '';
    try {
      const first = JSON.parse(text)?.errors?.[0];
      if (first && typeof first.title === 'string') {
        detail = `: ${first.title}${first.details ? ` (${first.details})` : ''}`;
      }
    } catch {
      // Not JSON: the status says enough.
    }
    throw new CreateAuthorizationError(`Persona answered ${response.statusCode}${detail}`.slice(0, 300), {
      status: response.statusCode,
      requestId,
    });
  }
  let code;
  try {
    code = JSON.parse(text)?.code;
  } catch {
    code = undefined;
  }
  if (typeof code !== 'string' || code === '') {
    throw new CreateAuthorizationError('Persona’s answer had no code', { status: response.statusCode, requestId });
  }
  return code;
}

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

function single(value) {
  return typeof value === 'string' ? value : undefined;
}

/**
 * @param {unknown} state
 * @returns {state is string}
 */
function validState(state) {
  return (
    typeof state === 'string' && state.length > 0 && state.length <= MAX_STATE_LENGTH && /^[\x21-\x7e]+$/.test(state)
  );
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
   * @param {string | undefined} redirectUri
   * @param {string | undefined} state
   * @returns {{ redirectUri: string, state: string } | undefined}
   */
  function checkRequest(res, redirectUri, state) {
    if (redirectUri === undefined || redirectUri !== callbackURL) {
      problem(res, 400, {
        title: 'Unknown return address',
        message: `This share request asks to send the result to an address that is not ${site.recipientName}'s registered callback. Nothing was shared and you were not redirected.`,
        hint: 'Start again from the recipient’s page.',
        code: 'invalid_redirect_uri',
      });
      return undefined;
    }
    if (!validState(state)) {
      problem(res, 400, {
        title: 'Incomplete share request',
        message: `This share request has no valid state, so ${site.recipientName} could not check where it came from. Nothing was shared.`,
        code: 'invalid_request',
      });
      return undefined;
    }
    return { redirectUri, state };
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
    const checked = checkRequest(res, single(req.query.redirect_uri), single(req.query.state));
    if (checked) renderForm(req, res, 200, checked);
  });

  router.post(
    '/owner/share',
    noStore,
    express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 200 }),
    async (req, res) => {
      const body = req.body ?? {};
      const checked = checkRequest(res, single(body.redirect_uri), single(body.state));
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

      const back = new URL(callbackURL);
      back.searchParams.set('state', state);
      const decision = single(body.decision);
      if (decision === 'decline') {
        back.searchParams.set('error', 'access_denied');
        return res.redirect(303, back.toString());
      }
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
        code = await createAuthorization({
          baseURL: owner.baseURL,
          apiKey: owner.apiKey,
          clientId: owner.recipientOrgId,
          scopes,
          dispatcher,
        });
      } catch (caught) {
        const error = /** @type {CreateAuthorizationError} */ (caught);
        log('owner: Create Authorization failed', error);
        return problem(res, 502, {
          title: 'Persona did not create the authorization',
          message: `${site.ownerName} could not create the authorization: ${error.message}. Nothing was shared.`,
          hint: 'Try again in a moment.',
          code: error.personaStatus ? `persona_${error.personaStatus}` : 'persona_unreachable',
          requestId: error.requestId,
        });
      }
      back.searchParams.set('code', code);
      res.redirect(303, back.toString());
    },
  );

  return router;
}
