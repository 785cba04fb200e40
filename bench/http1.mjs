// The load generator's HTTP client: one keep-alive HTTP/1.1 connection, one request at a time,
// over a plain socket. Written out rather than taken from undici so the load side has no pool, no
// one-turn wait before reusing a socket and next to no CPU of its own: what it measures is the
// server. It reads what the callback servers send (a status, a few headers, a Content-Length body)
// and refuses anything else loudly.
import net from 'node:net';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Parses a response head: status and the headers the flows need, names lower-cased. */
function parseHead(text) {
  const lines = text.split('\r\n');
  const status = Number(lines[0]?.slice(9, 12));
  const headers = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    // set-cookie may repeat; the flows want the first cookie only.
    if (!(name in headers)) headers[name] = value;
  }
  return { status, headers };
}

export class Connection {
  constructor(port) {
    this.port = port;
    this.socket = null;
    this.pending = null;
    this.buffer = Buffer.alloc(0);
  }

  #connect() {
    const socket = net.connect({ port: this.port, host: '127.0.0.1', noDelay: true });
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.#fail(new Error('connection closed by the server before the response'));
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
  }

  #fail(err) {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(err);
  }

  #onData(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const pending = this.pending;
    if (!pending) return;
    if (!pending.head) {
      const end = this.buffer.indexOf(HEAD_END);
      if (end === -1) return;
      pending.head = parseHead(this.buffer.subarray(0, end).toString('latin1'));
      this.buffer = this.buffer.subarray(end + 4);
      const length = pending.head.headers['content-length'];
      if (length === undefined) {
        this.#fail(new Error(`response without Content-Length (status ${pending.head.status})`));
        this.socket?.destroy();
        return;
      }
      pending.length = Number(length);
    }
    if (this.buffer.length < pending.length) return;
    const body = this.buffer.subarray(0, pending.length).toString('utf8');
    this.buffer = this.buffer.subarray(pending.length);
    this.pending = null;
    if (pending.head.headers.connection === 'close') this.socket?.destroy();
    pending.resolve({ ...pending.head, body });
  }

  /** GET `path`, with a Cookie header when `cookie` is given; resolves { status, headers, body }. */
  get(path, cookie) {
    if (this.pending) return Promise.reject(new Error('one request at a time on a Connection'));
    if (!this.socket) this.#connect();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, head: null, length: 0 };
      const cookieLine = cookie ? `cookie: ${cookie}\r\n` : '';
      this.socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${this.port}\r\n${cookieLine}\r\n`);
    });
  }

  close() {
    this.socket?.destroy();
    this.socket = null;
  }
}
