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
  | 'request_rejected'
  | 'rate_limited'
  | 'persona_unavailable'
  | 'invalid_response'
  | 'timeout'
  | 'network'
  | 'closed'
  | 'aborted'
  | 'token_expired'
  | 'insufficient_scope';

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
  // A 400 about the request itself (Persona-Version, Key-Inflection, Idempotency-Key).
  request_rejected: 500,
  // Persona or the way to it failed.
  rate_limited: 503,
  persona_unavailable: 502,
  invalid_response: 502,
  timeout: 504,
  network: 502,
  // The call was ended on this side: close() (shutting down), or the caller's own signal.
  closed: 503,
  aborted: 503,
  // requireScope, and a read of a shared object: connect again (401), or not shared (403).
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

const REDACTED = '[REDACTED]';
const ACCESS_TOKEN_PATTERN = /persona_access_token_[A-Za-z0-9_-]+/gi;
/** A run of this many letters and digits of a secret is redacted wherever it appears. */
const MIN_ECHO = 12;
// Between two fields of one text set, so that a run is matched across them but never replaced
// across them. Dropped by folding, like every character that is not a letter or a digit.
const FIELD_BREAK = '\u0000';

/** Letters in lower case, and nothing but letters and digits. */
function fold(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * What an echo of `secret` may look like once folded: the secret itself (so any case, and any
 * separators or invisible characters slipped between its characters), its UTF-8 bytes in hex
 * (percent-encoding folds to the same), and in base64 or base64url from each of the three byte
 * alignments (so a piece cut anywhere is found).
 */
function echoForms(secret: string): string {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = [0, 1, 2].map((skip) => bytes.subarray(skip).toString('base64'));
  return [fold(secret), bytes.toString('hex'), ...base64.map(fold)].join('\n');
}

/**
 * Redacts echoes of a fixed set of secrets (see {@link redact}); the forms of each secret are
 * worked out once, when it is made.
 */
export class Redactor {
  readonly #forms: string;
  readonly #literal: string;
  readonly #short: string[];

  constructor(secrets: readonly (string | undefined)[], base?: Redactor) {
    const usable = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
    const forms = usable.filter((s) => fold(s).length >= MIN_ECHO).map(echoForms);
    const literal = usable.filter((s) => s.length >= MIN_ECHO);
    this.#forms = (base ? [base.#forms, ...forms] : forms).filter((f) => f !== '').join('\n');
    this.#literal = (base ? [base.#literal, ...literal] : literal).filter((f) => f !== '').join('\n');
    this.#short = [...(base ? base.#short : []), ...usable.filter((s) => s.length < MIN_ECHO)];
  }

  /** A redactor for these secrets and `more`, reusing the forms already worked out. */
  with(more: readonly (string | undefined)[]): Redactor {
    return new Redactor(more, this);
  }

  /** `text` with every echo replaced by `[REDACTED]`; unchanged when it holds none. */
  text(text: string): string {
    return this.texts([text])[0] as string;
  }

  /**
   * Each of `texts` redacted, where an echo is also found when it is split between them (Persona's
   * title, details and pointer of one error, read together).
   */
  texts(texts: readonly string[]): string[] {
    const joined = texts.join(FIELD_BREAK);
    const covered = new Uint8Array(joined.length);
    this.#markFolded(joined, covered);
    // Runs of MIN_ECHO characters as they are, separators included (`…_Zq8`).
    for (let i = 0; this.#literal !== '' && i + MIN_ECHO <= joined.length; i += 1) {
      if (this.#literal.includes(joined.slice(i, i + MIN_ECHO))) covered.fill(1, i, i + MIN_ECHO);
    }
    for (const secret of this.#short) {
      for (let at = joined.indexOf(secret); at !== -1; at = joined.indexOf(secret, at + 1)) {
        covered.fill(1, at, at + secret.length);
      }
    }
    const out: string[] = [];
    let from = 0;
    for (const text of texts) {
      out.push(replaceCovered(joined, covered, from, from + text.length).replace(ACCESS_TOKEN_PATTERN, REDACTED));
      from += text.length + FIELD_BREAK.length;
    }
    return out;
  }

  // A run of MIN_ECHO or more folded characters of a form is a chain of overlapping windows of
  // MIN_ECHO, so checking every window of the folded text finds all of them; each window found
  // covers the original characters it was folded from, and whatever lies between them.
  #markFolded(text: string, covered: Uint8Array): void {
    if (this.#forms === '') return;
    const at: number[] = [];
    let folded = '';
    for (let i = 0; i < text.length; i += 1) {
      let c = text.charCodeAt(i);
      if (c >= 65 && c <= 90) c += 32; // A-Z as a-z
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        folded += String.fromCharCode(c);
        at.push(i);
      }
    }
    for (let i = 0; i + MIN_ECHO <= folded.length; i += 1) {
      if (this.#forms.includes(folded.slice(i, i + MIN_ECHO))) {
        covered.fill(1, at[i] as number, (at[i + MIN_ECHO - 1] as number) + 1);
      }
    }
  }
}

// The characters of text[from, to) with each covered run replaced by one REDACTED.
function replaceCovered(text: string, covered: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; ) {
    const start = i;
    const hidden = covered[i] === 1;
    while (i < to && (covered[i] === 1) === hidden) i += 1;
    out += hidden ? REDACTED : text.slice(start, i);
  }
  return out;
}

