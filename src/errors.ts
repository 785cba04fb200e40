import { inspect } from 'node:util';

/**
 * The stable machine-readable codes a {@link PersonaOAuthError} carries.
 *
 * They never change meaning between releases; match on them rather than on messages.
 */
export type PersonaOAuthErrorCode =
  | 'invalid_request'
  | 'invalid_state'
  | 'access_denied'
  | 'authorization_error'
  | 'invalid_grant'
  | 'invalid_api_key'
  | 'forbidden'
  | 'rate_limited'
  | 'persona_unavailable'
  | 'invalid_response'
  | 'timeout'
  | 'network';

// The codes of requireScope's ScopeError (declared there; errors.ts must not import it).
type ScopeErrorCode = 'unauthenticated' | 'token_expired' | 'insufficient_scope';

/**
 * The HTTP status every code stands for: what the application should answer. The one place a
 * status is decided; errors and challenges read it here.
 */
export const STATUS_OF = {
  // The callback's own input: the browser's request is at fault.
  invalid_request: 400,
  invalid_state: 403,
  access_denied: 403,
  authorization_error: 400,
  // Persona refused the code: the person needs a new link.
  invalid_grant: 401,
  // The app's own configuration (its key, its access): nothing the person can fix.
  invalid_api_key: 500,
  forbidden: 500,
  // Persona or the way to it failed.
  rate_limited: 503,
  persona_unavailable: 502,
  invalid_response: 502,
  timeout: 504,
  network: 502,
  // requireScope
  unauthenticated: 401,
  token_expired: 401,
  insufficient_scope: 403,
  // verify gave no user (a challenge only)
  verify_rejected: 401,
} as const satisfies Record<PersonaOAuthErrorCode | ScopeErrorCode | 'verify_rejected', number>;

/** One entry of Persona's `errors[]` array, reduced to the parts worth keeping. */
export interface PersonaErrorDetail {
  title: string;
  details?: string;
  pointer?: string;
}

/** What a {@link PersonaOAuthError} is built from, beyond its code and message. */
export interface PersonaOAuthErrorInit {
  /** The HTTP status Persona answered with, when the error comes from a Persona response. */
  personaStatus?: number;
  /** Persona's `Request-Id` response header, when sent: what Persona support asks for. */
  requestId?: string;
  /** Persona's `errors[]` titles and details (already redacted). */
  personaErrors?: PersonaErrorDetail[];
  /** Seconds to wait before trying again, when known (rate limiting). */
  retryAfter?: number;
  /** The underlying error, if any. */
  cause?: unknown;
}

const REDACTED = '[REDACTED]';
const ACCESS_TOKEN_PATTERN = /persona_access_token_[A-Za-z0-9_-]+/g;
/** A run of this many consecutive characters of a secret is redacted wherever it appears. */
const MIN_ECHO = 12;

// Marks in `covered` every place `text` holds a piece of `secret`: any run of MIN_ECHO or more
// of its characters (Persona may echo a key minus a character, or its first 20), or the whole
// of a secret too short for that.
function markEchoes(text: string, secret: string, covered: Uint8Array): void {
  if (secret.length < MIN_ECHO) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
      covered.fill(1, at, at + secret.length);
    }
    return;
  }
  // A run of MIN_ECHO or more is exactly a chain of overlapping MIN_ECHO-character windows of the
  // secret, so checking each window of the text finds all of them. Texts are short here (a
  // Request-Id, clipped error texts), so a plain search per window is cheap enough.
  for (let i = 0; i + MIN_ECHO <= text.length; i += 1) {
    if (secret.includes(text.slice(i, i + MIN_ECHO))) covered.fill(1, i, i + MIN_ECHO);
  }
}

/**
 * Replaces every echo of the given secrets, and anything shaped like a Persona access token,
 * with `[REDACTED]`. An echo is any run of 12 or more consecutive characters of a secret (so a
 * key minus its last character, or its first 20, is caught), or the whole of a secret of 4 to 11
 * characters. Secrets shorter than 4 characters are ignored: replacing them would mangle
 * ordinary text without protecting anything. Text holding no echo comes back unchanged.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  const usable = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  let out = text;
  if (usable.length > 0) {
    const covered = new Uint8Array(text.length);
    for (const secret of usable) markEchoes(text, secret, covered);
    out = '';
    for (let i = 0; i < text.length; ) {
      const start = i;
      const hidden = covered[i] === 1;
      while (i < text.length && (covered[i] === 1) === hidden) i += 1;
      out += hidden ? REDACTED : text.slice(start, i);
    }
  }
  return out.replace(ACCESS_TOKEN_PATTERN, REDACTED);
}

function redactCause(cause: unknown, secrets: readonly (string | undefined)[]): unknown {
  if (cause === undefined || cause === null) return cause;
  if (cause instanceof PersonaOAuthError) return redactError(cause, secrets);
  if (!(cause instanceof Error)) return redact(String(cause), secrets);
  const { message, stack } = cause;
  if (redact(message, secrets) === message && (stack === undefined || redact(stack, secrets) === stack)) return cause;
  // A foreign error that echoes a secret: keep a summary (name, code, redacted message).
  const summary = new Error(redact(message, secrets));
  summary.name = cause.name;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(summary, { code });
  return summary;
}

/**
 * A copy of `error` with every echo of `secrets` redacted (see {@link redact}): its message,
 * Persona's `errors[]`, the Request-Id, and the cause chain, so that the message, `toJSON()`,
 * `util.inspect()`, the stack and `err.cause` all carry none. Used on error paths only.
 */
