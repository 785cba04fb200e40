// The README's setup done with passport-oauth2: the same Express app (bench/apps.mjs) around
// OAuth2Strategy with `state: true` (its session state store), the same two requests per login.
import passport from 'passport';
import OAuth2Strategy from 'passport-oauth2';
import { oauth2Options, oauth2Verify } from '../common.mjs';
import { CALLBACK_URL, SHARE_PAGE, readmeApp } from '../apps.mjs';

export function create({ tokenBase }) {
  const options = oauth2Options(tokenBase, { authorizationURL: SHARE_PAGE, callbackURL: CALLBACK_URL, state: true });
  passport.use('persona-oauth2', new OAuth2Strategy(options, oauth2Verify));
  return { handler: readmeApp('persona-oauth2'), close() {} };
}