/**
 * Replaces every echo of the given secrets, and anything shaped like a Persona access token,
 * with `[REDACTED]`. An echo is any run of 12 or more letters and digits of a secret, in any
 * case, whatever separators or invisible characters stand between them, or of its bytes in hex,
 * percent-encoding or base64; or the whole of a secret too short for that (4 to 11 letters and
 * digits). Secrets shorter than 4 characters are ignored: replacing them would mangle ordinary
 * text without protecting anything. Text holding no echo comes back unchanged.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  return new Redactor(secrets).text(text);
}

function redactCause(cause: unknown, redactor: Redactor): unknown {
  if (cause === undefined || cause === null) return cause;
  if (cause instanceof PersonaOAuthError) return redactWith(cause, redactor);
  if (!(cause instanceof Error)) return redactor.text(String(cause));
  const { message, stack } = cause;
  if (redactor.text(message) === message && (stack === undefined || redactor.text(stack) === stack)) return cause;
  // A foreign error that echoes a secret: keep a summary (name, code, redacted message).
  const summary = new Error(redactor.text(message));
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
export function redactError(
  error: PersonaOAuthError,
  secrets: readonly (string | undefined)[] | Redactor,
): PersonaOAuthError {
  return redactWith(error, secrets instanceof Redactor ? secrets : new Redactor(secrets));
}

function redactWith(error: PersonaOAuthError, redactor: Redactor): PersonaOAuthError {
  return new PersonaOAuthError(error.code, redactor.text(error.message), {
    personaStatus: error.personaStatus,
    requestId: error.requestId === undefined ? undefined : redactor.text(error.requestId),
    personaErrors: redactDetails(error.personaErrors, redactor),
    retryAfter: error.retryAfter,
    cause: redactCause(error.cause, redactor),
  });
}

/** Persona's `errors[]` with every echo redacted, also one split between an entry's fields. */
export function redactDetails(details: readonly PersonaErrorDetail[], redactor: Redactor): PersonaErrorDetail[] {
  return details.map((detail) => {
    const [title = '', details, pointer] = redactor.texts([detail.title, detail.details ?? '', detail.pointer ?? '']);
    const copy: PersonaErrorDetail = { title };
    if (detail.details !== undefined) copy.details = details as string;
    if (detail.pointer !== undefined) copy.pointer = pointer as string;
    return copy;
  });
}

/** What a {@link PersonaOAuthError} is built from, beyond its code and message (internal). */
export type PersonaOAuthErrorInit = NonNullable<ConstructorParameters<typeof PersonaOAuthError>[2]>;

const PERSONA_OAUTH_ERROR_BRAND = Symbol.for('passport-withpersona.PersonaOAuthError');

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

  /**
   * @param init What is known of Persona's side: `personaStatus`, `requestId`, `personaErrors`
   * (already redacted), `retryAfter` (seconds) and `cause`.
   */
  constructor(
    code: PersonaOAuthErrorCode,
    message: string,
    init: {
      personaStatus?: number | undefined;
      requestId?: string | undefined;
      personaErrors?: PersonaErrorDetail[] | undefined;
      retryAfter?: number | undefined;
      cause?: unknown;
    } = {},
  ) {
    // Error's constructor makes `cause` a property that is not enumerable: JSON and inspect
    // never walk into a third-party object we do not control.
    super(redact(message), init.cause === undefined ? undefined : { cause: init.cause });
    this.code = code;
    this.status = STATUS_OF[code];
    this.statusCode = this.status;
    this.expose = this.status < 500;
    this.personaStatus = init.personaStatus;
    this.requestId = init.requestId;
    this.personaErrors = (init.personaErrors ?? []).map((e) => ({ ...e }));
    this.retryAfter = init.retryAfter;
    Object.defineProperty(this, PERSONA_OAUTH_ERROR_BRAND, { value: true });
  }

  /**
   * True for a `PersonaOAuthError` from either copy of the package (an app that both `import`s
   * and `require`s it loads the ESM and the CommonJS build), by a `Symbol.for` brand; subclasses
   * keep the plain check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was asked about (a subclass or this one)
    if (this !== PersonaOAuthError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && PERSONA_OAUTH_ERROR_BRAND in value;
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

/**
 * True when `value` is a {@link PersonaOAuthError}, also one made by another copy of this package
 * (the ESM and the CommonJS build): the same check as `instanceof`, by the error's `Symbol.for`
 * brand. An error that only looks like one (the same name, code and status) is not.
 */
export function isPersonaOAuthError(value: unknown): value is PersonaOAuthError {
  return value instanceof PersonaOAuthError;
}
