/**
 * Public types of the Persona emulator (`passport-withpersona/testing`).
 *
 * These types are the emulator's own: it shares no code with the client side of the library,
 * so that a misreading of Persona's API copied into both sides cannot hide itself.
 */

/**
 * An inquiry held by an emulated organisation. The object is live: changing a field (say,
 * `status`) changes what `GET /api/v1/inquiries/:id` answers from then on.
 *
 * Fields beyond the first five are optional here so callers can build partial objects;
 * inquiries created by the emulator always have every field (null when unknown).
 */
export interface EmulatedInquiry {
  /** `inq_…` */
  id: string;
  /** Persona inquiry status: `created`, `pending`, `completed`, `approved`, `declined`, `expired`, `failed`, `needs_review`. */
  status: string;
  nameFirst: string;
  nameLast: string;
  /** ISO 8601 timestamp. */
  createdAt: string;
  nameMiddle?: string | null;
  referenceId?: string | null;
  /** `YYYY-MM-DD` */
  birthdate?: string | null;
  emailAddress?: string | null;
  phoneNumber?: string | null;
  addressStreet1?: string | null;
  addressCity?: string | null;
  addressSubdivision?: string | null;
  addressPostalCode?: string | null;
  /** ISO 3166-1 alpha-2, e.g. `US`. */
  addressCountryCode?: string | null;
  /** ISO 8601 timestamp, or null while the inquiry is not finished. */
  completedAt?: string | null;
  tags?: string[];
  /** `itmpl_…` */
  inquiryTemplateId?: string;
}

/** One check of a verification, shaped after Persona's (`name`, `status`, `reasons`, `requirement`). */
export interface VerificationCheck {
  /** Persona's check name, e.g. `id_tamper_detection`. */
  name: string;
  status: 'passed' | 'failed' | 'not_applicable';
  reasons: string[];
  requirement: 'required' | 'not_required';
}

/**
 * A verification held by an emulated organisation, usually one step of an inquiry. Live object
 * like {@link EmulatedInquiry}: `GET /api/v1/verifications/:id` answers what it holds now.
 */
export interface EmulatedVerification {
  /** `ver_…` */
  id: string;
  /** The verification type: `government-id`, `selfie`, … (the JSON:API type is `verification/<type>`). */
  type: string;
  /** Persona verification status: `initiated`, `submitted`, `passed`, `failed`, `requires_retry`, `canceled`, `confirmed`, `skipped`. */
  status: string;
  /** The inquiry (of the same organisation) it belongs to, or null for a verification on its own. */
  inquiryId: string | null;
  /**
   * `act_…`: the account it belongs to, listed as its `account` relationship (Persona added that
   * relationship on 2025-07-30); null (the default) when none. The emulator holds no accounts.
   */
  accountId?: string | null;
  /** ISO 8601 timestamp. */
  createdAt: string;
  /** ISO 8601 timestamp, or null until the individual submitted. */
  submittedAt?: string | null;
  /** ISO 8601 timestamp, or null until checked. */
  completedAt?: string | null;
  /** ISO 3166-1 alpha-2. */
  countryCode?: string | null;
  /** Government ID only: Persona's ID class (`dl`, `pp`, `id`, …). */
  idClass?: string | null;
  nameFirst?: string | null;
  nameLast?: string | null;
  /** `YYYY-MM-DD` */
  birthdate?: string | null;
  checks?: VerificationCheck[];
}

/**
 * An emulated Persona organisation with its one API key. Live object: the emulator reads
 * `apiKey`, its settings, `inquiries` and `verifications` on every request.
 */
export interface EmulatedOrganization {
  /** `org_…` */
  id: string;
  name: string;
  /** `persona_sandbox_<uuid>` unless given. Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /**
   * The API key's own rate limit (requests per 60-second window), on top of the environment's;
   * default none. A request with the key counts against both, and the `RateLimit-*` headers
   * report whichever is closer to being reached. Anything but a positive integer means none.
   */
  apiKeyRateLimit?: number;
  /**
   * The API key's default response inflection (Persona: set in the dashboard), used when a
   * request sends no `Key-Inflection`; default kebab.
   */
  apiKeyInflection?: 'kebab' | 'snake' | 'camel';
  inquiries: EmulatedInquiry[];
  verifications: EmulatedVerification[];
}

/** What {@link PersonaEmulator.addOrganization} takes: every field optional. */
export interface OrganizationInit {
  name?: string;
  /** Default `persona_sandbox_<uuid>`. */
  apiKey?: string;
  /** See {@link EmulatedOrganization.apiKeyRateLimit}. */
  apiKeyRateLimit?: number;
  /** See {@link EmulatedOrganization.apiKeyInflection}. */
  apiKeyInflection?: 'kebab' | 'snake' | 'camel';
}

