// Persona-style token endpoint stub for the benchmark: node:http, its own process.
//
// POST /api/v1/oauth/token answers 201 with a fixed token response (fresh access-token uuid each
// time) in kebab-case, or in snake_case when asked with `Key-Inflection: snake`: passport-oauth2
// reads only `access_token`, so it cannot use Persona's default kebab-case answer.
// It checks what a real token endpoint would (Bearer API key, form body, a code, the grant type in
// kebab or snake spelling) and answers 4xx otherwise, so a server doing the wrong exchange fails the
// run. GET /__stats returns counters the runner checks after each round.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { API_KEY, EXPIRES_IN, SCOPE, TOKEN_PATH } from './common.mjs';
import { exitWithParent, reportReady } from './child.mjs';

const stats = { exchanges: 0, kebab: 0, snake: 0, camel: 0, rejected: 0, lastRejection: null };
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

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/__stats') {
    const body = JSON.stringify(stats);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(body);
  }
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
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(0, '127.0.0.1', () => {
  reportReady({ port: server.address().port });
});
exitWithParent(() => server.close());
