// Persona's answer to a token request, read: the token set a 2xx carries, or the
// PersonaOAuthError its status means, with Persona's status, Request-Id and errors[] on it.
import type { IncomingHttpHeaders } from 'node:http';
import {
  PersonaOAuthError,
  Redactor,
  redactDetails,
  redactError,
  type PersonaErrorDetail,
  type PersonaOAuthErrorInit,
} from './errors.js';
import { parseTokenResponse, sentAccessToken, TokenResponseError, type PersonaTokenSet } from './token.js';
import { requestIdOf, retryAfter } from './headers.js';
import { TooLarge } from './persona-http.js';

const MAX_PERSONA_ERRORS = 10;
const MAX_ERROR_TEXT = 500;

/** What is known of Persona's side of an exchange so far: it goes on every error about it. */
export interface PersonaContext {
  personaStatus: number | undefined;
  requestId: string | undefined;
}

/** A token response that carries no token set: the error its status or body means. */
export interface Refusal {
  error: PersonaOAuthError;
}

/** One response of the token endpoint, its body read up to the size cap. */
export interface TokenResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer | TooLarge;
}

/** The Request-Id (see {@link requestIdOf}) redacted of any echo of what was sent, or received. */
export function readRequestId(headers: IncomingHttpHeaders, secrets: Redactor | readonly string[]): string | undefined {
  const value = requestIdOf(headers);
  return value === undefined ? undefined : redactorOf(secrets).text(value);
}

function redactorOf(secrets: Redactor | readonly string[]): Redactor {
  return secrets instanceof Redactor ? secrets : new Redactor(secrets);
}

function clip(text: string): string {
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

function readPersonaErrors(raw: Buffer | TooLarge, redactor: Redactor): PersonaErrorDetail[] {
  if (raw instanceof TooLarge) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    return [];
  }
  const list = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(list)) return [];
  const out: PersonaErrorDetail[] = [];
  for (const item of list.slice(0, MAX_PERSONA_ERRORS)) {
    if (item === null || typeof item !== 'object') continue;
    const { title, details, source } = item as { title?: unknown; details?: unknown; source?: unknown };
    if (typeof title !== 'string') continue;
    // Clipped first, so that redaction only ever reads short texts; an echo cut by the clip is
    // still redacted when 12 or more of its characters remain.
    const detail: PersonaErrorDetail = { title: clip(title) };
    if (typeof details === 'string') detail.details = clip(details);
    const pointer = (source as { pointer?: unknown } | null | undefined)?.pointer;
    if (typeof pointer === 'string') detail.pointer = clip(pointer);
    out.push(detail);
  }
  return redactDetails(out, redactor);
}

// Persona's own words about a 400 that mean the request itself, not the code, was refused: the
// version or inflection the app configured, or an Idempotency-Key reused with other parameters.
const REQUEST_FAULT = /persona-version|key-inflection|idempot|grant[-_ ]?type/i;

/**
 * Whether a 400 refused the request itself (the deployment's fault) rather than the code: its
 * errors name a header, the Idempotency-Key or the grant type, and none points at the code.
 */
function refusedRequest(personaErrors: readonly PersonaErrorDetail[]): boolean {
  if (personaErrors.some((e) => /code$/i.test(e.pointer ?? ''))) return false;
  return personaErrors.some((e) => REQUEST_FAULT.test(`${e.title} ${e.details ?? ''} ${e.pointer ?? ''}`));
}

/** What a refusal is built from: Persona's side of the call, its errors[] read and redacted. */
export interface ErrorContext extends PersonaContext {
  personaStatus: number;
  personaErrors: PersonaErrorDetail[];
  retryAfter: number | undefined;
}

/** How messages name a Persona endpoint and what it was asked to do. */
export interface EndpointWords {
  /** "Persona's token endpoint" */
  endpoint: string;
  /** "the token request" */
  request: string;
  /** "issue a token" */
  task: string;
  /** "Persona's token response" */
  response: string;
}

const TOKEN_WORDS: EndpointWords = {
  endpoint: "Persona's token endpoint",
  request: 'the token request',
  task: 'issue a token',
  response: "Persona's token response",
};

// Messages are fixed text: Persona's own words travel only in `personaErrors` (redacted), since
// an app may render a failure's message (`failureMessage: true`).
function tokenRefusal(ctx: ErrorContext, init: PersonaOAuthErrorInit): PersonaOAuthError | undefined {
  const { personaStatus: status } = ctx;
  if (status === 400 && refusedRequest(ctx.personaErrors)) {
    return new PersonaOAuthError(
      'request_rejected',
      "Persona rejected the token request itself (HTTP 400): check personaVersion and keyInflection, and that nothing else sends this exchange's Idempotency-Key; see personaErrors",
      init,
    );
  }
  if (status === 400 || status === 404 || status === 409 || status === 422) {
    return new PersonaOAuthError(
      'invalid_grant',
      `Persona refused the authorization code (HTTP ${status}); it may be expired, already used or issued to another organization`,
      init,
    );
  }
  return undefined;
}

