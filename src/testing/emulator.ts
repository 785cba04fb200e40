import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  deliver,
  ENDPOINT_NAMES,
  FaultBoard,
  forcedResponse,
  isEmulatorEndpoint,
  redirectResponse,
  send,
  Timers,
  validateFault,
  type Outlet,
} from './faults.js';
import { errorResponse, isObject, jsonResponse, readBody, type EmulatorResponse } from './http.js';
import { ObjectRegistry } from './objects.js';
import { createAuthorizationDirect } from './oauth.js';
import {
  createPipelineState,
  decideResponse,
  matchRoute,
  NO_ROUTE,
  pathnameOf,
  type PipelineState,
} from './pipeline.js';
import { OWNER_INQUIRIES, OWNER_VERIFICATIONS, RECIPIENT_INQUIRIES, RECIPIENT_VERIFICATIONS } from './seed-data.js';
import {
  createClock,
  prefixedId,
  readSettings,
  secureRandom,
  seededRandom,
  type EmulatorSettings,
} from './settings.js';
import type {
  EmulatedInquiry,
  EmulatedOrganization,
  EmulatedRequest,
  EmulatedVerification,
  EmulatorClock,
  EmulatorEndpoint,
  EmulatorFault,
  OrganizationInit,
  PersonaEmulator,
  PersonaEmulatorOptions,
} from './types.js';

// Requests between two sweeps of expired records.
const SWEEP_EVERY = 1000;

/** The emulator behind the {@link PersonaEmulator} handle: its server, its state and the handle's methods. */
class Emulator implements PersonaEmulator {
  url = '';
  readonly environmentId: string;
  readonly owner: EmulatedOrganization;
  readonly recipient: EmulatedOrganization;
  readonly requests: EmulatedRequest[] = [];
  readonly clock: EmulatorClock;

  private readonly settings: EmulatorSettings;
  private readonly registry: ObjectRegistry;
  private readonly state: PipelineState;
  private readonly server: Server;
  private readonly faults = new FaultBoard();
  private readonly timers = new Timers();
  private readonly sockets = new Set<Socket>();
  private sinceSweep = 0;
  private closing: Promise<void> | undefined;

  constructor(options: PersonaEmulatorOptions) {
    this.settings = readSettings(options);
    const { settings } = this;
    this.clock = createClock(settings.start, settings.freezeClock);
    const dataRandom = options.seed === undefined ? secureRandom : seededRandom(options.seed);
    this.environmentId = prefixedId(dataRandom, 'env_');
    this.registry = new ObjectRegistry(dataRandom, this.clock);
    this.owner = this.registry.addOrganization({ name: 'Northwind Identity' });
    this.recipient = this.registry.addOrganization({ name: 'Contoso Lending' });
    for (const seed of OWNER_INQUIRIES) this.registry.seedInquiry(this.owner, seed, settings.start);
    for (const seed of RECIPIENT_INQUIRIES) this.registry.seedInquiry(this.recipient, seed, settings.start);
    for (const seed of OWNER_VERIFICATIONS) this.registry.seedVerification(this.owner, seed);
    for (const seed of RECIPIENT_VERIFICATIONS) this.registry.seedVerification(this.recipient, seed);
    this.state = createPipelineState(this.registry, this.clock, settings, this.environmentId);
    this.server = this.createServer();
  }