/** The emulated endpoints a fault can be attached to. */
export type EmulatorEndpoint = 'authorize' | 'token' | 'inquiry' | 'verification';

/**
 * A failure to inject on an endpoint (see {@link PersonaEmulator.setFault}).
 *
 * - `latency`: wait `ms` milliseconds, then handle the request normally.
 * - `status`: answer `status` with `body` (object → JSON, string → raw; default: a Persona
 *   error document for 4xx/5xx, `{}` otherwise) and extra `headers`. With `layer: 'persona'`
 *   (the default) the answer comes from Persona itself: authentication, rate limiting and the
 *   idempotency lookup run first, and the answer is stored under the request's Idempotency-Key
 *   (except 401 and 429). With `layer: 'edge'` it comes from in front of Persona (a load
 *   balancer, say): nothing runs, nothing is stored, nothing is counted.
 * - `malformed`: 201, `Content-Type: application/json`, a body that is not valid JSON.
 * - `oversized`: 201 with a JSON-looking body of exactly `bytes` bytes (streamed; with
 *   `chunked: true` no Content-Length is sent, so only counting can catch it).
 * - `no-headers`: read the request and never answer; the socket stays open until `close()`.
 * - `drip`: send the headers at once, then the real body in `chunks` pieces (default 10),
 *   one every `intervalMs`.
 * - `reset`: reset the TCP connection, before any response byte (default) or after the
 *   headers and part of the body.
 * - `redirect`: answer `status` (default 302) with `Location: location` (default: the same
 *   URL on the emulator), from in front of Persona: the request is not processed.
 * - `quota-exceeded`: 403 with a Persona error titled "Quota exceeded", as when one of the
 *   environment's product quotas is used up: after authentication and rate limiting, before the
 *   idempotency layer, so it is neither stored nor replayed.
 * - `null-fields` (token and authorize endpoints): the request is processed as usual (a code
 *   redeemed and a token issued, or a code issued), but the named `fields` of the 201 answer are
 *   sent as null, or left out with `absent: true`. Persona's 2023-01-05 schema marks every field
 *   of both answers nullable; by default the fault nulls all but the one the answer exists for:
 *   `token-type`, `expires-in` and `scope` on the token endpoint, `expires-in` on authorize.
 *   The answer is Persona's own, stored under the Idempotency-Key.
 *
 * Except for `status`, `redirect` and `null-fields`, the request is processed in full (codes are consumed,
 * responses stored under the Idempotency-Key) and only the answer's delivery is disturbed:
 * the worst case for a client, and the one an Idempotency-Key exists for.
 */
export type EmulatorFault =
  | { kind: 'latency'; ms: number }
  | {
      kind: 'status';
      status: number;
      body?: unknown;
      headers?: Record<string, string>;
      layer?: 'persona' | 'edge';
    }
  | { kind: 'malformed' }
  | { kind: 'oversized'; bytes: number; chunked?: boolean }
  | { kind: 'no-headers' }
  | { kind: 'drip'; intervalMs: number; chunks?: number }
  | { kind: 'reset'; when?: 'before-headers' | 'after-headers' }
  | { kind: 'redirect'; status?: 301 | 302 | 307 | 308; location?: string }
  | { kind: 'quota-exceeded' }
  | {
      kind: 'null-fields';
      /** Token endpoint: `access-token`, `expires-in`, `scope`, `token-type`; authorize: `code`, `expires-in`. */
      fields?: ('access-token' | 'expires-in' | 'scope' | 'token-type' | 'code')[];
      absent?: boolean;
    };

/** One request the emulator received, as recorded in {@link PersonaEmulator.requests}. */
export interface EmulatedRequest {
  /** Which emulated endpoint the path names (whatever the method), or `other`. */
  endpoint: EmulatorEndpoint | 'other';
  method: string;
  /** The request target as sent: path and query string. */
  path: string;
  /** Request headers, names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, decoded as UTF-8 (cut at the body cap when it was larger). */
  body: string;
  /** Status line sent, or undefined while none was sent (or never will be: `no-headers`, `reset`). */
  status: number | undefined;
  /** The `Request-Id` given to this request (`req_…`). */
  requestId: string;
  /** Emulated-clock time (epoch ms) the request arrived. */
  receivedAt: number;
}

