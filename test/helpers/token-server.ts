import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  remotePort: number | undefined;
}

export interface TokenServer {
  url: string;
  requests: RecordedRequest[];
  /** Connections accepted so far. */
  connections: number;
  /** Sockets still open right now. */
  openSockets(): number;
  close(): Promise<void>;
}

/** A Persona-style success body for tests that only need a token. */
export const TOKEN_BODY = {
  'access-token': 'persona_access_token_00000000-0000-4000-8000-000000000000',
  'expires-in': 3599,
  scope: 'inquiry.read:inq_AAA',
  'token-type': 'bearer',
};

/**
 * A bare node:http server on 127.0.0.1 for the cases the emulator does not model (raw socket
 * tricks, connection counting). `handler` gets the request with its body already read.
 */
export async function startTokenServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json', 'request-id': 'req_test' });
    res.end(JSON.stringify(TOKEN_BODY));
  },
): Promise<TokenServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        remotePort: req.socket.remotePort,
      });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return state.connections;
    },
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
