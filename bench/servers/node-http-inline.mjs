// (4) Bare node:http with the code exchange inline with undici: the limit without a framework.
import { Agent, request } from 'undici';
import { API_KEY, TOKEN_PATH, buildUser, codeFromUrl } from '../common.mjs';

function send(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function create({ tokenBase }) {
  const tokenURL = `${tokenBase}${TOKEN_PATH}`;
  const agent = new Agent({ keepAliveTimeout: 10_000 });

  async function callback(req, res) {
    const code = codeFromUrl(req.url);
    if (!code) return send(res, 400, { error: 'invalid_request' });
    const answer = await request(tokenURL, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: `code=${encodeURIComponent(code)}&grant-type=authorization_code`,
    });
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      await answer.body.dump();
      return send(res, 502, { error: 'token_exchange_failed' });
    }
    const t = await answer.body.json();
    const requestId = answer.headers['request-id'];
    send(res, 200, buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, requestId));
  }

  function handler(req, res) {
    if (req.method !== 'GET' || !(req.url === '/callback' || req.url.startsWith('/callback?'))) {
      return send(res, 404, { error: 'not_found' });
    }
    callback(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: 'internal', message: String(err?.message) });
      else res.destroy();
    });
  }
  return { handler, close: () => agent.close() };
}
