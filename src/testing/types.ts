/**
 * Public types of the Persona emulator. They are its own: it shares no code with the client side
 * of the library, so that a misreading of Persona's API copied into both sides cannot hide itself.
 */

/**
 * An inquiry held by an emulated organisation. Live: change `status` and the next `GET` shows it.
 * Fields past the first five are optional here; inquiries the emulator creates have them all.
 */
export interface EmulatedInquiry {
  /** `inq_…` */
  id: string;
  /** `created`, `pending`, `completed`, `approved`, `declined`, `expired`, `failed` or `needs_review`. */
  status: string;
  nameFirst: string;
  nameLast: string;
  /** ISO 8601 timestamp, like every time below. */
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
  /** Null while the inquiry is not finished. */
  completedAt?: string | null;
  tags?: string[];
  /** `itmpl_…` */
  inquiryTemplateId?: string;
}

/** One check of a verification, shaped after Persona's. */
export interface VerificationCheck {
  /** Persona's check name, e.g. `id_tamper_detection`. */
  name: string;
  status: 'passed' | 'failed' | 'not_applicable';
  reasons: string[];
  requirement: 'required' | 'not_required';
}

/** A verification held by an emulated organisation, usually one step of an inquiry. Live, like an inquiry. */
export interface EmulatedVerification {
  /** `ver_…` */
  id: string;
  /** `government-id`, `selfie`, …: the JSON:API type is `verification/<type>`. */
  type: string;
  /** `initiated`, `submitted`, `passed`, `failed`, `requires_retry`, `canceled`, `confirmed` or `skipped`. */
  status: string;
  /** The inquiry (of the same organisation) it belongs to, or null for a verification on its own. */
  inquiryId: string | null;
  /** `act_…`, listed as its `account` relationship; default null (the emulator holds no accounts). */
  accountId?: string | null;
  /** ISO 8601 timestamp, like every time below. */
  createdAt: string;
  /** Null until the individual submitted. */
  submittedAt?: string | null;
  /** Null until checked. */
  completedAt?: string | null;
  /** ISO 3166-1 alpha-2. */
  countryCode?: string | null;
  /** Government ID only, like the name and birthdate: Persona's ID class (`dl`, `pp`, `id`, …). */
  idClass?: string | null;
  nameFirst?: string | null;
  nameLast?: string | null;
  birthdate?: string | null;
  checks?: VerificationCheck[];
}

/** An emulated Persona organisation with its one API key. Live: read on every request. */
export interface EmulatedOrganization {
  /** `org_…` */
  id: string;
  name: string;
  /** Sent as `Authorization: Bearer <apiKey>`; `persona_sandbox_<uuid>` unless given. */
  apiKey: string;
  /** The key's own limit (requests per 60 s) on top of the environment's; not a positive integer: none. */
  apiKeyRateLimit?: number;
  /** The key's response inflection when a request sends no `Key-Inflection`; default kebab. */
  apiKeyInflection?: 'kebab' | 'snake' | 'camel';
  inquiries: EmulatedInquiry[];
  verifications: EmulatedVerification[];
}

/** What {@link PersonaEmulator.addOrganization} takes (see {@link EmulatedOrganization}). */
export interface OrganizationInit {
  name?: string;
  apiKey?: string;
  apiKeyRateLimit?: number;
  apiKeyInflection?: 'kebab' | 'snake' | 'camel';
}

/** The emulated endpoints a fault can be attached to. */
export type EmulatorEndpoint = 'authorize' | 'token' | 'inquiry' | 'verification';

/**
 * A failure to inject on an endpoint with {@link PersonaEmulator.setFault}; docs/emulator.md (Faults)
 * says what each kind does. All but `status`, `redirect` and `null-fields` disturb only the delivery.
 */
export type EmulatorFault =
  | { kind: 'latency'; ms: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; layer?: 'persona' | 'edge' }
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
  /** The emulated endpoint the path names (whatever the method), or `other`. */
  endpoint: EmulatorEndpoint | 'other';
  method: string;
  /** The request target as sent: path and query string. */
  path: string;
  /** Names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body as UTF-8, cut at `maxBodyBytes`. */
  body: string;
  /** The status sent; undefined while none was (or never will be). */
  status: number | undefined;
  /** `req_…`, as sent in `Request-Id`. */
  requestId: string;
  /** Emulated-clock time (epoch ms) the request arrived. */
  receivedAt: number;
}

