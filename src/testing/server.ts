import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { controlResponse } from './control.js';
import { deliver, send, Timers, type Outlet } from './delivery.js';
import { forcedResponse, redirectResponse } from './faults.js';
import { internalError, readBody } from './http.js';
import { decideResponse, matchRoute, type EmulatorState } from './pipeline.js';
import { prefixedId, secureRandom } from './settings.js';
import type { EmulatedRequest } from './types.js';

// Requests between two sweeps of expired records.
const SWEEP_EVERY = 1000;

/** The emulator's HTTP server: reads and records each request, and sends the answer decided as its fault lets it. */
export class EmulatorServer {
  url = '';
  /** The request log the handle hands out, kept in place. */
  readonly requests: EmulatedRequest[] = [];
  private readonly server: Server;
  private readonly timers = new Timers();
  private readonly sockets = new Set<Socket>();
  private sinceSweep = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly state: EmulatorState) {
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

  /** Listens, and sets `url`; rejects with the listen error (EADDRINUSE, say). */
  async listen(port: number, host: string): Promise<void> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    const { address, family, port: bound } = this.server.address() as AddressInfo;
    this.url = `http://${family === 'IPv6' ? `[${address}]` : address}:${bound}`;
  }

  /** Stops listening and destroys every open socket; cancels every timer. Safe to call twice. */
  close(): Promise<void> {
    this.timers.close();
    this.closing ??= new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  /** Logs a request, dropping the oldest beyond the cap, and now and then drops what can no longer change an answer. */
  private record(record: EmulatedRequest): void {
    const { settings, clock, idempotency, grants } = this.state;
    const cap = settings.maxRecordedRequests;
    this.requests.push(record);
    if (this.requests.length > cap) this.requests.splice(0, this.requests.length - cap);
    this.sinceSweep += 1;
    if (this.sinceSweep < SWEEP_EVERY) return;
    // Stored idempotent answers past their lifetime, and codes and tokens expired for longer than that.
    this.sinceSweep = 0;
    idempotency.sweep();
    grants.sweep(clock.now(), settings.idempotencyTtlMs);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const out: Outlet = { res, record: undefined, requestId: prefixedId(secureRandom, 'req_') };
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    try {
      const { settings, faults } = this.state;
      const target = req.url ?? '/';
      const route = matchRoute(target);
      if (settings.control && route.pathname.startsWith('/__emulator/')) {
        send(out, await controlResponse(this.state, req, route));
        return;
      }
      const read = await readBody(req, settings.maxBodyBytes, Math.max(settings.maxBodyBytes * 16, 1024 * 1024));
      if (this.timers.closed) return;
      const body = read.bytes.toString('utf8');
      out.record = {
        endpoint: route.endpoint,
        method: req.method ?? 'GET',
        path: target,
        headers: { ...req.headers },
        body,
        status: undefined,
        requestId: out.requestId,
        receivedAt: this.state.clock.now(),
      };
      this.record(out.record);
      // A client that hung up mid-body gets nothing processed: a cut body is not a request.
      if (!read.complete) return;
      const fault = route.endpoint === 'other' ? undefined : faults.take(route.endpoint);
      if (fault?.kind === 'latency' && !(await this.timers.sleep(fault.ms))) return;
      // These come from in front of Persona: nothing is checked, processed, stored or counted.
      if (fault?.kind === 'redirect') send(out, redirectResponse(fault, `${this.url}${target}`));
      else if (fault?.kind === 'status' && fault.layer === 'edge') send(out, forcedResponse(fault));
      else {
        const response = decideResponse(this.state, { req, route, body, tooLarge: read.tooLarge, fault });
        if (read.tooLarge) response.headers.connection = 'close';
        deliver(req, out, response, fault, this.timers);
      }
    } catch (error) {
      // Last resort: a 500 in Persona's form, or a closed socket when the answer had started.
      if (res.headersSent) res.destroy();
      else send(out, internalError(error));
    }
  }
}
