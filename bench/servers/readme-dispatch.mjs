// The README's setup around the dispatch() floor (bench/servers/passport-dispatch.mjs): the same
// Express app as readme-withpersona and readme-oauth2, the state kept in the session as
// passport-oauth2's session store keeps it. What the README setup costs on undici's dispatch()
// with no library code beyond the exchange: the floor of the `readme` scenario.
import { randomBytes } from 'node:crypto';
import passport from 'passport';
import { CALLBACK_URL, SHARE_PAGE, readmeApp } from '../apps.mjs';
import { DispatchStrategy } from './passport-dispatch.mjs';

const KEY = 'floor:state';

/** `Base` (a strategy whose authenticate() exchanges req.query.code) with state in the session. */
export function withSessionState(Base) {
  return class extends Base {
    authenticate(req) {
      if (req.query.code === undefined) {
        const state = randomBytes(24).toString('base64url');
        req.session[KEY] = state;
        const url = new URL(SHARE_PAGE);
        url.searchParams.set('redirect_uri', CALLBACK_URL);
        url.searchParams.set('state', state);
        return this.redirect(url.href);
      }
      const expected = req.session[KEY];
      delete req.session[KEY];
      if (typeof expected !== 'string' || req.query.state !== expected) return this.fail(403);
      return super.authenticate(req);
    }
  };
}

export function create({ tokenBase }) {
  const strategy = new (withSessionState(DispatchStrategy))(tokenBase);
  passport.use(strategy);
  return { handler: readmeApp('dispatch'), close: () => strategy.agent.close() };
}
