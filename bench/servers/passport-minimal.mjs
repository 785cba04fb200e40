// Express 5 + passport + the smallest strategy around express-inline's undici exchange
// (request() and body.json()): Passport's own cost on top of that exchange. The dispatch() floor
// (passport-dispatch.mjs) shows what undici's request() layer adds.
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { Agent } from 'undici';
import { TOKEN_PATH, exchangeInline } from '../common.mjs';
import { callbackApp } from '../apps.mjs';

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
  return { handler: callbackApp('minimal'), close: () => strategy.agent.close() };
}
