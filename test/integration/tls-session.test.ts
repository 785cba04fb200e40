import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../bench/tls.mjs';

// The exchanger's own pool keeps one TLS connector, and with it the session cache: a new
// connection to Persona resumes the last TLS session (one round trip less, no certificate check)
// instead of a full handshake. The token endpoint here closes every connection after its answer,
// so each exchange needs a new one.

const CHILD = fileURLToPath(new URL('./fixtures/sequential-child.mjs', import.meta.url));
const EXCHANGES = 4;

let server: Server;
let directory = '';
let caFile = '';
/** Per TLS connection accepted: whether it resumed a session. */
const resumed: boolean[] = [];

beforeAll(async () => {
  const { key, cert } = selfSignedCertificate('passport-withpersona tls-session suite');
  directory = mkdtempSync(path.join(tmpdir(), 'pwp-tls-session-'));
  caFile = path.join(directory, 'ca.pem');
  writeFileSync(caFile, cert);
  server = createServer({ key, cert }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, {
        'content-type': 'application/json',
        'request-id': `req_${resumed.length}`,
        connection: 'close',
      });
      res.end(
        JSON.stringify({
          'access-token': 'persona_access_token_x',
          'expires-in': 3599,
          scope: '',
          'token-type': 'bearer',
        }),
      );
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => resumed.push(socket.isSessionReused()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(directory, { recursive: true, force: true });
});

describe('TLS session resumption in the exchanger’s own pool', () => {
  it('a new connection after the first resumes the TLS session', async () => {
    const baseURL = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { stdout } = await promisify(execFile)(process.execPath, [CHILD, baseURL, String(EXCHANGES)], {
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    });
    const outcomes = JSON.parse(stdout) as { outcome: string }[];
    expect(outcomes.map((o) => o.outcome)).toEqual(Array(EXCHANGES).fill('success'));
    expect(resumed).toEqual([false, ...Array(EXCHANGES - 1).fill(true)]);
  });
});