/** Options of {@link startPersonaEmulator}. Every one is optional. */
export interface PersonaEmulatorOptions {
  /** TCP port; default 0 (a free one, see `url`). */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /**
   * Requests per 60-second window for the (single) environment, shared by every API key and
   * token; default 300. An API key can have its own limit too: `apiKeyRateLimit`.
   */
  rateLimit?: number;
  /** Lifetime of an authorization code in seconds; default 600. */
  codeTtlSeconds?: number;
  /** Lifetime of an access token in seconds; default 3600. */
  tokenTtlSeconds?: number;
  /** How long a stored Idempotency-Key answer is replayed, in seconds; default 86400. */
  idempotencyTtlSeconds?: number;
  /** Largest request body accepted, in bytes; default 65536. Larger → 413. */
  maxBodyBytes?: number;
  /**
   * How many requests `requests` keeps, oldest dropped first; default 1000, so a long-running
   * emulator stays bounded. `Infinity` keeps every one; the CLI, which has no handle to read
   * them from, keeps none.
   */
  maxRecordedRequests?: number;
  /**
   * Makes the seeded data (environment, organisation ids, API keys, inquiry ids) the same on
   * every start. Codes, access tokens and request ids stay cryptographically random.
   */
  seed?: string | number;
  /** Start of the emulated clock (epoch ms, 0 to 8.64e15, what a `Date` can hold); default `Date.now()`. */
  now?: number;
  /** When true the emulated clock moves only through `clock.advance`/`clock.set`; default false (it follows real time). */
  freezeClock?: boolean;
  /**
   * `Persona-Version` values to accept besides every version Persona documents (listed in
   * docs/emulator.md), so that a version Persona releases later need not wait for a new
   * emulator. Each a `YYYY-MM-DD` date; anything else throws TypeError.
   */
  personaVersions?: readonly string[];
  /** Expose the `/__emulator/*` control endpoints (faults, clock, rate limit); default false. */
  control?: boolean;
}

/** The emulated clock every expiry, rate-limit window and idempotency record is measured on. */
export interface EmulatorClock {
  /** Current emulated time, epoch milliseconds. */
  now(): number;
  /**
   * Move the clock forward by `ms` (≥ 0). Throws RangeError, leaving the clock as it was, for a
   * negative or non-finite `ms` or one that would take the clock past 8.64e15 (the last instant
   * a `Date` can hold).
   */
  advance(ms: number): void;
  /**
   * Jump to `epochMs`. Throws RangeError, leaving the clock as it was, unless it is a number
   * from 0 to 8.64e15 (what a `Date` can hold).
   */
  set(epochMs: number): void;
}

/** A running emulator, as resolved by {@link startPersonaEmulator}. */
export interface PersonaEmulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** `env_…`: the one environment all organisations share (and whose rate limit they share). */
  environmentId: string;
  /** The data owner, seeded with realistic inquiries and the verifications they ran. */
  owner: EmulatedOrganization;
  /** The recipient, with two inquiries of its own. */
  recipient: EmulatedOrganization;
  /** Every organisation: owner, recipient, then those added. */
  organizations: EmulatedOrganization[];
  /**
   * Add an organisation. Throws when the API key is already in use or empty, or when
   * `apiKeyRateLimit` is not a positive integer or `apiKeyInflection` not kebab, snake or camel.
   */
  addOrganization(init?: OrganizationInit): EmulatedOrganization;
  /** Add an inquiry to an organisation. Throws on an unknown organisation or a bad/duplicate id. */
  addInquiry(orgId: string, init?: Partial<EmulatedInquiry>): EmulatedInquiry;
  /**
   * Add a verification to an organisation (default: a passed `government-id` verification on
   * its own). Throws on an unknown organisation, a bad or taken id, or an `inquiryId` that is
   * not one of that organisation's inquiries.
   */
  addVerification(orgId: string, init?: Partial<EmulatedVerification>): EmulatedVerification;
  /**
   * Create an authorization code without HTTP, with the same rules as
   * `POST /api/v1/oauth/authorize`. `from` defaults to the owner, `clientId` to the recipient.
   * Throws an Error saying what is wrong on invalid input.
   */
  createAuthorization(init: { scope: string | string[]; from?: string; clientId?: string }): {
    code: string;
    expiresIn: number;
  };
  clock: EmulatorClock;
  /**
   * Set (or clear with null) the fault of an endpoint. `times`: how many of the next requests
   * to that endpoint meet it (counted on arrival); default: until cleared. Throws TypeError on
   * an invalid fault.
   */
  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options?: { times?: number }): void;
  /** Remove every fault. */
  clearFaults(): void;
  /**
   * The requests received, in order (control requests excepted), the last `maxRecordedRequests`
   * (1000 by default) of them. The array is kept in place: `requests.length = 0` empties it.
   */
  requests: EmulatedRequest[];
  /** Start fresh rate-limit windows: the environment's and every API key's. */
  resetRateLimit(): void;
  /** Stop listening and destroy every open socket, hung ones included. Safe to call twice. */
  close(): Promise<void>;
}
