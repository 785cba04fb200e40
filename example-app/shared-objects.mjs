// The objects the recipient reads with its access token: inquiries and verifications. One route
// handler for both, since they differ only in their path, their JSON:API type and their page.
import { request } from 'undici';
import { inquiryPage, sendPage as send, verificationPage } from './views.mjs';

const PERSONA_TIMEOUT_MS = 10_000;
const MAX_OBJECT_BYTES = 256 * 1024;

/** Inquiries: `GET /api/v1/inquiries/:id`, JSON:API type `inquiry`. */
export const INQUIRIES = {
  path: 'inquiries',
  noun: 'inquiry',
  matches: (data) => data.type === 'inquiry',
  page: (site, data, requestId) => inquiryPage({ site, inquiry: data, requestId }),
};

/** Verifications: `GET /api/v1/verifications/:id`, JSON:API type `verification/<type>`. */
export const VERIFICATIONS = {
  path: 'verifications',
  noun: 'verification',
  matches: (data) => typeof data.type === 'string' && data.type.startsWith('verification/'),
  page: (site, data, requestId) => verificationPage({ site, verification: data, requestId }),
};

/** The object as Persona answered it: `{ status, requestId, data? }`, or throws when Persona is unreachable. */
async function fetchObject(kind, id, accessToken, { personaBaseURL, dispatcher, log }) {
  const url = `${personaBaseURL.replace(/\/+$/, '')}/api/v1/${kind.path}/${encodeURIComponent(id)}`;
  const response = await request(url, {
    method: 'GET',
    dispatcher,
    headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json', 'key-inflection': 'kebab' },
    headersTimeout: PERSONA_TIMEOUT_MS,
    bodyTimeout: PERSONA_TIMEOUT_MS,
    signal: AbortSignal.timeout(PERSONA_TIMEOUT_MS),
  });
  const requestId = typeof response.headers['request-id'] === 'string' ? response.headers['request-id'] : undefined;
  let text = '';
  try {
    text = await readCapped(response.body, MAX_OBJECT_BYTES);
  } catch (error) {
    log(`${kind.noun}: unreadable answer`, error);
  }
  let data;
  try {
    data = JSON.parse(text)?.data;
  } catch {
    data = undefined;
  }
  const valid = response.statusCode === 200 && data && kind.matches(data) && data.id === id;
  return { status: response.statusCode, requestId, data: valid ? data : undefined };
}

/**
 * The route handler for one kind of shared object (after `requireScope` let the request through):
 * its page, or a page saying why not (reconnect, not shared, not found, Persona busy or down).
 */
export function showSharedObject(kind, { site, problem, reconnect, notShared, personaBaseURL, dispatcher, log }) {
  return async (req, res) => {
    const id = req.params.id;
    let answer;
    try {
      answer = await fetchObject(kind, id, req.user.accessToken, { personaBaseURL, dispatcher, log });
    } catch (error) {
      log(`${kind.noun}: Persona unreachable`, error);
      return problem(req, res, 502, {
        title: 'Persona is unavailable',
        message: `Persona could not be reached to read this ${kind.noun}.`,
        hint: 'Try again in a moment.',
        code: 'network',
        startAgain: false,
      });
    }
    const { status, requestId, data } = answer;
    if (data) return send(res, 200, kind.page(site, data, requestId));
    if (status === 401) return reconnect(req, res);
    if (status === 403) return notShared(req, res, id, kind.noun);
    const page = { requestId, startAgain: false };
    if (status === 404) {
      return problem(req, res, 404, {
        ...page,
        title: `No such ${kind.noun}`,
        message: `Persona has no ${kind.noun} ${id}.`,
        code: 'not_found',
        backToProfile: true,
      });
    }
    if (status === 429) {
      return problem(req, res, 503, {
        ...page,
        title: 'Persona is busy',
        message: 'Persona is rate limiting requests right now.',
        hint: 'Wait a minute, then try again.',
        code: 'rate_limited',
      });
    }
    return problem(req, res, 502, {
      ...page,
      title: 'Persona is unavailable',
      message: `Persona could not give this ${kind.noun} (HTTP ${status}).`,
      hint: 'Try again in a moment.',
      code: 'persona_unavailable',
    });
  };
}

async function readCapped(body, limit) {
  const chunks = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new Error(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
