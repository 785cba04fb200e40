import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createClock } from './clock.js';
import { FaultBoard, isEmulatorEndpoint, validateFault } from './faults.js';
import {
  errorResponse,
  headerValue,
  JSON_TYPE,
  jsonResponse,
  parseParams,
  readBody,
  statusTitle,
  type EmulatorResponse,
  type Params,
  type PersonaErrorEntry,
} from './http.js';
import { inflectDeep, inflectKey, parseKeyInflection, type KeyInflection } from './inflection.js';
import { authorizationCode, prefixedId, secureRandom, seededRandom, uuid, type RandomSource } from './random.js';
import { FINISHED_STATUSES, OWNER_INQUIRIES, RECIPIENT_INQUIRIES, type SeedInquiry } from './seed-data.js';
import type {
  EmulatedInquiry,
  EmulatedOrganization,
  EmulatedRequest,
  EmulatorClock,
  EmulatorEndpoint,
  EmulatorFault,
  PersonaEmulator,
  PersonaEmulatorOptions,
} from './types.js';

/**
 * `Persona-Version` values the emulator accepts (any other value → 400). Dated versions seen in
 * Persona's documentation; 2025-12-08 is the latest it names.
 */
export const KNOWN_PERSONA_VERSIONS: readonly string[] = Object.freeze([
  '2020-05-18',
  '2021-02-21',
  '2021-05-14',
  '2023-01-05',
  '2025-12-08',
]);

