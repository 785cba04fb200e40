// Persona-style token endpoint stub for the benchmark, its own process:
//   node bench/stub.mjs [--tls DIR] [--round-trip MS]
// With --tls, HTTPS with DIR/key.pem and DIR/cert.pem; with --round-trip, every connection goes
// through bench/delay.mjs, so each request and each TLS handshake costs that many milliseconds.
//
// POST /api/v1/oauth/token answers 201 with a fixed token response (fresh access-token uuid each
// time) in kebab-case, or in snake_case when asked with `Key-Inflection: snake`: passport-oauth2
// reads only `access_token`, so it cannot use Persona's default kebab-case answer.
// It checks what a real token endpoint would (Bearer API key, form body, a code, the grant type in
// kebab or snake spelling) and answers 4xx otherwise, so a server doing the wrong exchange fails the
// run. The runner asks for counters over IPC ({ stats: true }): exchanges, rejections, and the TLS
// handshakes completed ('secureConnection' events), resumed sessions among them.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { exitWithParent, reportReady } from './child.mjs';
import { API_KEY, EXPIRES_IN, SCOPE, TOKEN_PATH } from './common.mjs';
import { withRoundTrip } from './delay.mjs';

const { values: args } = parseArgs({
  options: { tls: { type: 'string' }, 'round-trip': { type: 'string', default: '0' } },
});
const roundTripMs = Number(args['round-trip']);
if (!Number.isFinite(roundTripMs) || roundTripMs < 0) {
  console.error('usage: node bench/stub.mjs [--tls DIR] [--round-trip MS]');
  process.exit(2);
}

const stats = {
  exchanges: 0,
  kebab: 0,
  snake: 0,
  camel: 0,
  rejected: 0,
  lastRejection: null,
  handshakes: 0,
  resumed: 0,
};
let requestSeq = 0;

function reject(res, status, title, details) {
  stats.rejected++;
  stats.lastRejection = `${status} ${title}: ${details}`;
  const body = JSON.stringify({ errors: [{ title, details }] });
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Request-Id': `req_bench${++requestSeq}`,
  });
  res.end(body);
}

function tokenBody(inflection) {
  const accessToken = `persona_access_token_${randomUUID()}`;
  if (inflection === 'snake') {
    return JSON.stringify({
      access_token: accessToken,
      expires_in: EXPIRES_IN,
      scope: SCOPE,
      token_type: 'bearer',
    });
  }
  if (inflection === 'camel') {
    return JSON.stringify({
      accessToken,
      expiresIn: EXPIRES_IN,
      scope: SCOPE,
      tokenType: 'bearer',
    });
  }
  return JSON.stringify({
    'access-token': accessToken,
    'expires-in': EXPIRES_IN,
    scope: SCOPE,
    'token-type': 'bearer',
  });
}

function handleToken(req, res, raw) {
  if (req.headers.authorization !== `Bearer ${API_KEY}`) {
    return reject(res, 401, 'Unauthorized', 'Invalid API key');
  }
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return reject(res, 400, 'Bad Request', `unexpected content-type ${JSON.stringify(type)}`);
  }
  const form = new URLSearchParams(raw);
  const code = form.get('code');
  const grant = form.get('grant-type') ?? form.get('grant_type') ?? form.get('grantType');
  if (!code) return reject(res, 400, 'Bad Request', 'code is required');
  if (grant !== 'authorization_code') {
    return reject(res, 400, 'Bad Request', 'grant-type must be authorization_code');
  }
  const inflection = String(req.headers['key-inflection'] ?? 'kebab').toLowerCase();
  const body = tokenBody(inflection);
  stats.exchanges++;
  if (inflection === 'snake' || inflection === 'camel') stats[inflection]++;
  else stats.kebab++;
  res.writeHead(201, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'Request-Id': `req_bench${++requestSeq}`,
  });
  res.end(body);
}

function handle(req, res) {
  if (req.method !== 'POST' || req.url !== TOKEN_PATH) {
    req.resume();
    return reject(res, 404, 'Not Found', `${req.method} ${req.url}`);
  }
  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    raw += chunk;
  });
  req.on('end', () => handleToken(req, res, raw));
}

const server = args.tls
  ? https.createServer(
      {
        key: readFileSync(path.join(args.tls, 'key.pem')),
        cert: readFileSync(path.join(args.tls, 'cert.pem')),
      },
      handle,
    )
  : http.createServer(handle);
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.on('secureConnection', (socket) => {
  stats.handshakes++;
  if (socket.isSessionReused()) stats.resumed++;
});

// With a round trip, a plain TCP listener accepts and hands each delayed socket to the server.
const listener =
  roundTripMs > 0
    ? net.createServer((socket) => server.emit('connection', withRoundTrip(socket, roundTripMs)))
    : server;

process.on('message', (message) => {
  if (message?.stats) process.send({ stats });
});
listener.listen(0, '127.0.0.1', () => {
  reportReady({ port: listener.address().port });
});
exitWithParent(() => listener.close());
