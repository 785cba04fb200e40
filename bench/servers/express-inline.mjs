// Express 5 with the code exchange written inline with undici, no Passport: the Express limit.
import express from 'express';
import { Agent } from 'undici';
import { TOKEN_PATH, exchangeInline } from '../common.mjs';

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
    const { user } = await exchangeInline(agent, tokenURL, code);
    if (!user) {
      res.status(502).json({ error: 'token_exchange_failed' });
      return;
    }
    res.json(user);
  });
  return { handler: app, close: () => agent.close() };
}
