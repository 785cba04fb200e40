import { createServer, type Server, type Socket } from 'node:net';

/** What the server does with one complete request: `head` is its request line and headers. */
export type Behaviour = (socket: Socket, attempt: number, head: string) => void;

export interface RawServer {
  url: string;
  /** `https://` on the same port: a TLS client gets its TCP connection and never a handshake. */
  httpsURL: string;
  /** The request heads received since the last `act()`. */
  heads: string[];
  sockets: Set<Socket>;
  /** What to do with the next requests; resets `heads`. */
  act(behaviour: Behaviour): void;
  close(): Promise<void>;
}

/**
 * A raw TCP server on 127.0.0.1 that speaks just enough HTTP/1.1 to misbehave in every way a
 * Persona endpoint can: it reads each request whole, then acts out the current behaviour.
 */
export async function startRawServer(): Promise<RawServer> {
  const sockets = new Set<Socket>();
  const heads: string[] = [];
  let behaviour: Behaviour = () => {};
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1 || !/^[A-Z]+ \//.test(buffered)) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
      if (buffered.length - end - 4 < length) return;
      const head = buffered.slice(0, end);
      buffered = '';
      heads.push(head);
      behaviour(socket, heads.length, head);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    httpsURL: `https://127.0.0.1:${port}`,
    heads,
    sockets,
    act(next) {
      behaviour = next;
      heads.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An HTTP/1.1 response with a length, a Request-Id and (unless given) a JSON content type. */
export function respond(status: number, body: string, headers: Record<string, string> = {}): string {
  const head = [`HTTP/1.1 ${status} X`, `content-length: ${Buffer.byteLength(body)}`];
  if (!('request-id' in headers)) head.push('request-id: req_raw');
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  if (!('content-type' in headers)) head.push('content-type: application/json');
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** Answers every request with `status` and `value` as JSON. */
export function json(status: number, value: unknown, headers?: Record<string, string>): Behaviour {
  return (socket) => socket.end(respond(status, JSON.stringify(value), headers));
}
