// Express 5 + passport + the smallest strategy on undici's dispatch() with a plain handler: no
// request() layer, no body stream, no promise per exchange. The floor any Passport strategy on
// undici can reach; the library's CPU per login is compared against it.
import passport from 'passport';
import { Strategy } from 'passport-strategy';
import { Agent } from 'undici';
import { API_KEY, TOKEN_PATH, buildUser } from '../common.mjs';
import { callbackApp } from '../apps.mjs';

const HEADERS = [
  'authorization',
  `Bearer ${API_KEY}`,
  'content-type',
  'application/x-www-form-urlencoded',
  'accept',
  'application/json',
];

/** Collects one token response and calls `done(err, user)` once. */
class TokenHandler {
  constructor(done) {
    this.done = done;
    this.status = 0;
    this.requestId = undefined;
    this.chunks = [];
  }

  onRequestStart() {}

  onResponseStart(_controller, statusCode, headers) {
    this.status = statusCode;
    this.requestId = headers['request-id'];
  }

  onResponseData(_controller, chunk) {
    this.chunks.push(chunk);
  }

  onResponseEnd() {
    if (this.status < 200 || this.status > 299) {
      this.done(new Error(`token endpoint answered ${this.status}`));
      return;
    }
    let user;
    try {
      const t = JSON.parse(Buffer.concat(this.chunks).toString('utf8'));
      user = buildUser(t['access-token'], t['token-type'], t['expires-in'], t.scope, this.requestId);
    } catch (err) {
      this.done(err);
      return;
    }
    this.done(null, user);
  }

  onResponseError(_controller, err) {
    this.done(err);
  }
}

export class DispatchStrategy extends Strategy {
  constructor(tokenBase) {
    super();
    this.name = 'dispatch';
    this.origin = tokenBase;
    this.agent = new Agent({ keepAliveTimeout: 10_000 });
  }

  authenticate(req) {
    const code = req.query.code;
    if (typeof code !== 'string' || code === '') return this.fail(400);
    const body = `code=${encodeURIComponent(code)}&grant-type=authorization_code`;
    const done = (err, user) => (err ? this.error(err) : this.success(user));
    this.agent.dispatch(
      { origin: this.origin, path: TOKEN_PATH, method: 'POST', headers: HEADERS, body },
      new TokenHandler(done),
    );
  }
}

export function create({ tokenBase }) {
  const strategy = new DispatchStrategy(tokenBase);
  passport.use(strategy);
  return { handler: callbackApp('dispatch'), close: () => strategy.agent.close() };
}
