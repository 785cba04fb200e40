import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { ProxyAgent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCodeExchanger } from '../../src/index.js';
import { startTokenServer, TOKEN_BODY, type TokenServer } from '../helpers/token-server.js';

// The exchange runs on `dispatcher.dispatch()`: a dispatcher the application passes in (here an
// HTTP proxy, both as a CONNECT tunnel and as a forward proxy) carries it, retries included, over
// real sockets on loopback.

const API_KEY = 'persona_dispatchers_suite_api_key_0123456789';
let tokenServer: TokenServer;
let proxy: Server;
let proxyURL = '';
const proxySockets = new Set<Socket>();
/** What reached the proxy: `CONNECT host:port`, or a forwarded request's method and URL. */
const proxied: string[] = [];
let answers: number[] = [];

beforeAll(async () => {
  tokenServer = await startTokenServer((_req, res) => {
    const status = answers.shift() ?? 201;
    res.writeHead(status, { 'content-type': 'application/json', 'ratelimit-reset': '0', 'request-id': 'req_proxy' });
    res.end(status === 201 ? JSON.stringify(TOKEN_BODY) : '{"errors":[{"title":"Rate limit exceeded"}]}');
  });
  proxy = createServer((req, res) => {
    proxied.push(`${req.method} ${req.url}`);
    const forwarded = httpRequest(req.url ?? '', { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(forwarded);
  });
  proxy.on('connect', (req, client: Socket) => {
    proxied.push(`CONNECT ${req.url}`);
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  proxy.on('connection', (socket: Socket) => {
    proxySockets.add(socket);
    socket.on('close', () => proxySockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyURL = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of proxySockets) socket.destroy();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await tokenServer.close();
});

afterEach(() => {
  proxied.length = 0;
  tokenServer.requests.length = 0;
  answers = [];
});

describe('a user-supplied ProxyAgent carries the exchange', () => {
  it('through a CONNECT tunnel', async () => {
    const dispatcher = new ProxyAgent({ uri: proxyURL });
    try {
      const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: tokenServer.url, dispatcher });
      const tokens = await exchanger.exchange('code-through-a-tunnel-0123');
      expect(tokens).toMatchObject({ accessToken: TOKEN_BODY['access-token'], requestId: 'req_proxy' });
      expect(proxied).toEqual([`CONNECT ${new URL(tokenServer.url).host}`]);
      expect(tokenServer.requests).toHaveLength(1);
      expect(tokenServer.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    } finally {
      await dispatcher.close();
    }
  });

  it('as a forward proxy, a 429 retried on the same URL with the same Idempotency-Key', async () => {
    answers = [429];
    const dispatcher = new ProxyAgent({ uri: proxyURL, proxyTunnel: false });
    try {
      const exchanger = createCodeExchanger({ apiKey: API_KEY, baseURL: tokenServer.url, dispatcher, retries: 1 });
      const tokens = await exchanger.exchange('code-through-a-forward-proxy-0123');
      expect(tokens.accessToken).toBe(TOKEN_BODY['access-token']);
      const url = `${tokenServer.url}/api/v1/oauth/token`;
      expect(proxied).toEqual([`POST ${url}`, `POST ${url}`]);
      const keys = tokenServer.requests.map((seen) => seen.headers['idempotency-key']);
      expect(keys).toHaveLength(2);
      expect(keys[1]).toBe(keys[0]);
      expect(tokenServer.requests.map((seen) => seen.body)).toEqual([
        'code=code-through-a-forward-proxy-0123&grant-type=authorization_code',
        'code=code-through-a-forward-proxy-0123&grant-type=authorization_code',
      ]);
    } finally {
      await dispatcher.close();
    }
  });
});
