// (5) Express 5 + passport + the smallest possible strategy around (3)'s inline undici exchange.
// Not part of the default run: it measures what Passport itself costs, the floor for any strategy.
import express from 'express';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { Agent } from 'undici';
import { TOKEN_PATH, exchangeInline } from '../common.mjs';

class MinimalStrategy extends Strategy {
  constructor(tokenURL) {
    super();
    this.name = 'minimal';
    this.tokenURL = tokenURL;
    this.agent = new Agent({ keepAliveTimeout: 10_000 });
  }

  authenticate(req) {
    const code = req.query.code;
    if (typeof code !== 'string' || code === '') return this.fail(400);
    exchangeInline(this.agent, this.tokenURL, code)
      .then(({ user, status }) =>
        user ? this.success(user) : this.error(new Error(`token endpoint answered ${status}`)),
      )
      .catch((err) => this.error(err));
  }
}

export function create({ tokenBase }) {
  const strategy = new MinimalStrategy(`${tokenBase}${TOKEN_PATH}`);
  passport.use(strategy);
  const app = express();
  app.get('/callback', passport.authenticate('minimal', { session: false }), (req, res) => {
    res.json(req.user);
  });
  return { handler: app, close: () => strategy.agent.close() };
}
