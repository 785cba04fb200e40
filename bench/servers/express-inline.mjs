// (3) Express 5 with the code exchange written inline with undici, no Passport: the Express limit.
import express from 'express';
import { Agent, request } from 'undici';
import { API_KEY, TOKEN_PATH, buildUser } from '../common.mjs';

export function create({ tokenBase }) {
  const tokenURL = `${tokenBase}${TOKEN_PATH}`;
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const app = express();
  app.get('/callback', async (req, res) => {
    const code = req.query.code;
    if (typeof code !== 'string' || code === '') {
      res.status(400).json({ error: 'invalid_request' });
      return;
    }
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
      res.status(502).json({ error: 'token_exchange_failed' });
      return;
    }
    const t = await answer.body.json();
    const requestId = answer.headers['request-id'];
    res.json(buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, requestId));
  });
  return { handler: app, close: () => agent.close() };
}