const RATE_WINDOW_MS = 60_000;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const MAX_SCOPE_ENTRIES = 100;
const SCOPE_ENTRY = /^([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*):(.+)$/;
const OBJECT_ID = /^[a-z]+_[A-Za-z0-9]+$/;
const INQUIRY_ID = /^inq_[A-Za-z0-9]+$/;

interface Route {
  endpoint: EmulatorEndpoint | 'other';
  methods: readonly string[];
  inquiryId?: string;
}

interface CodeRecord {
  fromOrgId: string;
  toOrgId: string;
  scopes: string[];
  expiresAt: number;
  usedAt: number | undefined;
}

interface TokenRecord {
  orgId: string;
  ownerOrgId: string;
  scopes: string[];
  expiresAt: number;
}

interface StoredAnswer {
  fingerprint: string;
  response: EmulatorResponse;
  storedAt: number;
}

type Principal =
  | { kind: 'api-key'; credential: string; org: EmulatedOrganization }
  | { kind: 'access-token'; credential: string; org: EmulatedOrganization; token: TokenRecord };

/** A failed check: the status and error entry to answer with. */
interface Refusal {
  status: number;
  error: PersonaErrorEntry;
}

type ScopeCheck = { ok: true; scopes: string[] } | ({ ok: false } & Refusal);

interface RequestContext {
  req: IncomingMessage;
  route: Route;
  body: string;
  tooLarge: boolean;
  fault: EmulatorFault | undefined;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

// Requests between two sweeps of expired records.
const SWEEP_EVERY = 1000;

function matchRoute(pathname: string): Route {
  if (pathname === '/api/v1/oauth/authorize') return { endpoint: 'authorize', methods: ['POST'] };
  if (pathname === '/api/v1/oauth/token') return { endpoint: 'token', methods: ['POST'] };
  const inquiry = /^\/api\/v1\/inquiries\/([^/]+)$/.exec(pathname);
  if (inquiry?.[1] !== undefined) {
    let id = inquiry[1];
    try {
      id = decodeURIComponent(id);
    } catch {
      // A malformed escape is simply an id that matches nothing.
    }
    return { endpoint: 'inquiry', methods: ['GET'], inquiryId: id };
  }
  return { endpoint: 'other', methods: [] };
}

function pathnameOf(target: string): string | undefined {
  try {
    return new URL(target, 'http://emulator.invalid').pathname;
  } catch {
    return undefined;
  }
}

/** The emulator behind the {@link PersonaEmulator} handle. */
class Emulator implements PersonaEmulator {
  url = '';
  readonly environmentId: string;
  readonly owner: EmulatedOrganization;
  readonly recipient: EmulatedOrganization;
  readonly organizations: EmulatedOrganization[] = [];
  readonly requests: EmulatedRequest[] = [];
  readonly clock: EmulatorClock;

  private readonly server: Server;
  private readonly dataRandom: RandomSource;
  private readonly rateLimit: number;
  private readonly codeTtlMs: number;
  private readonly tokenTtlMs: number;
  private readonly idempotencyTtlMs: number;
  private readonly maxBodyBytes: number;
  private readonly versions: ReadonlySet<string>;
  private readonly control: boolean;
  private readonly maxRecordedRequests: number;
  private sinceSweep = 0;
  private readonly faults = new FaultBoard();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly idempotency = new Map<string, StoredAnswer>();
  private readonly templates = new Map<string, string>();
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<(awake: boolean) => void>();
  private rateWindow: { start: number; count: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PersonaEmulatorOptions) {
    this.rateLimit = positiveInteger(options.rateLimit, 300, 'rateLimit');
    this.codeTtlMs = positiveInteger(options.codeTtlSeconds, 600, 'codeTtlSeconds') * 1000;
    this.tokenTtlMs = positiveInteger(options.tokenTtlSeconds, 3600, 'tokenTtlSeconds') * 1000;
    this.idempotencyTtlMs = positiveInteger(options.idempotencyTtlSeconds, 86_400, 'idempotencyTtlSeconds') * 1000;
    this.maxBodyBytes = positiveInteger(options.maxBodyBytes, 64 * 1024, 'maxBodyBytes');
    const start = options.now ?? Date.now();
    if (!Number.isFinite(start)) throw new RangeError('now must be a finite number (epoch ms)');
    this.clock = createClock(start, options.freezeClock === true);
    this.versions = new Set(options.personaVersions ?? KNOWN_PERSONA_VERSIONS);
    this.control = options.control === true;
    this.maxRecordedRequests =
      options.maxRecordedRequests === undefined ? Number.POSITIVE_INFINITY : options.maxRecordedRequests;
    if (
      !(Number.isInteger(this.maxRecordedRequests) || this.maxRecordedRequests === Number.POSITIVE_INFINITY) ||
      this.maxRecordedRequests < 0
    ) {
      throw new RangeError('maxRecordedRequests must be a whole number');
    }
    this.dataRandom = options.seed === undefined ? secureRandom : seededRandom(options.seed);

    this.environmentId = prefixedId(this.dataRandom, 'env_');
    this.owner = this.addOrganization({ name: 'Northwind Identity' });
    this.recipient = this.addOrganization({ name: 'Contoso Lending' });
    for (const seed of OWNER_INQUIRIES) this.seedInquiry(this.owner, seed, start);
    for (const seed of RECIPIENT_INQUIRIES) this.seedInquiry(this.recipient, seed, start);

    this.server = createServer((req, res) => {
      void this.onRequest(req, res);
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address();
        if (address === null || typeof address === 'string') {
          reject(new Error('the emulator is not listening on a TCP port'));
          return;
        }
        const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        this.url = `http://${hostPart}:${address.port}`;
        resolve();
      });
    });
  }

  // ── Handle API ────────────────────────────────────────────────────────────

  addOrganization(init: { name?: string; apiKey?: string } = {}): EmulatedOrganization {
    const apiKey = init.apiKey ?? `persona_sandbox_${uuid(this.dataRandom)}`;
    if (typeof apiKey !== 'string' || apiKey.trim() === '' || /\s/.test(apiKey)) {
      throw new TypeError('apiKey must be a non-empty string without whitespace');
    }
    if (this.organizations.some((org) => org.apiKey === apiKey))
      throw new Error('apiKey is already used by another organization');
    const org: EmulatedOrganization = {
      id: prefixedId(this.dataRandom, 'org_'),
      name: init.name ?? `Organization ${this.organizations.length + 1}`,
      apiKey,
      inquiries: [],
    };
    this.templates.set(org.id, prefixedId(this.dataRandom, 'itmpl_'));
    this.organizations.push(org);
    return org;
  }

  addInquiry(orgId: string, init: Partial<EmulatedInquiry> = {}): EmulatedInquiry {
    const org = this.organizations.find((candidate) => candidate.id === orgId);
    if (!org) throw new Error(`no organization ${String(orgId)}`);
    const id = init.id ?? prefixedId(this.dataRandom, 'inq_');
    if (typeof id !== 'string' || !INQUIRY_ID.test(id))
      throw new TypeError('an inquiry id must look like inq_<letters and digits>');
    if (this.findInquiry(id)) throw new Error(`inquiry ${id} already exists`);
    const status = init.status ?? 'approved';
    const createdAt = init.createdAt ?? new Date(this.clock.now()).toISOString();
    const inquiry: EmulatedInquiry = {
      id,
      status,
      nameFirst: init.nameFirst ?? 'Alex',
      nameMiddle: init.nameMiddle ?? null,
      nameLast: init.nameLast ?? 'Rivera',
      birthdate: init.birthdate ?? null,
      referenceId: init.referenceId ?? null,
      emailAddress: init.emailAddress ?? null,
      phoneNumber: init.phoneNumber ?? null,
      addressStreet1: init.addressStreet1 ?? null,
      addressCity: init.addressCity ?? null,
      addressSubdivision: init.addressSubdivision ?? null,
      addressPostalCode: init.addressPostalCode ?? null,
      addressCountryCode: init.addressCountryCode ?? null,
      createdAt,
      completedAt: init.completedAt !== undefined ? init.completedAt : FINISHED_STATUSES.has(status) ? createdAt : null,
      tags: init.tags ? [...init.tags] : [],
      inquiryTemplateId: init.inquiryTemplateId ?? this.templates.get(org.id) ?? prefixedId(this.dataRandom, 'itmpl_'),
    };
    org.inquiries.push(inquiry);
    return inquiry;
  }

  createAuthorization(init: { scope: string | string[]; from?: string; clientId?: string }): {
    code: string;
    expiresIn: number;
  } {
    const fromId = init.from ?? this.owner.id;
    const from = this.organizations.find((org) => org.id === fromId);
    if (!from) throw new Error(`createAuthorization: no organization ${String(fromId)}`);
    const clientId = init.clientId ?? this.recipient.id;
    const to = this.organizations.find((org) => org.id === clientId);
    if (!to) throw new Error(`createAuthorization: client-id ${String(clientId)} names no organization`);
    if (to.id === from.id) throw new Error('createAuthorization: an organization cannot authorize itself');
    const raw = Array.isArray(init.scope) ? init.scope.join(' ') : init.scope;
    if (typeof raw !== 'string')
      throw new TypeError('createAuthorization: scope must be a string or an array of strings');
    const scopes = this.checkScope(raw, from, 'kebab');
    if (!scopes.ok) throw new Error(`createAuthorization: ${scopes.error.details ?? scopes.error.title}`);
    return this.issueCode(from, to, scopes.scopes);
  }

  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options: { times?: number } = {}): void {
    this.faults.set(endpoint, fault, options.times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetRateLimit(): void {
    this.rateWindow = undefined;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.sleepers) wake(false);
    this.sleepers.clear();
    this.closing = new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  // ── Data ──────────────────────────────────────────────────────────────────

  private seedInquiry(org: EmulatedOrganization, seed: SeedInquiry, start: number): void {
    const { ageHours, completedAfterMinutes, ...fields } = seed;
    const created = start - ageHours * 3_600_000;
    this.addInquiry(org.id, {
      ...fields,
      tags: [...(fields.tags ?? [])],
      createdAt: new Date(created).toISOString(),
      completedAt:
        completedAfterMinutes === null ? null : new Date(created + completedAfterMinutes * 60_000).toISOString(),
    });
  }

  private findInquiry(id: string): { org: EmulatedOrganization; inquiry: EmulatedInquiry } | undefined {
    for (const org of this.organizations) {
      const inquiry = org.inquiries.find((candidate) => candidate.id === id);
      if (inquiry) return { org, inquiry };
    }
    return undefined;
  }

  /**
   * Drops what can no longer change an answer, so a long-running emulator stays bounded: stored
   * idempotent answers past their lifetime, and codes and tokens expired for longer than that
   * lifetime (a client retrying so late gets the same 404/401 it would get for an unknown one).
   */
  private sweep(): void {
    this.sinceSweep = 0;
    const now = this.clock.now();
    for (const [key, stored] of this.idempotency) {
      if (now - stored.storedAt >= this.idempotencyTtlMs) this.idempotency.delete(key);
    }
    for (const [code, record] of this.codes) {
      if (now - record.expiresAt >= this.idempotencyTtlMs) this.codes.delete(code);
    }
    for (const [token, record] of this.tokens) {
      if (now - record.expiresAt >= this.idempotencyTtlMs) this.tokens.delete(token);
    }
  }

  private issueCode(
    from: EmulatedOrganization,
    to: EmulatedOrganization,
    scopes: string[],
  ): { code: string; expiresIn: number } {
    const code = authorizationCode();
    this.codes.set(code, {
      fromOrgId: from.id,
      toOrgId: to.id,
      scopes,
      expiresAt: this.clock.now() + this.codeTtlMs,
      usedAt: undefined,
    });
    return { code, expiresIn: this.codeTtlMs / 1000 };
  }

  /**
   * Checks a scope string: well-formed `permission:object` pairs (400), each object existing and
   * owned by `from` (404, the same answer whether it belongs to someone else or to nobody), and
   * the permission's resource matching the object (422).
   */
  private checkScope(raw: string, from: EmulatedOrganization, inflection: KeyInflection): ScopeCheck {
    const pointer = `/${inflectKey('scope', inflection)}`;
    const entries = [...new Set(raw.split(/\s+/).filter((entry) => entry !== ''))];
    if (entries.length === 0) {
      return {
        ok: false,
        status: 400,
        error: { title: 'Invalid parameter', details: 'scope must list at least one permission:object pair', pointer },
      };
    }
    if (entries.length > MAX_SCOPE_ENTRIES) {
      return {
        ok: false,
        status: 400,
        error: { title: 'Invalid parameter', details: `scope may list at most ${MAX_SCOPE_ENTRIES} pairs`, pointer },
      };
    }
    const parsed: { permission: string; resource: string; object: string }[] = [];
    for (const entry of entries) {
      const match = SCOPE_ENTRY.exec(entry);
      if (!match || !OBJECT_ID.test(match[3] ?? '')) {
        return {
          ok: false,
          status: 400,
          error: {
            title: 'Invalid parameter',
            details: `scope entry ${JSON.stringify(entry)} is not a resource.action:object_id pair`,
            pointer,
          },
        };
      }
      parsed.push({ permission: `${match[1]}.${match[2]}`, resource: match[1] ?? '', object: match[3] ?? '' });
    }
    for (const { object } of parsed) {
      if (!from.inquiries.some((inquiry) => inquiry.id === object)) {
        return {
          ok: false,
          status: 404,
          error: { title: 'Record not found', details: `${object} was not found`, pointer },
        };
      }
    }
    for (const { permission, resource, object } of parsed) {
      if (resource !== 'inquiry') {
        return {
          ok: false,
          status: 422,
          error: {
            title: 'Invalid parameter',
            details: `permission ${permission} does not apply to ${object}`,
            pointer,
          },
        };
      }
    }
    return { ok: true, scopes: entries };
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────

  private later(ms: number, fn: () => void): void {
    if (this.closing) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  /** Resolves true after `ms`, or false as soon as the emulator closes. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closing) {
        resolve(false);
        return;
      }
      const wake = (awake: boolean): void => {
        this.sleepers.delete(wake);
        resolve(awake);
      };
      this.sleepers.add(wake);
      this.later(ms, () => wake(true));
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = prefixedId(secureRandom, 'req_');
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    let record: EmulatedRequest | undefined;
    try {
      const target = req.url ?? '/';
      const pathname = pathnameOf(target);
      const method = req.method ?? 'GET';
      if (this.control && pathname?.startsWith('/__emulator/')) {
        await this.onControl(req, res, pathname, requestId);
        return;
      }
      const route =
        pathname === undefined ? ({ endpoint: 'other', methods: [] } satisfies Route) : matchRoute(pathname);
      const read = await readBody(req, this.maxBodyBytes, Math.max(this.maxBodyBytes * 16, 1024 * 1024));
      if (this.closing) return;
      record = {
        endpoint: route.endpoint,
        method,
        path: target,
        headers: { ...req.headers },
        body: read.bytes.toString('utf8'),
        status: undefined,
        requestId,
        receivedAt: this.clock.now(),
      };
      if (this.maxRecordedRequests > 0) {
        this.requests.push(record);
        if (this.requests.length > this.maxRecordedRequests) {
          this.requests.splice(0, this.requests.length - this.maxRecordedRequests);
        }
      }
      this.sinceSweep += 1;
      if (this.sinceSweep >= SWEEP_EVERY) this.sweep();
      // A client that hung up mid-body gets nothing processed: a cut body is not a request.
      if (!read.complete) return;
      const fault = route.endpoint === 'other' ? undefined : this.faults.take(route.endpoint);

      if (fault?.kind === 'latency' && !(await this.sleep(fault.ms))) return;
      if (fault?.kind === 'redirect') {
        const location = fault.location ?? `${this.url}${target}`;
        this.send(res, record, requestId, {
          ...errorResponse(fault.status ?? 302, {
            title: statusTitle(fault.status ?? 302),
            details: `Moved to ${location}`,
          }),
          headers: { 'content-type': JSON_TYPE, location },
        });
        return;
      }
      if (fault?.kind === 'status' && fault.layer === 'edge') {
        this.send(res, record, requestId, this.forcedResponse(fault));
        return;
      }

      const response = this.process({ req, route, body: record.body, tooLarge: read.tooLarge, fault });
      if (read.tooLarge) response.headers.connection = 'close';
      this.deliver(req, res, record, requestId, response, fault);
    } catch (error) {
      this.failSafe(res, record, requestId, error);
    }
  }

  /** Last resort: a thrown error becomes a 500 in Persona's form (or a closed socket when too late). */
  private failSafe(res: ServerResponse, record: EmulatedRequest | undefined, requestId: string, error: unknown): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const details = error instanceof Error ? error.message : String(error);
    this.send(res, record, requestId, errorResponse(500, { title: 'Internal server error', details }));
  }

  /** Decides the answer: routing, body cap, authentication, rate limit, headers, idempotency, then the endpoint. */
  private process(ctx: RequestContext): EmulatorResponse {
    const { req, route } = ctx;
    const method = req.method ?? 'GET';
    const requestedInflection = parseKeyInflection(headerValue(req.headers['key-inflection']));
    const inflection: KeyInflection = requestedInflection ?? 'kebab';

    if (route.endpoint === 'other') {
      return errorResponse(404, {
        title: 'Not Found',
        details: `No route matches ${method} ${pathnameOf(req.url ?? '/') ?? req.url ?? ''}`,
      });
    }
    if (!route.methods.includes(method)) {
      return errorResponse(
        405,
        { title: 'Method Not Allowed', details: `${method} is not supported here; use ${route.methods.join(', ')}` },
        { allow: route.methods.join(', ') },
      );
    }
    if (ctx.tooLarge) {
      return errorResponse(413, {
        title: 'Payload Too Large',
        details: `The request body is larger than ${this.maxBodyBytes} bytes`,
      });
    }

    const principal = this.authenticate(headerValue(req.headers.authorization));
    if ('status' in principal)
      return errorResponse(principal.status, principal.error, { 'www-authenticate': 'Bearer' });

    const rate = this.countRequest();
    const common: Record<string, string> = {
      'persona-organization-id': principal.org.id,
      'persona-environment-id': this.environmentId,
      ...rate.headers,
    };
    const withCommon = (response: EmulatorResponse, extra: Record<string, string> = {}): EmulatorResponse => ({
      ...response,
      headers: { ...common, ...response.headers, ...extra },
    });

    if (rate.limited) {
      return withCommon(
        errorResponse(429, {
          title: 'Rate limit exceeded',
          details: `More than ${this.rateLimit} requests in this minute; retry after RateLimit-Reset seconds`,
        }),
      );
    }

    const version = headerValue(req.headers['persona-version']);
    if (version !== undefined && !this.versions.has(version.trim())) {
      return withCommon(
        errorResponse(400, {
          title: 'Invalid Persona-Version',
          details: `Unknown API version ${JSON.stringify(version)}; known: ${[...this.versions].join(', ')}`,
        }),
      );
    }
    if (requestedInflection === null) {
      return withCommon(
        errorResponse(400, {
          title: 'Invalid Key-Inflection',
          details: 'Key-Inflection must be kebab, snake or camel',
        }),
      );
    }

    const parsed = method === 'POST' ? parseParams(ctx.body, headerValue(req.headers['content-type'])) : undefined;

    let storeKey: string | undefined;
    let fingerprint = '';
    const idempotencyKey = method === 'POST' ? headerValue(req.headers['idempotency-key']) : undefined;
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
        return withCommon(
          errorResponse(400, {
            title: 'Idempotency error',
            details: `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`,
          }),
        );
      }
      storeKey = `${principal.credential}\u0000${idempotencyKey}`;
      fingerprint = `${method} ${route.endpoint} ${
        parsed?.ok
          ? JSON.stringify([...parsed.params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
          : `raw:${ctx.body}`
      }`;
      const stored = this.idempotency.get(storeKey);
      if (stored && this.clock.now() - stored.storedAt >= this.idempotencyTtlMs) this.idempotency.delete(storeKey);
      else if (stored && stored.fingerprint !== fingerprint) {
        return withCommon(
          errorResponse(400, {
            title: 'Idempotency error',
            details: 'This Idempotency-Key was already used with different parameters',
          }),
        );
      } else if (stored) {
        return withCommon(
          { ...stored.response, headers: { ...stored.response.headers } },
          { 'idempotent-replayed': 'true' },
        );
      }
    }

    let response: EmulatorResponse;
    if (ctx.fault?.kind === 'status') {
      response = this.forcedResponse(ctx.fault);
    } else {
      try {
        response = this.runEndpoint(route, principal, parsed, inflection);
      } catch (error) {
        response = errorResponse(500, {
          title: 'Internal server error',
          details: error instanceof Error ? error.message : String(error),
        });
      }
    }
    if (storeKey !== undefined && response.status !== 401 && response.status !== 429) {
      this.idempotency.set(storeKey, {
        fingerprint,
        response: { ...response, headers: { ...response.headers } },
        storedAt: this.clock.now(),
      });
    }
    return withCommon(response);
  }

  private runEndpoint(
    route: Route,
    principal: Principal,
    parsed: ReturnType<typeof parseParams> | undefined,
    inflection: KeyInflection,
  ): EmulatorResponse {
    if (route.endpoint === 'inquiry') return this.retrieveInquiry(route.inquiryId ?? '', principal, inflection);
    if (principal.kind !== 'api-key') {
      return errorResponse(403, {
        title: 'Forbidden',
        details: 'An OAuth access token cannot create authorizations or access tokens; use an API key',
      });
    }
    if (!parsed?.ok) {
      return errorResponse(400, {
        title: 'Bad Request',
        details: parsed?.details ?? 'The request body could not be read',
      });
    }
    return route.endpoint === 'authorize'
      ? this.createAuthorizationHttp(principal.org, parsed.params, inflection)
      : this.createAccessToken(principal.org, parsed.params, inflection);
  }

  private authenticate(header: string | undefined): Principal | Refusal {
    const title = 'Must be authenticated to access this endpoint';
    const match = header === undefined ? null : /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    const credential = match?.[1];
    if (credential === undefined) {
      return { status: 401, error: { title, details: 'Send Authorization: Bearer <API key or access token>' } };
    }
    const org = this.organizations.find((candidate) => candidate.apiKey === credential);
    if (org) return { kind: 'api-key', credential, org };
    const token = this.tokens.get(credential);
    if (token) {
      const holder = this.organizations.find((candidate) => candidate.id === token.orgId);
      if (this.clock.now() >= token.expiresAt) {
        return { status: 401, error: { title, details: 'The access token has expired' } };
      }
      if (holder) return { kind: 'access-token', credential, org: holder, token };
    }
    return { status: 401, error: { title, details: 'The API key or access token is not valid' } };
  }

  /** Counts an authenticated request in the environment's fixed 60-second window. */
  private countRequest(): { limited: boolean; headers: Record<string, string> } {
    const now = this.clock.now();
    if (!this.rateWindow || now >= this.rateWindow.start + RATE_WINDOW_MS || now < this.rateWindow.start) {
      this.rateWindow = { start: now, count: 0 };
    }
    this.rateWindow.count += 1;
    return {
      limited: this.rateWindow.count > this.rateLimit,
      headers: {
        'ratelimit-limit': String(this.rateLimit),
        'ratelimit-remaining': String(Math.max(0, this.rateLimit - this.rateWindow.count)),
        'ratelimit-reset': String(Math.max(1, Math.ceil((this.rateWindow.start + RATE_WINDOW_MS - now) / 1000))),
      },
    };
  }

  private forcedResponse(fault: Extract<EmulatorFault, { kind: 'status' }>): EmulatorResponse {
    let response: EmulatorResponse;
    if (fault.body === undefined) {
      response =
        fault.status >= 400
          ? errorResponse(fault.status, { title: statusTitle(fault.status), details: 'Injected by the emulator' })
          : jsonResponse(fault.status, {});
    } else if (typeof fault.body === 'string') {
      response = { status: fault.status, headers: { 'content-type': JSON_TYPE }, body: fault.body };
    } else {
      response = jsonResponse(fault.status, fault.body);
    }
    const headers = { ...response.headers };
    for (const [name, value] of Object.entries(fault.headers ?? {})) headers[name.toLowerCase()] = value;
    return { ...response, headers };
  }

  // ── Endpoints ─────────────────────────────────────────────────────────────

  private createAuthorizationHttp(
    caller: EmulatedOrganization,
    params: Params,
    inflection: KeyInflection,
  ): EmulatorResponse {
    const pointer = (name: string): string => `/${inflectKey(name, inflection)}`;
    const missing = (name: string): EmulatorResponse =>
      errorResponse(400, {
        title: 'Missing required parameter',
        details: `${inflectKey(name, inflection)} is required`,
        pointer: pointer(name),
      });

    const clientId = params.get('client-id');
    const responseType = params.get('response-type');
    const scope = params.get('scope');
    if (!clientId) return missing('client-id');
    if (!responseType) return missing('response-type');
    if (responseType !== 'code') {
      return errorResponse(400, {
        title: 'Invalid parameter',
        details: `${inflectKey('response-type', inflection)} must be code`,
        pointer: pointer('response-type'),
      });
    }
    if (scope === undefined || scope.trim() === '') return missing('scope');

    const scopes = this.checkScope(scope, caller, inflection);
    if (!scopes.ok && scopes.status === 400) return errorResponse(scopes.status, scopes.error);
    const recipient = this.organizations.find((org) => org.id === clientId);
    if (!recipient) {
      return errorResponse(404, {
        title: 'Record not found',
        details: `Organization ${clientId} was not found`,
        pointer: pointer('client-id'),
      });
    }
    if (recipient.id === caller.id) {
      return errorResponse(422, {
        title: 'Invalid parameter',
        details: `${inflectKey('client-id', inflection)} must name another organization than the caller`,
        pointer: pointer('client-id'),
      });
    }
    if (!scopes.ok) return errorResponse(scopes.status, scopes.error);

    const { code, expiresIn } = this.issueCode(caller, recipient, scopes.scopes);
    return jsonResponse(201, inflectDeep({ code, 'expires-in': expiresIn }, inflection), {
      'cache-control': 'no-store',
    });
  }

  private createAccessToken(caller: EmulatedOrganization, params: Params, inflection: KeyInflection): EmulatorResponse {
    const grantType = params.get('grant-type');
    const code = params.get('code');
    if (!grantType) {
      return errorResponse(400, {
        title: 'Missing required parameter',
        details: `${inflectKey('grant-type', inflection)} is required`,
        pointer: `/${inflectKey('grant-type', inflection)}`,
      });
    }
    if (grantType !== 'authorization_code') {
      return errorResponse(400, {
        title: 'Invalid parameter',
        details: `Unsupported ${inflectKey('grant-type', inflection)} ${JSON.stringify(grantType)}; the emulator supports authorization_code`,
        pointer: `/${inflectKey('grant-type', inflection)}`,
      });
    }
    if (!code) {
      return errorResponse(400, { title: 'Missing required parameter', details: 'code is required', pointer: '/code' });
    }
    const record = this.codes.get(code);
    // Another organisation's code gets the same answer as an unknown one: it must not reveal that it exists.
    if (!record || record.toOrgId !== caller.id) {
      return errorResponse(404, {
        title: 'Record not found',
        details: 'Authorization code not found',
        pointer: '/code',
      });
    }
    if (record.usedAt !== undefined) {
      return errorResponse(409, {
        title: 'Conflict',
        details: 'The authorization code has already been used',
        pointer: '/code',
      });
    }
    const now = this.clock.now();
    if (now >= record.expiresAt) {
      return errorResponse(422, {
        title: 'Unprocessable entity',
        details: 'The authorization code has expired',
        pointer: '/code',
      });
    }
    record.usedAt = now;
    const accessToken = `persona_access_token_${uuid(secureRandom)}`;
    const token: TokenRecord = {
      orgId: caller.id,
      ownerOrgId: record.fromOrgId,
      scopes: record.scopes,
      expiresAt: now + this.tokenTtlMs,
    };
    this.tokens.set(accessToken, token);
    const body = {
      'access-token': accessToken,
      'expires-in': Math.floor((token.expiresAt - now) / 1000),
      scope: token.scopes.join(' '),
      'token-type': 'bearer',
    };
    return jsonResponse(201, inflectDeep(body, inflection), { 'cache-control': 'no-store', pragma: 'no-cache' });
  }

  private retrieveInquiry(id: string, principal: Principal, inflection: KeyInflection): EmulatorResponse {
    let found: EmulatedInquiry | undefined;
    if (principal.kind === 'access-token') {
      // Outside its scope a token gets 403 whether or not the inquiry exists: the answer reveals nothing.
      if (!principal.token.scopes.includes(`inquiry.read:${id}`)) {
        return errorResponse(403, {
          title: 'Forbidden',
          details: `The access token's scope does not grant inquiry.read on ${id}`,
        });
      }
      found = this.organizations
        .find((org) => org.id === principal.token.ownerOrgId)
        ?.inquiries.find((inq) => inq.id === id);
    } else {
      found = principal.org.inquiries.find((inquiry) => inquiry.id === id);
    }
    if (!found) return errorResponse(404, { title: 'Record not found', details: `Inquiry ${id} was not found` });
    return jsonResponse(200, inflectDeep(this.inquiryDocument(found), inflection));
  }

  private inquiryDocument(inquiry: EmulatedInquiry): unknown {
    return {
      data: {
        type: 'inquiry',
        id: inquiry.id,
        attributes: {
          status: inquiry.status,
          'reference-id': inquiry.referenceId ?? null,
          'name-first': inquiry.nameFirst,
          'name-middle': inquiry.nameMiddle ?? null,
          'name-last': inquiry.nameLast,
          birthdate: inquiry.birthdate ?? null,
          'email-address': inquiry.emailAddress ?? null,
          'phone-number': inquiry.phoneNumber ?? null,
          'address-street-1': inquiry.addressStreet1 ?? null,
          'address-city': inquiry.addressCity ?? null,
          'address-subdivision': inquiry.addressSubdivision ?? null,
          'address-postal-code': inquiry.addressPostalCode ?? null,
          'address-country-code': inquiry.addressCountryCode ?? null,
          'created-at': inquiry.createdAt,
          'completed-at': inquiry.completedAt ?? null,
          tags: inquiry.tags ?? [],
        },
        relationships: {
          'inquiry-template': {
            data: inquiry.inquiryTemplateId ? { type: 'inquiry-template', id: inquiry.inquiryTemplateId } : null,
          },
          reports: { data: [] },
          verifications: { data: [] },
        },
      },
    };
  }

  // ── Delivery (where faults disturb the answer) ────────────────────────────

  private writeHead(
    res: ServerResponse,
    record: EmulatedRequest | undefined,
    requestId: string,
    status: number,
    headers: Record<string, string>,
  ): void {
    res.writeHead(status, { 'request-id': requestId, ...headers });
    if (record) record.status = status;
  }

  private send(
    res: ServerResponse,
    record: EmulatedRequest | undefined,
    requestId: string,
    response: EmulatorResponse,
  ): void {
    const body = Buffer.from(response.body, 'utf8');
    this.writeHead(res, record, requestId, response.status, {
      ...response.headers,
      'content-length': String(body.length),
    });
    res.end(body);
  }

  private deliver(
    req: IncomingMessage,
    res: ServerResponse,
    record: EmulatedRequest,
    requestId: string,
    response: EmulatorResponse,
    fault: EmulatorFault | undefined,
  ): void {
    switch (fault?.kind) {
      case 'malformed': {
        this.send(res, record, requestId, {
          status: 201,
          headers: { ...response.headers, 'content-type': JSON_TYPE },
          body: '{"access-token": "persona_access_token_',
        });
        return;
      }
      case 'oversized':
        this.sendOversized(res, record, requestId, response.headers, fault.bytes, fault.chunked === true);
        return;
      case 'no-headers':
        return;
      case 'drip':
        this.sendDrip(res, record, requestId, response, fault.intervalMs, fault.chunks ?? 10);
        return;
      case 'reset':
        if (fault.when === 'after-headers') {
          const body = Buffer.from(response.body, 'utf8');
          this.writeHead(res, record, requestId, response.status, {
            ...response.headers,
            'content-length': String(Math.max(body.length, 1)),
          });
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
            this.later(25, () => req.socket.resetAndDestroy());
          });
        } else {
          req.socket.resetAndDestroy();
        }
        return;
      default:
        this.send(res, record, requestId, response);
    }
  }

  private sendOversized(
    res: ServerResponse,
    record: EmulatedRequest,
    requestId: string,
    headers: Record<string, string>,
    bytes: number,
    chunked: boolean,
  ): void {
    const head = Buffer.from('{"access-token":"persona_access_token_');
    const tail = Buffer.from('","expires-in":3600,"scope":"","token-type":"bearer"}');
    const fillLength = Math.max(0, bytes - head.length - tail.length);
    const whole = (function* (): Generator<Buffer> {
      if (fillLength === 0) {
        yield Buffer.concat([head, tail]).subarray(0, bytes);
        return;
      }
      yield head;
      const block = Buffer.alloc(64 * 1024, 'A');
      for (let left = fillLength; left > 0; left -= block.length) yield block.subarray(0, Math.min(block.length, left));
      yield tail;
    })();
    const outHeaders: Record<string, string> = { ...headers, 'content-type': JSON_TYPE };
    delete outHeaders['content-length'];
    if (!chunked) outHeaders['content-length'] = String(bytes);
    this.writeHead(res, record, requestId, 201, outHeaders);
    const pump = (): void => {
      for (;;) {
        if (res.destroyed || this.closing) return;
        const next = whole.next();
        if (next.done) {
          res.end();
          return;
        }
        if (!res.write(next.value)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  }

  private sendDrip(
    res: ServerResponse,
    record: EmulatedRequest,
    requestId: string,
    response: EmulatorResponse,
    intervalMs: number,
    chunks: number,
  ): void {
    const body = Buffer.from(response.body, 'utf8');
    this.writeHead(res, record, requestId, response.status, {
      ...response.headers,
      'content-length': String(body.length),
    });
    res.flushHeaders();
    const count = Math.max(1, Math.min(chunks, body.length));
    const size = Math.ceil(body.length / count);
    let sent = 0;
    const step = (): void => {
      if (res.destroyed) return;
      const piece = body.subarray(sent, sent + size);
      sent += piece.length;
      if (sent >= body.length) res.end(piece);
      else {
        res.write(piece);
        this.later(intervalMs, step);
      }
    };
    this.later(intervalMs, step);
  }

  // ── Control endpoints (only with `control: true`) ─────────────────────────

  private async onControl(
    req: IncomingMessage,
    res: ServerResponse,
    pathname: string,
    requestId: string,
  ): Promise<void> {
    const read = await readBody(req, this.maxBodyBytes, this.maxBodyBytes);
    const method = req.method ?? 'GET';
    const reply = (response: EmulatorResponse): void => this.send(res, undefined, requestId, response);
    const bad = (details: string): void => reply(errorResponse(400, { title: 'Bad Request', details }));
    let input: Record<string, unknown> = {};
    if (method === 'POST') {
      if (read.tooLarge) return bad('body too large');
      const text = read.bytes.toString('utf8');
      try {
        const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
        if (value === null || typeof value !== 'object' || Array.isArray(value))
          return bad('the body must be a JSON object');
        input = value as Record<string, unknown>;
      } catch {
        return bad('the body is not valid JSON');
      }
    }
    try {
      if (pathname === '/__emulator/faults' && method === 'POST') {
        if (!isEmulatorEndpoint(input.endpoint)) return bad('endpoint must be authorize, token or inquiry');
        const fault = input.fault === null || input.fault === undefined ? null : validateFault(input.fault);
        if (input.times !== undefined && typeof input.times !== 'number') return bad('times must be a number');
        this.setFault(input.endpoint, fault, input.times === undefined ? {} : { times: input.times });
        return reply(jsonResponse(200, { ok: true }));
      }
      if (pathname === '/__emulator/faults' && method === 'DELETE') {
        const endpoint = new URL(req.url ?? '/', 'http://emulator.invalid').searchParams.get('endpoint');
        if (endpoint === null) this.clearFaults();
        else if (isEmulatorEndpoint(endpoint)) this.setFault(endpoint, null);
        else return bad('endpoint must be authorize, token or inquiry');
        return reply(jsonResponse(200, { ok: true }));
      }
      if (pathname === '/__emulator/clock' && method === 'POST') {
        if (typeof input.advance === 'number') this.clock.advance(input.advance);
        else if (typeof input.set === 'number') this.clock.set(input.set);
        else if (input.advance !== undefined || input.set !== undefined) return bad('advance and set must be numbers');
        return reply(jsonResponse(200, { now: this.clock.now() }));
      }
      if (pathname === '/__emulator/rate-limit/reset' && method === 'POST') {
        this.resetRateLimit();
        return reply(jsonResponse(200, { ok: true }));
      }
    } catch (error) {
      return bad(error instanceof Error ? error.message : String(error));
    }
    reply(errorResponse(404, { title: 'Not Found', details: `No control route ${method} ${pathname}` }));
  }
}

/**
 * Starts a Persona emulator: a real HTTP server (127.0.0.1, a free port unless told otherwise)
 * speaking Persona's OAuth endpoints and `GET /api/v1/inquiries/:id`, seeded with an owner
 * organisation (six inquiries) and a recipient (two of its own). Resolves once it listens.
 * Throws RangeError on invalid options; rejects when the port cannot be bound.
 */
export async function startPersonaEmulator(options: PersonaEmulatorOptions = {}): Promise<PersonaEmulator> {
  const emulator = new Emulator(options);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError('port must be an integer from 0 to 65535');
  await emulator.listen(port, options.host ?? '127.0.0.1');
  return emulator;
}