  private createServer(): Server {
    const server = createServer((req, res) => {
      void this.onRequest(req, res);
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('clientError', (_error, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    return server;
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

  get organizations(): EmulatedOrganization[] {
    return this.registry.organizations;
  }

  addOrganization(init: OrganizationInit = {}): EmulatedOrganization {
    return this.registry.addOrganization(init);
  }

  addInquiry(orgId: string, init: Partial<EmulatedInquiry> = {}): EmulatedInquiry {
    return this.registry.addInquiry(orgId, init);
  }

  addVerification(orgId: string, init: Partial<EmulatedVerification> = {}): EmulatedVerification {
    return this.registry.addVerification(orgId, init);
  }

  createAuthorization(init: { scope: string | string[]; from?: string; clientId?: string }): {
    code: string;
    expiresIn: number;
  } {
    return createAuthorizationDirect(this.state, init, this.owner.id, this.recipient.id);
  }

  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options: { times?: number } = {}): void {
    this.faults.set(endpoint, fault, options.times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  resetRateLimit(): void {
    this.state.rateLimiter.reset();
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.timers.close();
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

  // ── Requests ──────────────────────────────────────────────────────────────

  /**
   * Drops what can no longer change an answer, so a long-running emulator stays bounded: stored
   * idempotent answers past their lifetime, and codes and tokens expired for longer than that
   * lifetime.
   */
  private sweep(): void {
    this.sinceSweep = 0;
    const now = this.clock.now();
    this.state.idempotency.sweep(now);
    this.state.grants.sweep(now, this.settings.idempotencyTtlMs);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const out: Outlet = { res, record: undefined, requestId: prefixedId(secureRandom, 'req_') };
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    try {
      const target = req.url ?? '/';
      const pathname = pathnameOf(target);
      if (this.settings.control && pathname?.startsWith('/__emulator/')) {
        send(out, await controlResponse(this, req, pathname, this.settings.maxBodyBytes));
        return;
      }
      const route = pathname === undefined ? NO_ROUTE : matchRoute(pathname);
      const maxBody = this.settings.maxBodyBytes;
      const read = await readBody(req, maxBody, Math.max(maxBody * 16, 1024 * 1024));
      if (this.timers.closed) return;
      out.record = {
        endpoint: route.endpoint,
        method: req.method ?? 'GET',
        path: target,
        headers: { ...req.headers },
        body: read.bytes.toString('utf8'),
        status: undefined,
        requestId: out.requestId,
        receivedAt: this.clock.now(),
      };
      recordRequest(this.requests, out.record, this.settings.maxRecordedRequests);
      this.sinceSweep += 1;
      if (this.sinceSweep >= SWEEP_EVERY) this.sweep();
      // A client that hung up mid-body gets nothing processed: a cut body is not a request.
      if (!read.complete) return;
      const fault = route.endpoint === 'other' ? undefined : this.faults.take(route.endpoint);
      if (fault?.kind === 'latency' && !(await this.timers.sleep(fault.ms))) return;
      // These come from in front of Persona: nothing is checked, processed, stored or counted.
      if (fault?.kind === 'redirect') send(out, redirectResponse(fault, `${this.url}${target}`));
      else if (fault?.kind === 'status' && fault.layer === 'edge') send(out, forcedResponse(fault));
      else {
        const response = decideResponse(this.state, {
          req,
          route,
          body: out.record.body,
          tooLarge: read.tooLarge,
          fault,
        });
        if (read.tooLarge) response.headers.connection = 'close';
        deliver(req, out, response, fault, this.timers);
      }
    } catch (error) {
      failSafe(out, error);
    }
  }
}

/** Last resort: a thrown error becomes a 500 in Persona's form (or a closed socket when too late). */
function failSafe(out: Outlet, error: unknown): void {
  if (out.res.headersSent) {
    out.res.destroy();
    return;
  }
  const details = error instanceof Error ? error.message : String(error);
  send(out, errorResponse(500, 'Internal server error', details));
}

/**
 * Starts a Persona emulator: a real HTTP server (127.0.0.1, a free port unless told otherwise)
 * speaking Persona's OAuth endpoints, `GET /api/v1/inquiries/:id` and
 * `GET /api/v1/verifications/:id`, seeded with an owner organisation (six inquiries and the
 * eleven verifications they ran) and a recipient (two inquiries and a verification of its own).
 * Resolves once it listens.
 * Rejects with a RangeError on an invalid option (TypeError on a `personaVersions` entry that is
 * not a date), or with the listen error when the port cannot be bound.
 */
export async function startPersonaEmulator(options: PersonaEmulatorOptions = {}): Promise<PersonaEmulator> {
  const emulator = new Emulator(options);
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError('port must be an integer from 0 to 65535');
  await emulator.listen(port, options.host ?? '127.0.0.1');
  return emulator;
}

/** Appends a request to the log, dropping the oldest beyond `cap` (0 keeps none). */
function recordRequest(log: EmulatedRequest[], record: EmulatedRequest, cap: number): void {
  if (cap <= 0) return;
  log.push(record);
  if (log.length > cap) log.splice(0, log.length - cap);
}

// ── Control endpoints: the handle's faults, clock and rate limit over HTTP ──

/** What the control endpoints drive: the handle's fault, clock and rate-limit methods. */
interface ControlTarget {
  clock: EmulatorClock;
  setFault(endpoint: EmulatorEndpoint, fault: EmulatorFault | null, options?: { times?: number }): void;
  clearFaults(): void;
  resetRateLimit(): void;
}

type Input = Record<string, unknown>;

const ok = (): EmulatorResponse => jsonResponse(200, { ok: true });
const bad = (details: string): EmulatorResponse => errorResponse(400, 'Bad Request', details);

/** A POST body as a JSON object (empty → `{}`); throws saying why not. */
async function readInput(req: IncomingMessage, maxBodyBytes: number): Promise<Input> {
  const read = await readBody(req, maxBodyBytes, maxBodyBytes);
  if ((req.method ?? 'GET') !== 'POST') return {};
  if (read.tooLarge) throw new Error('body too large');
  const text = read.bytes.toString('utf8');
  let value: unknown = {};
  try {
    if (text.trim() !== '') value = JSON.parse(text);
  } catch {
    throw new Error('the body is not valid JSON');
  }
  if (!isObject(value)) throw new Error('the body must be a JSON object');
  return value;
}

function postFault(target: ControlTarget, input: Input): EmulatorResponse {
  if (!isEmulatorEndpoint(input.endpoint)) return bad(`endpoint must be ${ENDPOINT_NAMES}`);
  const fault = input.fault === null || input.fault === undefined ? null : validateFault(input.fault);
  if (input.times !== undefined && typeof input.times !== 'number') return bad('times must be a number');
  target.setFault(input.endpoint, fault, input.times === undefined ? {} : { times: input.times });
  return ok();
}

function deleteFaults(target: ControlTarget, url: string): EmulatorResponse {
  const endpoint = new URL(url, 'http://emulator.invalid').searchParams.get('endpoint');
  if (endpoint === null) target.clearFaults();
  else if (isEmulatorEndpoint(endpoint)) target.setFault(endpoint, null);
  else return bad(`endpoint must be ${ENDPOINT_NAMES}`);
  return ok();
}

function postClock(target: ControlTarget, input: Input): EmulatorResponse {
  if (typeof input.advance === 'number') target.clock.advance(input.advance);
  else if (typeof input.set === 'number') target.clock.set(input.set);
  else if (input.advance !== undefined || input.set !== undefined) return bad('advance and set must be numbers');
  return jsonResponse(200, { now: target.clock.now() });
}

/**
 * Answers a request under `/__emulator/` (only when the emulator runs with `control: true`):
 * faults, clock and rate-limit reset, driven over HTTP by tests in another process. A thrown
 * validation error becomes a 400 saying what is wrong.
 */
async function controlResponse(
  target: ControlTarget,
  req: IncomingMessage,
  pathname: string,
  maxBodyBytes: number,
): Promise<EmulatorResponse> {
  const method = req.method ?? 'GET';
  try {
    const input = await readInput(req, maxBodyBytes);
    if (pathname === '/__emulator/faults' && method === 'POST') return postFault(target, input);
    if (pathname === '/__emulator/faults' && method === 'DELETE') return deleteFaults(target, req.url ?? '/');
    if (pathname === '/__emulator/clock' && method === 'POST') return postClock(target, input);
    if (pathname === '/__emulator/rate-limit/reset' && method === 'POST') {
      target.resetRateLimit();
      return ok();
    }
  } catch (error) {
    return bad(error instanceof Error ? error.message : String(error));
  }
  return errorResponse(404, 'Not Found', `No control route ${method} ${pathname}`);
}
