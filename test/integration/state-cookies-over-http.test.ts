import {
  request as httpGet,
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, request as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../bench/tls.mjs';
import { attachStateResponse, createStateStore } from '../../src/index.js';

// Signed state on plain node:http and node:https, with the response attached by the app: a TLS
// socket alone makes the nonce cookie Secure, and a Set-Cookie the app already set is kept.

const SECRETS = ['a signed-state secret for node:http and node:https'];
const store = createStateStore({ signed: { secrets: SECRETS } });

type Server = ReturnType<typeof createHttpServer>;
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function startFlow(req: IncomingMessage, res: ServerResponse, before?: (res: ServerResponse) => void) {
  before?.(res);
  attachStateResponse(req, res);
  const state = await store.store(req, {});
  res.writeHead(302, { location: `/authorize?state=${state}` });
  res.end();
}

function listen(server: Server): Promise<number> {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function setCookiesOf(res: IncomingMessage): string[] {
  return res.headers['set-cookie'] ?? [];
}

describe('signed state on node:http and node:https', () => {
  it('a TLS socket makes the nonce cookie Secure and __Host-, with no framework and no proxy', async () => {
    const { key, cert } = selfSignedCertificate('passport-withpersona state cookies');
    const port = await listen(createHttpsServer({ key, cert }, (req, res) => void startFlow(req, res)));
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      httpsGet({ host: '127.0.0.1', port, path: '/start', ca: cert, servername: 'localhost' }, (res) => {
        res.resume();
        resolve(res);
      })
        .on('error', reject)
        .end();
    });
    expect(answer.statusCode).toBe(302);
    expect(setCookiesOf(answer)).toEqual([
      expect.stringMatching(/^__Host-pwp_state_[\w-]{16}=[0-9a-z]+\.[\w-]{22}; Path=\/; .*; Secure$/),
    ]);
  });

  it('over plain HTTP the same cookie is neither Secure nor prefixed', async () => {
    const port = await listen(createHttpServer((req, res) => void startFlow(req, res)));
    const answer = await get(port);
    expect(setCookiesOf(answer)).toEqual([expect.stringMatching(/^pwp_state_[\w-]{16}=[^;]+; Path=\/; .*Lax$/)]);
  });

  it('keeps a Set-Cookie the app set before, given as one line', async () => {
    const port = await listen(
      createHttpServer((req, res) => void startFlow(req, res, (r) => r.setHeader('set-cookie', 'theme=dark; Path=/'))),
    );
    const answer = await get(port);
    expect(setCookiesOf(answer)).toEqual(['theme=dark; Path=/', expect.stringMatching(/^pwp_state_[\w-]{16}=/)]);
  });

  it('keeps the Set-Cookie lines the app set before, given as a list', async () => {
    const port = await listen(
      createHttpServer(
        (req, res) => void startFlow(req, res, (r) => r.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/'])),
      ),
    );
    const answer = await get(port);
    expect(setCookiesOf(answer)).toEqual([
      'a=1; Path=/',
      'b=2; Path=/',
      expect.stringMatching(/^pwp_state_[\w-]{16}=/),
    ]);
  });
});

function get(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port, path: '/start' }, (res) => {
      res.resume();
      resolve(res);
    })
      .on('error', reject)
      .end();
  });
}