export function redactError(error: PersonaOAuthError, secrets: readonly (string | undefined)[]): PersonaOAuthError {
  const clean = (text: string): string => redact(text, secrets);
  return new PersonaOAuthError(error.code, clean(error.message), {
    personaStatus: error.personaStatus,
    requestId: error.requestId === undefined ? undefined : clean(error.requestId),
    personaErrors: error.personaErrors.map((detail) => {
      const copy: PersonaErrorDetail = { title: clean(detail.title) };
      if (detail.details !== undefined) copy.details = clean(detail.details);
      if (detail.pointer !== undefined) copy.pointer = clean(detail.pointer);
      return copy;
    }),
    retryAfter: error.retryAfter,
    cause: redactCause(error.cause, secrets),
  });
}

/**
 * The one error type this library produces for everything that can go wrong in a Persona
 * authorization-code exchange: a bad callback, a refused code, a Persona failure, a timeout.
 *
 * `code` is stable (see {@link PersonaOAuthErrorCode}); `status` (and `statusCode`, the same
 * number) is what the application should answer, decided by the code (the README's Errors
 * table), and `expose` is true for a 4xx; `personaStatus`, `requestId`, `personaErrors` and `retryAfter` describe Persona's side
 * when there was one. Messages, `toJSON()` and `util.inspect()` never contain the API key, an
 * authorization code or an access token: they are redacted before the error is built, and the
 * `cause` is summarised rather than dumped.
 */
export class PersonaOAuthError extends Error {
  override readonly name = 'PersonaOAuthError';
  readonly code: PersonaOAuthErrorCode;
  readonly status: number;
  /**
   * The same as `status`, under the name NestJS's default exception filter, Fastify and Koa
   * read, so their default error handlers answer 4xx/502/503/504 as Express does.
   */
  readonly statusCode: number;
  /**
   * True for a 4xx, false for a 5xx, as http-errors sets it: Koa's and other default handlers
   * send the message only when it is true. The message holds no secret either way.
   */
  readonly expose: boolean;
  readonly personaStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly personaErrors: PersonaErrorDetail[];
  readonly retryAfter: number | undefined;

  constructor(code: PersonaOAuthErrorCode, message: string, init: PersonaOAuthErrorInit = {}) {
    super(redact(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = STATUS_OF[code];
    this.statusCode = this.status;
    this.expose = this.status < 500;
    this.personaStatus = init.personaStatus;
    this.requestId = init.requestId;
    this.personaErrors = (init.personaErrors ?? []).map((e) => ({ ...e }));
    this.retryAfter = init.retryAfter;
    // Keep `cause` off enumerable output so JSON and inspect never walk into a third-party
    // object we do not control.
    if (init.cause !== undefined) Object.defineProperty(this, 'cause', { enumerable: false });
  }

  /** A JSON shape safe to log or send: no secrets, no cause internals. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      statusCode: this.statusCode,
      expose: this.expose,
      personaStatus: this.personaStatus,
      requestId: this.requestId,
      personaErrors: this.personaErrors,
      retryAfter: this.retryAfter,
    };
  }

  /**
   * What `util.inspect` and `console.log` print: the stack, the fields of {@link toJSON}, and
   * of the cause only its name and code.
   */
  [inspect.custom](): string {
    const cause = this.cause as { code?: unknown; name?: unknown } | undefined;
    const causeText =
      cause === undefined
        ? ''
        : `\n  cause: ${typeof cause.name === 'string' ? cause.name : 'Error'}${
            typeof cause.code === 'string' ? ` (${cause.code})` : ''
          }`;
    const fields = JSON.stringify(this.toJSON(), null, 2);
    return `${this.stack ?? `${this.name}: ${this.message}`}\n${fields}${causeText}`;
  }
}

/** True when `value` is a {@link PersonaOAuthError} (also across duplicated package copies). */
export function isPersonaOAuthError(value: unknown): value is PersonaOAuthError {
  return (
    value instanceof PersonaOAuthError ||
    (value instanceof Error && value.name === 'PersonaOAuthError' && 'code' in value && 'status' in value)
  );
}