/**
 * The error a non-2xx answer means: what `specific` makes of it for this endpoint, else the
 * meaning every Persona endpoint shares (401 key, 403 permission or quota, 429, redirect, 5xx).
 */
export function refusalFor(
  response: TokenResponse,
  context: PersonaContext & { personaStatus: number },
  secrets: Redactor | readonly string[],
  words: EndpointWords,
  specific: (ctx: ErrorContext, init: PersonaOAuthErrorInit) => PersonaOAuthError | undefined,
): PersonaOAuthError {
  const ctx: ErrorContext = {
    ...context,
    personaErrors: readPersonaErrors(response.body, redactorOf(secrets)),
    retryAfter: retryAfter(response.headers),
  };
  const status = ctx.personaStatus;
  const init = { personaStatus: status, requestId: ctx.requestId, personaErrors: ctx.personaErrors };
  const own = specific(ctx, init);
  if (own) return own;
  if (status === 401) {
    return new PersonaOAuthError('invalid_api_key', 'Persona rejected the API key (HTTP 401)', init);
  }
  if (status === 403) {
    // Persona's 403 is either a missing permission or an exhausted quota: say which when its error does.
    const said = ctx.personaErrors.map((e) => `${e.title} ${e.details ?? ''}`).join(' ');
    const cause = /quota/i.test(said)
      ? 'a Persona quota is exhausted (not a missing permission)'
      : /permission/i.test(said)
        ? 'the API key lacks a permission (OAuth access)'
        : 'the API key may lack OAuth access or a quota is exhausted';
    return new PersonaOAuthError('forbidden', `Persona refused ${words.request} (HTTP 403); ${cause}`, init);
  }
  if (status === 429) {
    return new PersonaOAuthError('rate_limited', 'Persona rate limit exceeded (HTTP 429)', {
      ...init,
      retryAfter: ctx.retryAfter,
    });
  }
  if (status >= 300 && status < 400) {
    // The reader stops at a redirect's headers: nothing is followed.
    const message = `${words.endpoint} answered with a redirect (HTTP ${status}); redirects are not followed`;
    return new PersonaOAuthError('invalid_response', message, init);
  }
  if (status >= 500 && status <= 599) {
    return new PersonaOAuthError('persona_unavailable', `Persona failed to ${words.task} (HTTP ${status})`, init);
  }
  return new PersonaOAuthError('invalid_response', `${words.endpoint} answered with unexpected HTTP ${status}`, init);
}

/** The JSON a 2xx body holds, or the refusal of a body over the cap or not JSON. */
export function readJsonBody(
  body: Buffer | TooLarge,
  context: PersonaContext,
  words: EndpointWords,
  maxResponseBytes: number,
): { json: unknown } | Refusal {
  if (body instanceof TooLarge) {
    const message = `${words.response} is larger than ${maxResponseBytes} bytes`;
    return { error: new PersonaOAuthError('invalid_response', message, context) };
  }
  try {
    return { json: JSON.parse(body.toString('utf8')) };
  } catch {
    return { error: new PersonaOAuthError('invalid_response', `${words.response} is not valid JSON`, context) };
  }
}

/**
 * The token set of a parsed 2xx body with the Request-Id on it, or the parser's refusal wrapped
 * with Persona's context.
 */
function tokensFrom(parsed: unknown, context: PersonaContext): PersonaTokenSet | Refusal {
  let tokens: PersonaTokenSet;
  try {
    tokens = parseTokenResponse(parsed);
  } catch (error) {
    if (!(error instanceof TokenResponseError)) throw error;
    const message = `Persona's token response is invalid: ${error.message}`;
    return { error: new PersonaOAuthError('invalid_response', message, { ...context, cause: error.cause }) };
  }
  if (context.requestId !== undefined) tokens.requestId = context.requestId;
  return tokens;
}

/**
 * Reads a token response: the token set of a 2xx, with the Request-Id on it; otherwise the
 * refusal its status means. `redactor` knows the secrets sent; the access token a body carries
 * joins them, so that the Request-Id and an error about that body redact its echoes too.
 */
export function readTokenResponse(
  response: TokenResponse,
  redactor: Redactor,
  maxResponseBytes: number,
): PersonaTokenSet | Refusal {
  const { status, headers, body } = response;
  if (status < 200 || status >= 300) {
    const context = { personaStatus: status, requestId: readRequestId(headers, redactor) };
    return { error: refusalFor(response, context, redactor, TOKEN_WORDS, tokenRefusal) };
  }
  const read = readJsonBody(body, { personaStatus: status, requestId: undefined }, TOKEN_WORDS, maxResponseBytes);
  // The Request-Id is read once, with the access token the body carries among the secrets.
  const accessToken = 'json' in read ? sentAccessToken(read.json) : undefined;
  const secrets = accessToken === undefined ? redactor : redactor.with([accessToken]);
  const context = { personaStatus: status, requestId: readRequestId(headers, secrets) };
  if ('error' in read) return { error: new PersonaOAuthError(read.error.code, read.error.message, context) };
  const result = tokensFrom(read.json, context);
  return 'error' in result ? { error: redactError(result.error, secrets) } : result;
}