/** Options of {@link startPersonaEmulator}, all optional; docs/emulator.md (Options) has the details. */
export interface PersonaEmulatorOptions {
  /** TCP port; default 0 (a free one, see `url`). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Requests per 60-second window for the environment, shared by every key and token; default 300. */
  rateLimit?: number;
  /** Default 600. */
  codeTtlSeconds?: number;
  /** Default 3600. */
  tokenTtlSeconds?: number;
  /** How long an Idempotency-Key answer is replayed; default 86400. */
  idempotencyTtlSeconds?: number;
  /** Largest request body accepted (larger gets 413); default 65536. */
  maxBodyBytes?: number;
  /** How many requests `requests` keeps, oldest dropped first; default 1000, `Infinity` for all. */
  maxRecordedRequests?: number;
  /** The same seeded ids and API keys on every start; codes, tokens and request ids stay random. */
  seed?: string | number;
  /** Start of the emulated clock (epoch ms, 0 to 8.64e15); default `Date.now()`. */
  now?: number;
  /** Move the clock only through `clock.advance`/`clock.set`; default false (it follows real time). */
  freezeClock?: boolean;
  /** `Persona-Version` dates (`YYYY-MM-DD`) to accept besides the documented ones. */
  personaVersions?: readonly string[];
  /** Expose the `/__emulator/*` control endpoints (faults, clock, rate limit); default false. */
  control?: boolean;
}

/** The emulated clock every expiry, rate-limit window and idempotency record is measured on. */
export interface EmulatorClock {
  /** Current emulated time, epoch ms. */
  now(): number;
  /** Moves forward by `ms`; RangeError (and no move) unless `ms` ≥ 0 keeps the clock ≤ 8.64e15. */
  advance(ms: number): void;
  /** Jumps to `epochMs`; RangeError (and no move) unless it is from 0 to 8.64e15. */
  set(epochMs: number): void;
}

/** A running emulator, as resolved by {@link startPersonaEmulator}. */
export interface PersonaEmulator {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** `env_…`: the one environment all organisations share, rate limit included. */
  environmentId: string;
  /** The data owner, seeded with realistic inquiries and the verifications they ran. */
  owner: EmulatedOrganization;
  /** The recipient, with inquiries of its own. */
  recipient: EmulatedOrganization;
  /** Every organisation: owner, recipient, then those added. */
  organizations: EmulatedOrganization[];
  /** Adds an organisation; throws on an empty or used API key, or a bad limit or inflection. */
  addOrganization(init?: OrganizationInit): EmulatedOrganization;
  /** Adds an inquiry; throws on an unknown organisation or a bad or taken id. */
  addInquiry(orgId: string, init?: Partial<EmulatedInquiry>): EmulatedInquiry;
  /** Adds a verification (default: a passed `government-id`); throws as `addInquiry` does, or on a foreign inquiry. */
  addVerification(orgId: string, init?: Partial<EmulatedVerification>): EmulatedVerification;
  /** A code without HTTP, under the rules of Create Authorization; throws saying what is wrong. */
  createAuthorization(init: { scope: string | string[]; from?: string; clientId?: string }): {
    code: string;
    expiresIn: number;
  };
  clock: EmulatorClock;
  /** Sets (or clears with null) an endpoint's fault, for the next `times` requests or until cleared. */
  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options?: { times?: number }): void;
  /** Removes every fault. */
  clearFaults(): void;
  /** The last `maxRecordedRequests` requests, control requests excepted; `requests.length = 0` empties it. */
  requests: EmulatedRequest[];
  /** Starts fresh rate-limit windows: the environment's and every API key's. */
  resetRateLimit(): void;
  /** Stops listening and destroys every open socket, hung ones included. Safe to call twice. */
  close(): Promise<void>;
}
