// The README setup's floor on Node's own HTTP client: readme-dispatch with the exchange made
// through an `https.Agent({ keepAlive: true })` instead of undici. It tells how much of the
// `readme` scenario's gap to passport-oauth2 is the client's socket reuse rather than the
// library: Node's agent hands a freed socket to the next request at once.
import https from 'node:https';
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { API_KEY, TOKEN_PATH, buildUser } from '../common.mjs';
import { readmeApp } from '../apps.mjs';
import { withSessionState } from './readme-dispatch.mjs';

class HttpsExchangeStrategy extends Strategy {
  constructor(tokenBase) {
    super();
    this.name = 'https-floor';
    this.url = new URL(TOKEN_PATH, tokenBase);
    this.agent = new https.Agent({ keepAlive: true });
  }

  authenticate(req) {
    const body = `code=${encodeURIComponent(req.query.code)}&grant-type=authorization_code`;
    const headers = {
      authorization: `Bearer ${API_KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': Buffer.byteLength(body),
      accept: 'application/json',
    };
    const request = https.request(this.url, { method: 'POST', agent: this.agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        if (res.statusCode < 200 || res.statusCode > 299) {
          this.error(new Error(`token endpoint answered ${res.statusCode}`));
          return;
        }
        let user;
        try {
          const t = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          user = buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, res.headers['request-id']);
        } catch (err) {
          this.error(err);
          return;
        }
        this.success(user);
      });
    });
    request.on('error', (err) => this.error(err));
    request.end(body);
  }
}

export function create({ tokenBase }) {
  const strategy = new (withSessionState(HttpsExchangeStrategy))(tokenBase);
  passport.use(strategy);
  return { handler: readmeApp('https-floor'), close: () => strategy.agent.destroy() };
}
