// Bare node:http with the code exchange inline with undici: the limit without a framework.
import { Agent } from 'undici';
import { TOKEN_PATH, codeFromUrl, exchangeInline } from '../common.mjs';

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
    const { user } = await exchangeInline(agent, tokenURL, code);
    if (!user) return send(res, 502, { error: 'token_exchange_failed' });
    send(res, 200, user);
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
