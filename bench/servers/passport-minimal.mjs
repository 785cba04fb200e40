// (5) Express 5 + passport + the smallest possible strategy around (3)'s inline undici exchange.
// Not part of the default run: it measures what Passport itself costs, the floor for any strategy.
import express from 'express';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { Agent, request } from 'undici';
import { API_KEY, TOKEN_PATH, buildUser } from '../common.mjs';

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
    request(this.tokenURL, {
      method: 'POST',
      dispatcher: this.agent,
      headers: {
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: `code=${encodeURIComponent(code)}&grant-type=authorization_code`,
    })
      .then(async (answer) => {
        if (answer.statusCode < 200 || answer.statusCode > 299) {
          await answer.body.dump();
          return this.error(new Error(`token endpoint answered ${answer.statusCode}`));
        }
        const t = await answer.body.json();
        this.success(
          buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, answer.headers['request-id']),
        );
      })
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
