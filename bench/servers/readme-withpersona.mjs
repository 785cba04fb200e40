// The README's setup: express-session (memory store) + passport.session() + passport-withpersona
// with `state: true`. A login is two requests: GET /auth/persona (creates the state in the session,
// 302 to the share page) and GET /auth/persona/callback?code=…&state=… (checks the state, exchanges
// the code, logs the user into the session, 302 to /profile).
import passport from 'passport';
import { PersonaStrategy } from '../../dist/esm/index.js';
import { API_KEY } from '../common.mjs';
import { CALLBACK_URL, SHARE_PAGE, readmeApp } from '../apps.mjs';

export function create({ tokenBase }) {
  const strategy = new PersonaStrategy({
    apiKey: API_KEY,
    baseURL: tokenBase,
    authorizationURL: SHARE_PAGE,
    callbackURL: CALLBACK_URL,
    state: true,
  });
  passport.use(strategy);
  return { handler: readmeApp('persona'), close: () => strategy.close() };
}
