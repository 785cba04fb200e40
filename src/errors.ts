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
  | 'invalid_scope'
  | 'timeout'
  | 'network';

/** One entry of Persona's `errors[]` array, reduced to the parts worth keeping. */
export interface PersonaErrorDetail {
  title: string;
  details?: string;
  pointer?: string;
}

/** What a {@link PersonaOAuthError} is built from. */
export interface PersonaOAuthErrorInit {
  /** HTTP status the application should answer with. */
  status: number;
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

/**
 * Replaces every occurrence of the given secrets, and anything shaped like a Persona access
 * token, with `[REDACTED]`. Secrets shorter than 4 characters are ignored: replacing them would
 * mangle ordinary text without protecting anything.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  // Longest first, so a secret that contains a shorter one is still removed whole.
  const ordered = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  for (const secret of ordered) out = out.split(secret).join(REDACTED);
  return out.replace(ACCESS_TOKEN_PATTERN, REDACTED);
}

/**
 * The one error type this library produces for everything that can go wrong in a Persona
 * authorization-code exchange: a bad callback, a refused code, a Persona failure, a timeout.
 *
 * `code` is stable (see {@link PersonaOAuthErrorCode}); `status` is what the application should
 * answer; `personaStatus`, `requestId`, `personaErrors` and `retryAfter` describe Persona's side
 * when there was one. Messages, `toJSON()` and `util.inspect()` never contain the API key, an
 * authorization code or an access token: they are redacted before the error is built, and the
 * `cause` is summarised rather than dumped.
 */
export class PersonaOAuthError extends Error {
  override readonly name = 'PersonaOAuthError';
  readonly code: PersonaOAuthErrorCode;
  readonly status: number;
  readonly personaStatus: number | undefined;
  readonly requestId: string | undefined;
  readonly personaErrors: PersonaErrorDetail[];
  readonly retryAfter: number | undefined;

  constructor(code: PersonaOAuthErrorCode, message: string, init: PersonaOAuthErrorInit) {
    super(redact(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = init.status;
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
